"""Hostile and damaged chunks in Chromium, with chunk workers on and off: a zstd frame that states no
content size cannot inflate past the chunk's size, zstd frame checksums and crc32c (2 MiB chunks,
written by zarr-python 3 and tensorstore) catch a flipped byte, and crc32c is fast in Pyodide."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from cases import SUMMARY_JS, expected
from pages import zarrlite_page
from writers import make_data, ts_zarr3, zarr_python

ZSTD_MAGIC = struct.pack("<I", 0xFD2FB528)
SHAPE, CHUNKS = (2, 256, 256), (1, 256, 256)
CHUNK_BYTES = 256 * 256 * 2          # what one uint16 chunk decodes to: the codec's limit
WORKERS = [0, 2]

# A Zarrlite of its own per chunk-worker count, kept on the page.
START_JS = """async n => {
  const { Zarrlite } = await import("./zarrlite.js");
  window.safety ??= {};
  window.safety[n] ??= await Zarrlite.create({ chunkWorkers: n });
  return window.safety[n].stats();
}"""
READ_JS = f"""async ({{n, url, selection}}) => {{
  const zl = window.safety[n];
  await zl.open(url);
  return ({SUMMARY_JS})(await zl.read("", selection));
}}"""
# The error of a read (null when it succeeds) and how long the read took, the open not counted.
ERROR_JS = """async ({n, url, selection}) => {
  const zl = window.safety[n];
  await zl.open(url);
  const t0 = performance.now();
  try { await zl.read("", selection); return {error: null, ms: performance.now() - t0}; }
  catch (e) { return {error: `${e.name}: ${e.message}`, ms: performance.now() - t0}; }
}"""
STATS_JS = "async n => window.safety[n].stats()"


@pytest.fixture(scope="module")
def safety_page(browser, server, outside_requests):
    """A page of its own: a test that fails (today's decompression bomb) must not spoil the shared one."""
    ctx, pg = zarrlite_page(browser, server, outside_requests, timeout=90_000)
    yield pg
    ctx.close()
    assert not outside_requests, f"requests left the machine: {outside_requests}"


def _zstd_array(root, *, checksum=False, seed=11):
    from zarr.codecs import ZstdCodec

    data = make_data(SHAPE, "<u2", seed=seed)  # random: zstd stores its blocks raw
    return zarr_python(root, data, zarr_format=3, chunks=CHUNKS, compressors=[ZstdCodec(level=1, checksum=checksum)])


@pytest.fixture(scope="module")
def pools(safety_page, server):
    """Zarrlites with 0 and 2 chunk workers; the latter once its workers decode (a 128 KiB zstd chunk is
    theirs from then on)."""
    root = server.data / "safety-warmup.zarr"
    if not root.exists():
        _zstd_array(root)
    for n in WORKERS:
        safety_page.evaluate(START_JS, n)
    url = f"{server.url}/data/safety-warmup.zarr"
    for _ in range(60):
        safety_page.evaluate(READ_JS, {"n": 2, "url": url, "selection": "1,:,:"})
        if safety_page.evaluate(STATS_JS, 2)["decode"]["workers"]:
            return WORKERS
        safety_page.wait_for_timeout(250)
    pytest.fail("the chunk workers never decoded")


# ------------------------------------------------------------------------------------------- zstd frames

def _frame_header(frame: bytes):
    """(descriptor, header end, window byte or None) of a zstd frame (RFC 8878, 3.1.1.1)."""
    assert frame[:4] == ZSTD_MAGIC
    desc = frame[4]
    single = (desc >> 5) & 1
    pos = 5 + (0 if single else 1)
    pos += (0, 1, 2, 4)[desc & 3]
    pos += (1 if single else 0, 2, 4, 8)[desc >> 6]
    return desc, pos, None if single else frame[5]


def without_content_size(frame: bytes) -> bytes:
    """The same frame with no Frame_Content_Size (as a streaming writer leaves it): the blocks and the
    checksum stay, a window descriptor of 512 KiB (enough for a 128 KiB chunk) replaces the single segment."""
    desc, end, window = _frame_header(frame)
    return ZSTD_MAGIC + bytes([desc & 0x07, 0x48 if window is None else window]) + frame[end:]


def first_block(frame: bytes) -> tuple[int, int]:
    """(offset of the first block's data, its type: 0 raw, 1 RLE, 2 compressed)."""
    _, end, _ = _frame_header(frame)
    header = int.from_bytes(frame[end:end + 3], "little")
    return end + 3, (header >> 1) & 3


def bomb_without_content_size(total: int) -> bytes:
    """A zstd frame stating no content size: one raw block of 70,000 bytes (so that the frame, at ~100 KiB,
    is large enough for a chunk worker), then RLE blocks of 128 KiB until `total` bytes."""
    raw = np.random.default_rng(4).integers(0, 256, 70_000, dtype=np.uint8).tobytes()
    rle = lambda n, last: ((1 if last else 0) | (1 << 1) | (n << 3)).to_bytes(3, "little") + b"\x00"
    full, rest = divmod(total - len(raw), 1 << 17)
    assert rest and full
    return (ZSTD_MAGIC + bytes([0x00, 0x58]) + (len(raw) << 3).to_bytes(3, "little") + raw
            + rle(1 << 17, False) * full + rle(rest, True))


BOMBS = {"1 GiB": (1 << 30) + 1, "512 GiB in 16 MB of blocks": (512 << 30) + 1}


@pytest.fixture(scope="module")
def bombs(server):
    urls = {}
    for name, total in BOMBS.items():
        root = server.data / f"safety-bomb-{total}.zarr"
        if not root.exists():
            _zstd_array(root)
            (root / "c" / "1" / "0" / "0").write_bytes(bomb_without_content_size(total))
        urls[name] = f"{server.url}/data/safety-bomb-{total}.zarr"
    return urls


@pytest.mark.parametrize("n", WORKERS, ids=lambda n: f"{n} chunk workers")
@pytest.mark.parametrize("bomb", list(BOMBS))
def test_a_zstd_bomb_without_a_content_size_fails_fast_naming_the_limit(safety_page, pools, bombs, bomb, n):
    got = safety_page.evaluate(ERROR_JS, {"n": n, "url": bombs[bomb], "selection": "1,:,:"})
    assert got["error"] is not None, got
    assert got["error"].startswith("CodecError") and "zstd" in got["error"], got
    assert str(CHUNK_BYTES) in got["error"] and "(1, 0, 0)" in got["error"], got
    # refused from its first block headers, not after inflating a GiB (3.8 s, 9.1 s on chunk workers
    # before), nor after reading all of the 4 million block headers of the larger one
    assert got["ms"] < 1000, got


DECODE_JS = """async ({name, bytes, limit}) => {
  const codecs = await import("./codecs.js");
  try { return {length: (await codecs.decode(name, new Uint8Array(bytes), limit)).length}; }
  catch (e) { return {error: e.message}; }
}"""


@pytest.mark.parametrize("name", ["zstd", "lz4", "blosc"])
def test_codecs_js_hands_back_nothing_past_the_limit(safety_page, name):
    """The WASM decoders of codecs.js (what a chunk worker runs) refuse output past `limit` themselves."""
    import numcodecs

    frames = {"zstd": bomb_without_content_size(1 << 20), "lz4": numcodecs.LZ4().encode(bytes(1 << 20)),
              "blosc": numcodecs.Blosc().encode(bytes(1 << 20))}
    args = {"name": name, "bytes": list(bytes(frames[name])), "limit": 100_000}
    assert safety_page.evaluate(DECODE_JS, {**args, "limit": 1 << 20}) == {"length": 1 << 20}
    got = safety_page.evaluate(DECODE_JS, args)
    assert "100000" in got.get("error", ""), got


@pytest.fixture(scope="module")
def checksummed(server):
    """Four zarr-python 3 arrays (zstd with checksum=True): chunk (1, 0, 0) kept, rewritten without its
    content size, and each of those with one data byte flipped in its first (raw) block."""
    urls = {}
    for sized in (True, False):
        for flipped in (False, True):
            name = f"safety-checksum-{'sized' if sized else 'unsized'}-{'flipped' if flipped else 'intact'}.zarr"
            root = server.data / name
            truth = _zstd_array(root, checksum=True)
            key = root / "c" / "1" / "0" / "0"
            frame = key.read_bytes()
            assert frame[4] & 0x04, "zarr-python wrote no checksum"
            if not sized:
                frame = without_content_size(frame)
            if flipped:
                at, kind = first_block(frame)
                assert kind == 0, "the first block is not raw: a flipped byte would not test the checksum"
                frame = bytearray(frame)
                frame[at + 1000] ^= 0x01
                frame = bytes(frame)
            key.write_bytes(frame)
            urls[sized, flipped] = (f"{server.url}/data/{name}", truth)
    return urls


@pytest.mark.parametrize("n", WORKERS, ids=lambda n: f"{n} chunk workers")
@pytest.mark.parametrize("sized", [True, False], ids=["with content size", "without content size"])
def test_a_zstd_frame_with_a_checksum_reads_exactly(safety_page, pools, checksummed, sized, n):
    url, truth = checksummed[sized, False]
    for sel, text in [((Ellipsis,), "..."), ((1, slice(3, 250, 7), slice(None)), "1,3:250:7,:")]:
        assert safety_page.evaluate(READ_JS, {"n": n, "url": url, "selection": text}) == expected(truth, sel), text


@pytest.mark.parametrize("n", WORKERS, ids=lambda n: f"{n} chunk workers")
@pytest.mark.parametrize("sized", [True, False], ids=["with content size", "without content size"])
def test_a_flipped_byte_under_a_zstd_checksum_is_an_error(safety_page, pools, checksummed, sized, n):
    url, _ = checksummed[sized, True]
    got = safety_page.evaluate(ERROR_JS, {"n": n, "url": url, "selection": "1,:,:"})
    assert got["error"] is not None, "a flipped byte read as data"
    assert got["error"].startswith("CodecError") and "checksum" in got["error"], got
    assert "(1, 0, 0)" in got["error"], got


# ------------------------------------------------------------------------------------------------ crc32c

BIG, BIG_CHUNKS = (2048, 2048), (1024, 1024)   # four uint16 chunks of 2 MiB
CRC32C_WRITERS = {
    "zarr-python": lambda root, data: zarr_python(root, data, zarr_format=3, chunks=BIG_CHUNKS,
                                                  compressors=[{"name": "crc32c"}]),
    "tensorstore": lambda root, data: ts_zarr3(root, data, chunks=BIG_CHUNKS, data_type="uint16",
                                               codecs=[{"name": "bytes"}, {"name": "crc32c"}]),
}


@pytest.fixture(scope="module")
def crc32c_arrays(server):
    out = {}
    for writer, write in CRC32C_WRITERS.items():
        for flipped in (False, True):
            name = f"safety-crc32c-{writer}-{'flipped' if flipped else 'intact'}.zarr"
            root = server.data / name
            truth = write(root, make_data(BIG, "uint16", seed=3))
            if flipped:
                key = root / "c" / "1" / "0"
                raw = bytearray(key.read_bytes())
                assert len(raw) == (2 << 20) + 4
                raw[len(raw) // 2] ^= 0x10
                key.write_bytes(bytes(raw))
            out[writer, flipped] = (f"{server.url}/data/{name}", truth)
    return out


@pytest.mark.parametrize("writer", list(CRC32C_WRITERS))
def test_crc32c_chunks_of_2_mib_read_exactly(safety_page, pools, crc32c_arrays, writer):
    url, truth = crc32c_arrays[writer, False]
    for sel, text in [((Ellipsis,), "..."), ((slice(1000, 1100), slice(None, None, 9)), "1000:1100,::9")]:
        assert safety_page.evaluate(READ_JS, {"n": 0, "url": url, "selection": text}) == expected(truth, sel), text


@pytest.mark.parametrize("writer", list(CRC32C_WRITERS))
def test_a_flipped_byte_in_a_2_mib_crc32c_chunk_is_an_error(safety_page, pools, crc32c_arrays, writer):
    url, _ = crc32c_arrays[writer, True]
    got = safety_page.evaluate(ERROR_JS, {"n": 0, "url": url, "selection": "1500,:"})
    assert got["error"] is not None, "a flipped byte read as data"
    assert "crc32c checksum mismatch" in got["error"] and "(1, 0)" in got["error"], got


# The crc32c the codec uses in the zarrlite worker (reached through the debugger handle `self.pyodide`,
# as tests/browser/test_dead_worker.py does), timed there on 2 MiB (best of 7: contention only slows a
# run down), next to the vectorised numpy fallback.
CRC32C_SPEED_PY = """
import time, numpy as np
from zarrlite.codecs import crc32c as c

data = np.random.default_rng(1).integers(0, 256, 2 << 20, dtype=np.uint8).tobytes()
def best(f):
    f(data[:4096])
    times = []
    for _ in range(7):
        t = time.perf_counter(); value = f(memoryview(data)); times.append(time.perf_counter() - t)
    return value, (len(data) / 2**20) / min(times)
[best(c.crc32c), best(c.crc32c_numpy)]
"""


def test_crc32c_in_the_worker_is_right_and_fast(safety_page, pools, capsys):
    import crc32c

    truth = crc32c.crc32c(np.random.default_rng(1).integers(0, 256, 2 << 20, dtype=np.uint8).tobytes())
    worker = next(w for w in safety_page.workers if w.url.endswith("/worker.js"))
    (used, used_speed), (fallback, fallback_speed) = worker.evaluate(
        "code => self.pyodide.runPython(code).toJs()", CRC32C_SPEED_PY)
    with capsys.disabled():
        print(f"\ncrc32c of 2 MiB in the worker: the codec's {used_speed:.0f} MiB/s, numpy {fallback_speed:.0f} MiB/s")
    assert used == truth and fallback == truth
    # the WASM one (~800 MiB/s here), not numpy (~100-250 MiB/s: 8-20 ms per 2 MiB chunk)
    assert used_speed > max(300, 2 * fallback_speed), f"{used_speed:.0f} MiB/s"

"""Chunk workers (web/chunk-pool.js) fetch chunks and decode the large compressed ones: reads through
them match numpy bit for bit, and what fails there is reported like anything else."""

from __future__ import annotations

import shutil
import struct

import numcodecs
import pytest
from cases import SUMMARY_JS, expected
from writers import make_data, ts_n5, zarr_python

SHAPE = (3, 192, 512)
CHUNKS = (1, 192, 256)  # 96 KiB of random u2 per chunk: above the pool's 64 KiB inline limit

# A Zarrlite of its own per worker count (two whatever the machine's core count), kept on window.
START_JS = """async n => {
  const { Zarrlite } = await import("./zarrlite.js");
  window.pooled ??= {};
  window.pooled[n] ??= await Zarrlite.create({ chunkWorkers: n });
  return window.pooled[n].stats();
}"""

READ_JS = f"""async ({{n, url, selection}}) => {{
  const zl = window.pooled[n];
  await zl.open(url);
  return ({SUMMARY_JS})(await zl.read("", selection));
}}"""

ERROR_JS = """async ({n, url, selection}) => {
  const zl = window.pooled[n];
  try { await zl.open(url); await zl.read("", selection); return null; } catch (e) { return `${e.name}: ${e.message}`; }
}"""

STATS_JS = "async n => window.pooled[n].stats()"


def _zp3(compressor):
    from zarr.codecs import BloscCodec, ZstdCodec

    v3 = {"zstd": lambda: ZstdCodec(level=3), "blosc": lambda: BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")}

    def write(root, dtype):
        data = make_data(SHAPE, dtype, seed=5)
        if isinstance(compressor, str):
            return zarr_python(root, data, zarr_format=3, chunks=CHUNKS, compressors=[v3[compressor]()])
        return zarr_python(root, data, zarr_format=2, chunks=CHUNKS, compressors=compressor)
    return write


def _n5_xz(root, dtype):
    data = make_data(SHAPE[::-1], dtype, seed=6)
    return ts_n5(root, data, block_size=CHUNKS[::-1], data_type="uint16", compression={"type": "xz"})


CASES = {
    "v3-zstd": (_zp3("zstd"), "<u2"),
    "v3-blosc-lz4": (_zp3("blosc"), "<u2"),
    "v2-lz4": (_zp3(numcodecs.LZ4()), "<u2"),
    "v2-blosc-zstd-bitshuffle-bigendian": (_zp3(numcodecs.Blosc("zstd", 5, numcodecs.Blosc.BITSHUFFLE)), ">u2"),
    "v2-lzma": (_zp3(numcodecs.LZMA()), "<u2"),
    "n5-xz": (_n5_xz, "<u2"),
    "v2-gzip": (_zp3(numcodecs.GZip(level=5)), "<u2"),  # fetched there, decoded by Python's zlib
}
WASM_CASES = len(CASES) - 1
HELD_CASES = ("v3-zstd", "v3-blosc-lz4", "v2-lz4", "v2-blosc-zstd-bitshuffle-bigendian")
CHUNK_COUNT = 6


@pytest.fixture(scope="module")
def arrays(server):
    return {name: write(server.data / f"pool-{name}", dtype) for name, (write, dtype) in CASES.items()}


def _read_all(page, server, arrays, n):
    for name, truth in arrays.items():
        for sel, text in [((Ellipsis,), "..."), ((1, slice(10, 150), slice(100, 500, 3)), "1,10:150,100:500:3")]:
            got = page.evaluate(READ_JS, {"n": n, "url": f"{server.url}/data/pool-{name}", "selection": text})
            assert got == expected(truth, sel), (name, text, n)


def test_reads_through_chunk_workers_match_numpy(shared_page, server, arrays):
    assert shared_page.evaluate(START_JS, 2)["workers"] == 0  # started by the first read
    # The workers take over once they have started (until then the zarrlite worker does the work):
    # read until they have had a whole round, a bounded number of times.
    before = shared_page.evaluate(STATS_JS, 2)
    for _ in range(20):
        _read_all(shared_page, server, arrays, 2)
        stats = shared_page.evaluate(STATS_JS, 2)
        if (stats["decode"]["workers"] - before["decode"]["workers"] >= WASM_CASES * CHUNK_COUNT
                and stats["fetch"]["workers"] - before["fetch"]["workers"] >= len(CASES) * CHUNK_COUNT):
            break
        before = stats
        shared_page.wait_for_timeout(250)
    else:
        pytest.fail(f"the chunk workers never took a whole round of reads: {stats}")
    assert stats["workers"] == 2
    # blosc, zstd and lz4 chunks of 64 KiB or more stay on the chunk worker that fetched them, and are
    # decoded there (a round reads every chunk, then those of plane 1 again, each from a fresh open)
    before = stats
    _read_all(shared_page, server, arrays, 2)
    stats = shared_page.evaluate(STATS_JS, 2)
    large = [_plane_of(c, root) for name in HELD_CASES for root in [server.data / f"pool-{name}"]
             for c in root.rglob("*") if c.is_file() and c.stat().st_size >= 64 << 10]
    want = len(large) + large.count(1)
    assert large and stats["fetch"]["held"] - before["fetch"]["held"] == want, (before, stats)


def _plane_of(chunk, root) -> int:
    """The first grid coordinate of a chunk file: c/1/0/0 (v3) or 1.0.0 (v2)."""
    parts = chunk.relative_to(root).parts
    return int(parts[1]) if parts[0] == "c" else int(parts[0].split(".")[0])


# Chunks whose header states more than the chunk decodes to (1 GiB), refused from the header, before any
# decoding: the one header byte-layout each, then the rest of the chunk (96 KiB, so a chunk worker holds it)
BOMB_HEADERS = {
    "v3-zstd": lambda n: struct.pack("<IB", 0xFD2FB528, 0xE0) + struct.pack("<Q", 1 << 30),  # single segment, 8-byte size
    "v3-blosc-lz4": lambda n: bytes([2, 1, 2, 2]) + struct.pack("<III", 1 << 30, 1 << 16, n),
    "v2-lz4": lambda n: struct.pack("<I", 1 << 30),
}


@pytest.mark.parametrize("case", list(BOMB_HEADERS))
def test_a_header_stating_too_much_is_refused_before_decoding(shared_page, server, arrays, ready_pool, case):
    root = server.data / f"pool-bomb-{case}"
    if not root.exists():
        shutil.copytree(server.data / f"pool-{case}", root)
        chunk = next(p for p in sorted(root.rglob("*")) if p.is_file() and p.stat().st_size > 64 << 10)
        size = chunk.stat().st_size
        head = BOMB_HEADERS[case](size)
        chunk.write_bytes(head + chunk.read_bytes()[len(head):])
    before = shared_page.evaluate(STATS_JS, 2)
    err = shared_page.evaluate(ERROR_JS, {"n": 2, "url": f"{server.url}/data/pool-bomb-{case}", "selection": "..."})
    assert err is not None and err.startswith("CodecError"), err
    assert f"header announces {1 << 30} decoded bytes, more than the expected {192 * 256 * 2}" in err, err
    assert shared_page.evaluate(STATS_JS, 2)["fetch"]["held"] > before["fetch"]["held"]  # judged from the head


FIRST_IMAGE_CALLS_JS = """async url => {
  const { Zarrlite } = await import("./zarrlite.js");
  const zl = await Zarrlite.create({ chunkWorkers: 2 });
  try {
    // what the viewer asks before its first read: none of it returns pixels
    await zl.viewer("colormaps");
    await zl.open(url);
    await zl.viewer("image", [""]).catch(() => null);
    const before = (await zl.stats()).workers;
    await zl.read("", "0,0:8,0:8");
    return { before, after: (await zl.stats()).workers };
  } finally {
    zl.close();
  }
}"""


def test_chunk_workers_start_at_the_first_read_not_before(shared_page, server, arrays):
    # starting them takes the CPU that opening the source and the first reads need (2 cores)
    got = shared_page.evaluate(FIRST_IMAGE_CALLS_JS, f"{server.url}/data/pool-v3-zstd")
    assert got == {"before": 0, "after": 2}


def test_without_chunk_workers_the_worker_does_it_all(shared_page, server, arrays):
    assert shared_page.evaluate(START_JS, 0)["workers"] == 0
    _read_all(shared_page, server, arrays, 0)
    stats = shared_page.evaluate(STATS_JS, 0)
    assert stats["fetch"]["workers"] == 0 and stats["decode"]["workers"] == 0, stats
    assert stats["fetch"]["inline"] > 0 and stats["decode"]["inline"] > 0, stats


@pytest.fixture(scope="module")
def ready_pool(shared_page, server, arrays):
    """The two-worker Zarrlite, once its chunk workers fetch."""
    shared_page.evaluate(START_JS, 2)
    for _ in range(40):
        shared_page.evaluate(READ_JS, {"n": 2, "url": f"{server.url}/data/pool-v3-zstd", "selection": "0,0,0"})
        if shared_page.evaluate(STATS_JS, 2)["fetch"]["workers"]:
            return
        shared_page.wait_for_timeout(250)
    pytest.fail("the chunk workers never started")


def test_a_corrupt_chunk_names_codec_and_chunk(shared_page, server, ready_pool):
    root = server.data / "pool-corrupt.zarr"
    if not root.exists():
        _zp3("zstd")(root, "<u2")
        chunk = root / "c" / "1" / "0" / "1"
        chunk.write_bytes(chunk.read_bytes()[:4] + bytes(100_000))  # zstd magic, then garbage
    err = shared_page.evaluate(ERROR_JS, {"n": 2, "url": f"{server.url}/data/pool-corrupt.zarr", "selection": "1,:,:"})
    assert err is not None and "zstd" in err and "(1, 0, 1)" in err, err


def test_a_truncated_chunk_decoded_where_it_is_held_names_codec_and_chunk(shared_page, server, ready_pool):
    root = server.data / "pool-truncated.zarr"
    if not root.exists():
        _zp3("zstd")(root, "<u2")
        chunk = root / "c" / "2" / "0" / "0"
        chunk.write_bytes(chunk.read_bytes()[:90_000])  # its header (size stated) intact: held, then decoded
    before = shared_page.evaluate(STATS_JS, 2)
    err = shared_page.evaluate(ERROR_JS, {"n": 2, "url": f"{server.url}/data/pool-truncated.zarr", "selection": "2"})
    assert err is not None and err.startswith("CodecError") and "zstd" in err and "(2, 0, 0)" in err, err
    assert shared_page.evaluate(STATS_JS, 2)["fetch"]["held"] > before["fetch"]["held"]


def test_cors_failure_on_a_chunk_worker_names_the_headers(shared_page, nocors_server, arrays, ready_pool):
    err = shared_page.evaluate(ERROR_JS, {"n": 2, "url": f"{nocors_server.url}/data/pool-v3-zstd",
                                          "selection": "0,:,:"})
    assert err is not None and "Access-Control-Allow-Origin" in err, err

"""Large compressed chunks decode on decoder workers (web/codec-pool.js), bit for bit as numpy, and
a chunk that fails there is reported like any other."""

from __future__ import annotations

import numcodecs
import pytest
from cases import SUMMARY_JS, expected
from writers import make_data, ts_n5, zarr_python

SHAPE = (3, 192, 512)
CHUNKS = (1, 192, 256)  # 96 KiB of random u2 per chunk: above the pool's 64 KiB inline limit

# A Zarrlite of its own, with two decoders whatever the machine's core count, kept on window.
START_JS = """async decoders => {
  const { Zarrlite } = await import("./zarrlite.js");
  window.pooled ??= {};
  window.pooled[decoders] ??= await Zarrlite.create({ decoders });
  return (await window.pooled[decoders].stats()).decoding;
}"""

READ_JS = f"""async ({{decoders, url, selection}}) => {{
  const zl = window.pooled[decoders];
  await zl.open(url);
  return ({SUMMARY_JS})(await zl.read("", selection));
}}"""

STATS_JS = "async decoders => (await window.pooled[decoders].stats()).decoding"


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
}


@pytest.fixture(scope="module")
def arrays(server):
    return {name: write(server.data / f"pool-{name}", dtype) for name, (write, dtype) in CASES.items()}


def _read_all(page, server, arrays, decoders):
    for name, truth in arrays.items():
        for sel, text in [((Ellipsis,), "..."), ((1, slice(10, 150), slice(100, 500, 3)), "1,10:150,100:500:3")]:
            got = page.evaluate(READ_JS, {"decoders": decoders, "url": f"{server.url}/data/pool-{name}",
                                          "selection": text})
            assert got == expected(truth, sel), (name, text, decoders)


def test_large_chunks_decode_on_decoder_workers(shared_page, server, arrays):
    assert shared_page.evaluate(START_JS, 2)["decoders"] == 2
    # The decoders take large chunks once they have started (until then the worker decodes them
    # itself): read until they have taken some, a bounded number of times.
    for _ in range(20):
        _read_all(shared_page, server, arrays, 2)
        if shared_page.evaluate(STATS_JS, 2)["workers"] >= len(arrays) * 6:
            break
        shared_page.wait_for_timeout(250)
    stats = shared_page.evaluate(STATS_JS, 2)
    assert stats["workers"] >= len(arrays) * 6, stats


def test_without_decoders_the_worker_decodes(shared_page, server, arrays):
    assert shared_page.evaluate(START_JS, 0)["decoders"] == 0
    _read_all(shared_page, server, arrays, 0)
    stats = shared_page.evaluate(STATS_JS, 0)
    assert stats["workers"] == 0 and stats["inline"] > 0, stats


def test_a_corrupt_chunk_on_a_decoder_names_codec_and_chunk(shared_page, server, arrays):
    root = server.data / "pool-corrupt.zarr"
    if not root.exists():
        _zp3("zstd")(root, "<u2")
        chunk = root / "c" / "1" / "0" / "1"
        chunk.write_bytes(chunk.read_bytes()[:4] + bytes(100_000))  # zstd magic, then garbage
    shared_page.evaluate(START_JS, 2)
    shared_page.wait_for_function("async () => (await window.pooled[2].stats()).decoding.workers > 0")
    err = shared_page.evaluate("""async url => {
      const zl = window.pooled[2];
      await zl.open(url);
      try { await zl.read("", "1,:,:"); return null; } catch (e) { return e.name + ": " + e.message; }
    }""", f"{server.url}/data/pool-corrupt.zarr")
    assert err is not None and "zstd" in err and "(1, 0, 1)" in err, err

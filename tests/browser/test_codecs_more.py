"""In Chromium, through the JS API: the numcodecs checksums (fletcher32, adler32, crc32, crc32c at the
start) verified in the browser runtime too, a corrupt chunk refused by name; bitround and packbits; pcodec
and zfpy refused with the reason (no WASM build of them); sharding with a transposed index; rectilinear
chunk grids written by zarr-python >= 3.2. Values equal to what the writers read back."""

from __future__ import annotations

import lzma

import numcodecs
import numpy as np
import pytest
import zarr
import zarr.codecs.numcodecs as zn
from cases import SUMMARY_JS, expected
from writers import make_data, smooth_data, ts_zarr3, zarr32_python, zarr_python

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SHAPE, CHUNKS = (23, 37), (8, 10)

READ_JS = f"""async ({{url, selection}}) => {{
  const zl = await window.zarrlite;
  try {{
    await zl.open(url);
    return ({SUMMARY_JS})(await zl.read("", selection));
  }} catch (e) {{ return {{error: `${{e.name}}: ${{e.message}}`}}; }}
}}"""

CHECKSUMS = {
    "fletcher32-v2": dict(zarr_format=2, compressors=numcodecs.Fletcher32()),
    "adler32-v2-filter": dict(zarr_format=2, filters=[numcodecs.Delta("<u2"), numcodecs.Adler32()], compressors=None),
    "crc32-v3": dict(zarr_format=3, compressors=[zn.CRC32()]),
    "crc32c-start-v3": dict(zarr_format=3, compressors=[zn.CRC32C(location="start")]),
    "fletcher32-v3": dict(zarr_format=3, compressors=[zn.Zstd(level=1), zn.Fletcher32()]),
}


def read(page, server, name, selection="..."):
    return page.evaluate(READ_JS, {"url": f"{server.url}/data/{name}", "selection": selection})


@pytest.mark.parametrize("name", list(CHECKSUMS))
def test_checksums_verified_in_the_browser(shared_page, server, name):
    root = server.data / name
    truth = zarr_python(root, make_data(SHAPE, "<u2", seed=3), chunks=CHUNKS, **CHECKSUMS[name])
    assert read(shared_page, server, name) == expected(truth, ...)
    key = "1.2" if CHECKSUMS[name]["zarr_format"] == 2 else "c/1/2"
    chunk = bytearray((root / key).read_bytes())
    chunk[len(chunk) // 2] ^= 0x04
    bad = server.data / f"{name}-corrupt"
    zarr_python(bad, make_data(SHAPE, "<u2", seed=3), chunks=CHUNKS, **CHECKSUMS[name])
    (bad / key).write_bytes(bytes(chunk))
    err = read(shared_page, server, f"{name}-corrupt")["error"]
    assert "(1, 2)" in err and "checksum mismatch" in err, err
    assert read(shared_page, server, f"{name}-corrupt", "0:8,0:20") == expected(truth, (slice(0, 8), slice(0, 20)))


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_bitround_and_packbits(shared_page, server, zarr_format):
    f = zarr_format
    data = make_data(SHAPE, "<f4", specials=False)
    zarr_python(server.data / f"bitround-{f}", data, chunks=CHUNKS, zarr_format=f,
                filters=[numcodecs.BitRound(7) if f == 2 else zn.BitRound(keepbits=7)])
    rounded = zarr.open_array(str(server.data / f"bitround-{f}"), mode="r")[...]   # what the writer reads back
    assert not np.array_equal(rounded, data)
    assert read(shared_page, server, f"bitround-{f}") == expected(rounded, ...)
    bits = zarr_python(server.data / f"packbits-{f}", make_data(SHAPE, "bool"), chunks=CHUNKS, zarr_format=f,
                       compressors=None, filters=[numcodecs.PackBits() if f == 2 else zn.PackBits()])
    assert read(shared_page, server, f"packbits-{f}") == expected(bits, ...)


@pytest.mark.parametrize("codec", ["pcodec", "zfpy"])
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_codecs_without_a_browser_build_say_so(shared_page, server, codec, zarr_format):
    name = f"{codec}-{zarr_format}"
    v2, v3 = {"pcodec": (numcodecs.PCodec(), zn.PCodec()), "zfpy": (numcodecs.ZFPY(), zn.ZFPY())}[codec]
    kwargs = {"compressors": v2} if zarr_format == 2 else {"serializer": v3, "compressors": None}
    zarr_python(server.data / name, smooth_data(SHAPE, "<f8"), chunks=CHUNKS, zarr_format=zarr_format, **kwargs)
    err = read(shared_page, server, name)["error"]
    assert codec in err and "not in the browser runtime" in err, err


def test_sharding_with_a_transposed_index(shared_page, server):
    data = make_data((40, 60), "<i4", seed=5)
    codecs = [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [5, 10], "index_location": "start",
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd"}],
        "index_codecs": [{"name": "transpose", "configuration": {"order": [1, 0, 2]}},
                         {"name": "bytes", "configuration": {"endian": "big"}}, {"name": "crc32c"}]}}]
    truth = ts_zarr3(server.data / "shard-transposed-index", data, chunks=(20, 30), data_type="int32",
                     codecs=codecs)
    for sel, text in [((Ellipsis,), "..."), ((slice(3, 33, 2), 17), "3:33:2,17")]:
        assert read(shared_page, server, "shard-transposed-index", text) == expected(truth, sel)


@pytest.mark.parametrize("sharded", [False, True])
def test_rectilinear_grid(shared_page, server, sharded):
    name = f"rectilinear-{'sharded' if sharded else 'plain'}"
    data = make_data((30, 41), "<u2", seed=6)
    if sharded:
        truth = zarr32_python(server.data / name, data[:, :36], chunks=[5, 6], shards=[[10, 20], [12, 24]])
    else:
        truth = zarr32_python(server.data / name, data, chunks=[[5, 5, 10, 3, 7], [1, 4, 4, 4, 12, 16]],
                              fill_value=9, regions=[[[0, 20], [0, 41]]])
    for sel, text in [((Ellipsis,), "..."), ((slice(2, 29, 3), slice(None, None, -5)), "2:29:3,::-5"),
                      ((21, slice(None)), "21,:")]:
        assert read(shared_page, server, name, text) == expected(truth, sel)


# ------------------------------------------------------------------------------------------- lzma
LZMA = {
    "alone": dict(format=lzma.FORMAT_ALONE),
    "raw-lzma2": dict(format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 1}]),
    "raw-delta-lzma2": dict(format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_DELTA, "dist": 2},
                                                              {"id": lzma.FILTER_LZMA2, "preset": 6}]),
    "raw-x86-lzma2": dict(format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_X86}, {"id": lzma.FILTER_LZMA2}]),
    "raw-lzma1": dict(format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, "preset": 1}]),
    "xz": dict(format=lzma.FORMAT_XZ),
}


@pytest.mark.parametrize("name", list(LZMA))
def test_lzma_formats(shared_page, server, name):
    """numcodecs' lzma in each format it writes: .xz, legacy .lzma and raw filter chains (v2 and v3)."""
    for f in (2, 3):
        root = f"lzma-{name}-v{f}"
        codec = numcodecs.LZMA(**LZMA[name]) if f == 2 else zn.LZMA(**LZMA[name])
        truth = zarr_python(server.data / root, smooth_data((60, 70), "<u2"), chunks=(25, 40), zarr_format=f,
                            compressors=codec if f == 2 else [codec])
        for sel, text in [((Ellipsis,), "..."), ((slice(10, 60, 7), 33), "10:60:7,33")]:
            assert read(shared_page, server, root, text) == expected(truth, sel), (root, text)


def test_lzma_chunk_decoding_past_its_size_is_refused(shared_page, server):
    name = "lzma-alone-bomb"
    zarr_python(server.data / name, smooth_data((60, 70), "<u2"), chunks=(25, 40), zarr_format=2,
                compressors=numcodecs.LZMA(format=lzma.FORMAT_ALONE))
    (server.data / name / "0.0").write_bytes(lzma.compress(bytes(16 << 20), format=lzma.FORMAT_ALONE))
    err = read(shared_page, server, name)["error"]
    assert "(0, 0)" in err and "exceeds the expected 2000 bytes" in err, err


def test_lzma_raw_chain_the_browser_lacks_is_a_clear_error(shared_page, server):
    """Raw LZMA1 behind a delta filter (CPython reads it): the error names the chunk and says why. (Before
    liblzma was bundled, every lzma chunk outside the .xz container failed so.)"""
    name = "lzma-raw-delta-lzma1"
    chain = [{"id": lzma.FILTER_DELTA, "dist": 2}, {"id": lzma.FILTER_LZMA1}]
    zarr_python(server.data / name, smooth_data((20, 30), "<u2"), chunks=(20, 30), zarr_format=2,
                compressors=numcodecs.LZMA(format=lzma.FORMAT_RAW, filters=chain))
    err = read(shared_page, server, name)["error"]
    assert "(0, 0)" in err and "not read in the browser runtime" in err, err


@pytest.mark.parametrize("name", ["alone", "raw-delta-lzma2"])
def test_large_lzma_chunks_decode_on_chunk_workers(shared_page, server, name):
    """Chunks of 64 KiB and more are decoded by the chunk workers (their own codecs.js): liblzma there too."""
    root = f"lzma-large-{name}"
    truth = zarr_python(server.data / root, make_data((2, 256, 256), "<u2", seed=8), chunks=(1, 256, 256),
                        zarr_format=2, compressors=numcodecs.LZMA(**LZMA[name]))
    before = shared_page.evaluate("async () => (await (await window.zarrlite).stats()).decode.workers")
    for sel, text in [((Ellipsis,), "..."), ((1, slice(5, 250, 3), 7), "1,5:250:3,7")]:
        assert read(shared_page, server, root, text) == expected(truth, sel)
    after = shared_page.evaluate("async () => (await (await window.zarrlite).stats()).decode.workers")
    assert after > before, (before, after)

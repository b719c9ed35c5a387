"""numcodecs codecs beyond the core: pcodec and zfpy (array->bytes), the checksums fletcher32, adler32,
crc32 and crc32c at either end (verified: a corrupt chunk is refused by name), bitround and packbits under
their v3 names. Fixtures written by zarr-python 3 (v2 `compressor`/`filters`, v3 `numcodecs.*`), by zarrs
(its Rust codecs, through zarr-python's codec pipeline) and by numcodecs itself; values equal to what the
writer reads back."""

from __future__ import annotations

import json
import lzma
import warnings

import numcodecs
import numpy as np
import pytest
import zarr
import zarr.codecs.numcodecs as zn
import zarrlite
from writers import assert_same, make_data, smooth_data
from zarrlite.codecs import availability, checksums, lzma_container, zfp
from zarrlite.errors import CodecError, MetadataError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

SHAPE, CHUNKS = (23, 37), (8, 10)   # edge chunks in both dimensions


def write(root, data, *, zarr_format, zarrs=False, chunks=CHUNKS, **kwargs):
    """zarr.create_array + write; returns what zarr-python reads back (for lossy codecs, the truth)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"} if zarrs else {}):
            arr = zarr.create_array(str(root), shape=data.shape, dtype=data.dtype, chunks=chunks,
                                    zarr_format=zarr_format, overwrite=True, **kwargs)
            arr[...] = data
    if zarrs:  # zarrs hands a codec it lacks back to zarr-python: then zarrs did not write the fixture
        fallback = [str(w.message) for w in caught if "unsupported by ZarrsCodecPipeline" in str(w.message)]
        assert not fallback, fallback
    return zarr.open_array(str(root), mode="r")[...]


def codec_kwargs(zarr_format, v2_codec, v3_codec, role):
    """create_array arguments putting a numcodecs codec where each format declares it."""
    if zarr_format == 2:
        return {"compressors": v2_codec} if role != "filter" else {"filters": [v2_codec], "compressors": None}
    return {"serializer": v3_codec, "compressors": None} if role == "serializer" else \
        {"compressors": [v3_codec]} if role == "compressor" else {"filters": [v3_codec], "compressors": None}


# ------------------------------------------------------------------------------------------ pcodec
@pytest.mark.parametrize("dtype", ["int32", "uint16", "int64", "float32", "float64", "float16"])
@pytest.mark.parametrize("writer", ["zarr-python v2", "zarr-python v3", "zarrs v3"])
def test_pcodec(dtype, writer, fixture_dir):
    root = fixture_dir("pcodec")
    data = smooth_data(SHAPE, dtype) if dtype[0] in "iu" else make_data(SHAPE, dtype)
    zarr_format = 2 if "v2" in writer else 3
    kwargs = codec_kwargs(zarr_format, numcodecs.PCodec(level=8), zn.PCodec(level=8), "serializer")
    truth = write(root, data, zarr_format=zarr_format, zarrs=writer.startswith("zarrs"), **kwargs)
    assert_same(truth, data)   # lossless
    arr = zarrlite.open(root)
    assert_same(arr[...], truth)
    assert_same(arr[3:20:4, ::-5], truth[3:20:4, ::-5])
    assert "pcodec" in arr.codecs


def test_pcodec_fortran_order_v2(fixture_dir):
    root = fixture_dir("pcodec-F")
    data = smooth_data(SHAPE, "int32")
    arr = zarr.create_array(str(root), shape=SHAPE, dtype="int32", chunks=CHUNKS, zarr_format=2, order="F",
                            compressors=numcodecs.PCodec())
    arr[...] = data
    assert_same(zarrlite.open(root)[...], zarr.open_array(str(root))[...])


def test_pcodec_stream_of_another_length_is_refused(fixture_dir):
    root = fixture_dir("pcodec-short")
    write(root, smooth_data(SHAPE, "int32"), zarr_format=2, compressors=numcodecs.PCodec())
    (root / "0.0").write_bytes(numcodecs.PCodec().encode(np.arange(7, dtype="int32")))  # 7 of 80 values
    with pytest.raises(CodecError, match=r"chunk \(0, 0\).*pcodec"):
        zarrlite.open(root)[...]


# ------------------------------------------------------------------------------------------- zfpy
ZFP_MODES = {
    "tolerance": dict(mode=4, tolerance=0.5), "rate": dict(mode=2, rate=12),
    "precision": dict(mode=3, precision=20),
}


@pytest.mark.parametrize("mode", list(ZFP_MODES))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("writer", ["zarr-python v2", "zarr-python v3"])  # zarrs' wheel lacks zfp
def test_zfpy(mode, dtype, writer, fixture_dir):
    if dtype[0] == "i" and mode == "tolerance":
        pytest.skip("zfp's fixed-accuracy mode is for floating point only")
    root = fixture_dir("zfpy")
    data = smooth_data(SHAPE, dtype) if dtype[0] == "i" else make_data(SHAPE, dtype, specials=False)
    zarr_format = 2 if "v2" in writer else 3
    conf = ZFP_MODES[mode]
    kwargs = codec_kwargs(zarr_format, numcodecs.ZFPY(**conf), zn.ZFPY(**conf), "serializer")
    truth = write(root, data, zarr_format=zarr_format, **kwargs)
    arr = zarrlite.open(root)
    assert_same(arr[...], truth)
    assert_same(arr[5, 3:30], truth[5, 3:30])


@pytest.mark.parametrize("shape", [(50,), (6, 9), (3, 4, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
def test_zfp_header_gives_the_field(shape, dtype):
    import zfpy

    stream = zfpy.compress_numpy(np.zeros(shape, dtype), rate=8)
    assert zfp.header_field(stream) == (np.dtype(dtype), shape)


def test_zfp_stream_larger_than_the_chunk_is_refused_before_decoding(fixture_dir):
    import zfpy

    root = fixture_dir("zfpy-bomb")
    write(root, make_data(SHAPE, "float64", specials=False), zarr_format=2,
          compressors=numcodecs.ZFPY(mode=4, tolerance=0.1))
    huge = bytearray(zfpy.compress_numpy(np.zeros((4, 4)), rate=8))
    meta = int.from_bytes(huge[4:16], "little")
    meta |= ((1 << 24) - 1) << 4 | ((1 << 24) - 1) << 28   # 16M x 16M doubles, 2 PiB
    huge[4:16] = meta.to_bytes(12, "little")
    (root / "0.0").write_bytes(bytes(huge))
    with pytest.raises(CodecError, match=r"chunk \(0, 0\).*zfpy: the stream holds 16777216x16777216"):
        zarrlite.open(root)[...]


# -------------------------------------------------------------------------------------- checksums
CHECKSUMS = {
    "fletcher32": (numcodecs.Fletcher32(), zn.Fletcher32()),
    "adler32": (numcodecs.Adler32(), zn.Adler32()),
    "adler32-end": (numcodecs.Adler32(location="end"), zn.Adler32(location="end")),
    "crc32": (numcodecs.CRC32(), zn.CRC32()),
    "crc32c-start": (numcodecs.CRC32C(location="start"), zn.CRC32C(location="start")),
}


@pytest.mark.parametrize("role", ["compressor", "filter"])
@pytest.mark.parametrize("name", list(CHECKSUMS))
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_checksum_codecs(name, zarr_format, role, fixture_dir):
    if zarr_format == 3 and role == "filter":
        pytest.skip("v3 has no filters of bytes")
    root = fixture_dir(name)
    data = make_data(SHAPE, "<u2")
    truth = write(root, data, zarr_format=zarr_format, **codec_kwargs(zarr_format, *CHECKSUMS[name], role))
    assert_same(zarrlite.open(root)[...], truth)
    # one flipped bit in one chunk: that chunk is refused, by array, chunk and codec
    key = "1.2" if zarr_format == 2 else "c/1/2"
    chunk = bytearray((root / key).read_bytes())
    chunk[len(chunk) // 2] ^= 0x10
    (root / key).write_bytes(bytes(chunk))
    with pytest.raises(CodecError, match=rf"chunk \(1, 2\).*{name.split('-')[0]} checksum mismatch"):
        zarrlite.open(root)[...]
    assert_same(zarrlite.open(root)[:8, :20], truth[:8, :20])   # the other chunks still read


def test_checksum_filter_then_compressor_v2(fixture_dir):
    root = fixture_dir("fletcher-zlib")
    data = smooth_data(SHAPE, "int32")
    truth = write(root, data, zarr_format=2, filters=[numcodecs.Delta("int32"), numcodecs.Fletcher32()],
                  compressors=numcodecs.Zlib())
    assert_same(zarrlite.open(root)[...], truth)


@pytest.mark.parametrize("size", [1, 2, 3, 359 * 2, 360 * 2, 361 * 2 + 1, 131072 * 2 + 7, 1 << 20])
@pytest.mark.parametrize("fill", ["random", "zeros", "ones"])
def test_fletcher32_matches_numcodecs(size, fill):
    data = {"random": np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8),
            "zeros": np.zeros(size, np.uint8), "ones": np.full(size, 255, np.uint8)}[fill]
    stored = np.frombuffer(numcodecs.Fletcher32().encode(data), np.uint8)[-4:].view("<u4")[0]
    assert checksums.fletcher32(data.tobytes()) == stored


# ---------------------------------------------------------------------------- bitround, packbits
@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bitround(zarr_format, dtype, fixture_dir):
    root = fixture_dir("bitround")
    data = make_data(SHAPE, dtype, specials=False)
    kwargs = codec_kwargs(zarr_format, numcodecs.BitRound(keepbits=7), zn.BitRound(keepbits=7), "filter")
    truth = write(root, data, zarr_format=zarr_format, **kwargs)
    assert not np.array_equal(truth, data)   # the writer rounded
    assert_same(zarrlite.open(root)[...], truth)


@pytest.mark.parametrize("name", ["bitround", "zarrs.bitround", "https://codec.zarrs.dev/array_to_array/bitround"])
def test_bitround_under_its_v3_names(name, fixture_dir):
    root = fixture_dir("bitround-zarrs")
    truth = write(root, make_data(SHAPE, "float32", specials=False), zarr_format=3,
                  filters=[zn.BitRound(keepbits=5)])
    doc = json.loads((root / "zarr.json").read_text())
    assert doc["codecs"][0]["name"] == "numcodecs.bitround"
    doc["codecs"][0]["name"] = name
    (root / "zarr.json").write_text(json.dumps(doc))
    assert_same(zarrlite.open(root)[...], truth)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_packbits(zarr_format, fixture_dir):
    root = fixture_dir("packbits")
    data = make_data((23, 37), "bool")
    truth = write(root, data, zarr_format=zarr_format,
                  **codec_kwargs(zarr_format, numcodecs.PackBits(), zn.PackBits(), "filter"))
    assert_same(zarrlite.open(root)[...], truth)


# ------------------------------------------------------------------------------- where they decode
def test_availability_table():
    u = availability.unreadable
    assert u("numcodecs.pcodec", {}, "cpython") is None          # installed here
    assert u("numcodecs.zfpy", {}, "cpython") is None
    assert "not in the browser runtime" in u("numcodecs.pcodec", {}, "browser")
    assert "not in the browser runtime" in u("zfpy", {}, "browser")
    for cid in ("fletcher32", "numcodecs.adler32", "crc32c", "gzip", "blosc", "zarrs.bitround"):
        assert u(cid, {}, "cpython") is None and u(cid, {}, "browser") is None, cid
    assert "refused" in u("numcodecs.pickle", {}, "cpython")
    assert "unknown codec" in u("nosuchcodec", {}, "browser")
    assert u("lzma", {"format": 1}, "browser") is None


def test_unknown_codec_is_named(fixture_dir):
    root = fixture_dir("unknown")
    write(root, make_data(SHAPE, "<u2"), zarr_format=3, compressors=[zn.Zstd()])
    doc = json.loads((root / "zarr.json").read_text())
    doc["codecs"][1]["name"] = "numcodecs.nosuchcodec"
    (root / "zarr.json").write_text(json.dumps(doc))
    with pytest.raises((CodecError, MetadataError), match="nosuchcodec"):
        zarrlite.open(root)[...]


# ------------------------------------------------------------ lzma for the browser's liblzma decoder
LZMA_CONFIGS = {
    "xz": dict(format=lzma.FORMAT_XZ),
    "alone": dict(format=lzma.FORMAT_ALONE, preset=3),
    "auto (.lzma)": dict(format=lzma.FORMAT_ALONE),
    "raw lzma2": dict(format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 1}]),
    "raw delta+lzma2": dict(format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_DELTA, "dist": 4},
                                                              {"id": lzma.FILTER_LZMA2, "preset": 9}]),
    "raw x86+delta+lzma2": dict(format=lzma.FORMAT_RAW, filters=[
        {"id": lzma.FILTER_X86}, {"id": lzma.FILTER_DELTA, "dist": 2}, {"id": lzma.FILTER_LZMA2}]),
    "raw lzma1": dict(format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, "preset": 2, "lc": 1, "pb": 0}]),
}


@pytest.mark.parametrize("payload", ["smooth", "random", "tiny", "empty"])
@pytest.mark.parametrize("name", list(LZMA_CONFIGS))
def test_lzma_streams_get_the_container_liblzma_reads(name, payload):
    """What codecs/browser.py hands the browser's decoders, decoded here by the standard library's liblzma
    (the decoder the browser bundles): the chunk's bytes, for every format numcodecs writes."""
    data = {"smooth": smooth_data((200_000,), "<i4").tobytes(),
            "random": np.random.default_rng(1).integers(0, 256, 70_000, dtype=np.uint8).tobytes(),  # stored chunks
            "tiny": b"\x01\x02\x03", "empty": b""}[payload]
    codec = numcodecs.LZMA(**LZMA_CONFIGS[name])
    config = {**codec.get_config(), **({"format": 0} if name.startswith("auto") else {})}
    decoder, wrapped = lzma_container.for_browser(codec.encode(data), config)
    assert decoder == ("xz" if name == "xz" else "liblzma")
    assert lzma.decompress(wrapped, format=lzma.FORMAT_XZ if decoder == "xz" else lzma.FORMAT_AUTO) == data
    assert availability.unreadable("lzma", config, "browser") is None


def test_lzma_raw_stream_truncated_is_refused():
    enc = numcodecs.LZMA(**LZMA_CONFIGS["raw lzma2"]).encode(smooth_data((50_000,), "<i4").tobytes())
    with pytest.raises(CodecError, match="truncated"):
        lzma_container.for_browser(enc[:-1], {"format": 3, "filters": LZMA_CONFIGS["raw lzma2"]["filters"]})


def test_lzma_raw_chains_the_browser_cannot_read_say_so():
    chain = [{"id": lzma.FILTER_DELTA, "dist": 1}, {"id": lzma.FILTER_LZMA1}]
    reason = availability.unreadable("numcodecs.lzma", {"format": 3, "filters": chain}, "browser")
    assert "not read in the browser runtime" in reason
    assert availability.unreadable("numcodecs.lzma", {"format": 3, "filters": chain}, "cpython") is None


@pytest.mark.parametrize("dtype", ["<u4", "<f8", "<i2"])
def test_shuffle_among_the_bytes_codecs_v3(dtype, fixture_dir):
    """zarr-python 3 writes numcodecs.shuffle as a bytes->bytes codec, after `bytes`."""
    root = fixture_dir("shuffle-v3")
    truth = write(root, make_data(SHAPE, dtype), zarr_format=3, compressors=[zn.Shuffle(), zn.Zlib()])
    names = [c["name"] for c in json.loads((root / "zarr.json").read_text())["codecs"]]
    assert names == ["bytes", "numcodecs.shuffle", "numcodecs.zlib"]
    assert_same(zarrlite.open(root)[...], truth)


def test_shuffle_filter_v2(fixture_dir):
    root = fixture_dir("shuffle-v2")
    truth = write(root, make_data(SHAPE, "<i4"), zarr_format=2, filters=[numcodecs.Shuffle(elementsize=4)],
                  compressors=numcodecs.Zlib())
    assert_same(zarrlite.open(root)[...], truth)


@pytest.mark.parametrize("inner", ["pcodec", "zfpy", "fletcher32"])
def test_numcodecs_inside_shards(inner, fixture_dir):
    """The inner codecs of a shard are any codec chain: pcodec or zfpy as its array->bytes codec, a checksum."""
    from zarr.codecs import BytesCodec, ShardingCodec

    root = fixture_dir(f"shard-{inner}")
    codecs = {"pcodec": [zn.PCodec()], "zfpy": [zn.ZFPY(mode=4, tolerance=0.01)],
              "fletcher32": [BytesCodec(), zn.Fletcher32()]}[inner]
    data = smooth_data((40, 60), "<f8")
    truth = write(root, data, zarr_format=3, chunks=(20, 30), compressors=None,
                  serializer=ShardingCodec(chunk_shape=(10, 10), codecs=codecs))
    arr = zarrlite.open(root)
    assert_same(arr[...], truth)
    assert_same(arr[3:37:5, 11], truth[3:37:5, 11])

"""Zarr v3 written by zarr-python 3 and tensorstore's `zarr3` driver reads back bit-exactly: core
dtypes x endianness x transpose x compressors x crc32c x chunk key encodings x fill values, missing
and edge chunks, dimension names, attributes, nested groups, consolidated metadata."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr
import zarrlite
from writers import assert_same, fill_like, make_data, ts_zarr3, zarr_python

SHAPE = (45, 67)
CHUNKS = (16, 20)
MISSING = {(1, 2)}

V3_DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32",
             "float64", "complex64", "complex128"]
WRITERS = ["zarr-python", "tensorstore"]


def write3(writer, root, data, chunks=CHUNKS, *, endian="little", transpose=None, compressors=(), fill_value=0,
           key_encoding=None, dimension_names=None, attributes=None, missing=()):
    """One logical v3 array through either writer; codecs as v3 JSON. Returns the truth."""
    bytes_codec = {"name": "bytes", "configuration": {"endian": endian}}
    if data.dtype.itemsize == 1:
        bytes_codec = {"name": "bytes", "configuration": {}} if writer == "tensorstore" else bytes_codec
    filters = [{"name": "transpose", "configuration": {"order": list(transpose)}}] if transpose else []
    if writer == "zarr-python":
        return zarr_python(root, data, zarr_format=3, chunks=chunks, serializer=bytes_codec, filters=filters or None,
                           compressors=list(compressors) or None, fill_value=fill_value,
                           chunk_key_encoding=key_encoding, dimension_names=dimension_names, attributes=attributes,
                           missing=missing)
    return ts_zarr3(root, data, chunks=chunks, data_type=str(data.dtype.newbyteorder("=").name),
                    codecs=filters + [bytes_codec] + list(compressors), fill_value=_ts_fill(data.dtype, fill_value),
                    chunk_key_encoding=key_encoding, dimension_names=dimension_names, attributes=attributes,
                    missing=missing)


def _ts_fill(dtype, fill):
    if np.dtype(dtype).kind == "b":
        return bool(fill)
    if np.dtype(dtype).kind == "c" and not isinstance(fill, (list, tuple)):
        return [fill, 0]
    if isinstance(fill, float) and not np.isfinite(fill):
        return "NaN" if np.isnan(fill) else ("Infinity" if fill > 0 else "-Infinity")
    return fill


@pytest.mark.parametrize("dtype", V3_DTYPES)
@pytest.mark.parametrize("writer", WRITERS)
def test_dtype(writer, dtype, fixture_dir):
    root = fixture_dir(f"v3-dtype-{writer}-{dtype}")
    data = make_data(SHAPE, dtype)
    truth = write3(writer, root, data, compressors=[{"name": "gzip", "configuration": {"level": 1}}],
                   fill_value=False if dtype == "bool" else 0, missing=MISSING)
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("dtype", ["int16", "uint32", "int64", "float16", "float32", "float64", "complex64",
                                   "complex128"])
@pytest.mark.parametrize("writer", WRITERS)
def test_big_endian(writer, dtype, fixture_dir):
    root = fixture_dir(f"v3-be-{writer}-{dtype}")
    truth = write3(writer, root, make_data(SHAPE, dtype, seed=4), endian="big", missing=MISSING)
    codecs = json.loads((root / "zarr.json").read_text())["codecs"]
    assert {"name": "bytes", "configuration": {"endian": "big"}} in codecs  # the fixture is what we think
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("shape,chunks,order", [
    ((45, 67), (16, 20), (1, 0)),
    ((9, 10, 11), (4, 5, 3), (2, 0, 1)),
    ((9, 10, 11), (4, 5, 3), (1, 2, 0)),
    ((5, 6, 7, 8), (2, 3, 4, 5), (3, 1, 0, 2)),
])
@pytest.mark.parametrize("endian", ["little", "big"])
@pytest.mark.parametrize("writer", WRITERS)
def test_transpose(writer, shape, chunks, order, endian, fixture_dir):
    root = fixture_dir(f"v3-transpose-{writer}-{order}-{endian}")
    truth = write3(writer, root, make_data(shape, "int32", seed=6), chunks, endian=endian, transpose=order)
    assert_same(zarrlite.open(str(root))[...], truth)


COMPRESSORS = {
    "gzip": [{"name": "gzip", "configuration": {"level": 5}}],
    "zstd": [{"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
    "zstd-checksum": [{"name": "zstd", "configuration": {"level": 3, "checksum": True}}],
    "crc32c": [{"name": "crc32c"}],
    "gzip+crc32c": [{"name": "gzip", "configuration": {"level": 1}}, {"name": "crc32c"}],
    **{f"blosc-{cname}-{shuffle}": [{"name": "blosc", "configuration": {
        "cname": cname, "clevel": 5, "shuffle": shuffle, "typesize": 2, "blocksize": 0}}]
       for cname in ("lz4", "zstd", "blosclz", "zlib", "lz4hc") for shuffle in ("noshuffle", "shuffle", "bitshuffle")},
}


@pytest.mark.parametrize("name", COMPRESSORS)
@pytest.mark.parametrize("writer", WRITERS)
def test_compressor(writer, name, fixture_dir):
    root = fixture_dir(f"v3-comp-{writer}-{name}")
    truth = write3(writer, root, make_data(SHAPE, "uint16", seed=8), compressors=COMPRESSORS[name], missing=MISSING)
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("writer", WRITERS)
def test_everything_chained(writer, fixture_dir):
    root = fixture_dir(f"v3-chain-{writer}")
    truth = write3(writer, root, make_data((20, 30, 40), "float32", seed=12), (7, 8, 9), endian="big",
                   transpose=(2, 0, 1), compressors=COMPRESSORS["blosc-zstd-bitshuffle"] + [{"name": "crc32c"}],
                   fill_value=float("nan"), missing={(0, 0, 0), (2, 3, 4)})
    assert_same(zarrlite.open(str(root))[...], truth)


KEY_ENCODINGS = {
    "default-slash": {"name": "default", "configuration": {"separator": "/"}},
    "default-dot": {"name": "default", "configuration": {"separator": "."}},
    "v2-dot": {"name": "v2", "configuration": {"separator": "."}},
    "v2-slash": {"name": "v2", "configuration": {"separator": "/"}},
}
EXPECTED_KEY = {"default-slash": "c/1/1", "default-dot": "c.1.1", "v2-dot": "1.1", "v2-slash": "1/1"}


@pytest.mark.parametrize("encoding", KEY_ENCODINGS)
@pytest.mark.parametrize("writer", WRITERS)
def test_chunk_key_encoding(writer, encoding, fixture_dir):
    root = fixture_dir(f"v3-keys-{writer}-{encoding}")
    truth = write3(writer, root, make_data(SHAPE, "int16", seed=13), key_encoding=KEY_ENCODINGS[encoding],
                   missing=MISSING)
    assert (root / EXPECTED_KEY[encoding]).is_file()  # fixture sanity: keys are laid out as named
    assert_same(zarrlite.open(str(root))[...], truth)


FILLS = [("float32", float("nan")), ("float64", float("inf")), ("float16", float("-inf")), ("int8", -128),
         ("uint64", 2**64 - 1), ("int64", -2**63), ("bool", True), ("complex128", [1.5, -2.0]),
         ("complex64", [float("nan"), 3.0]), ("float64", -0.0)]


@pytest.mark.parametrize("dtype,fill", FILLS, ids=str)
@pytest.mark.parametrize("writer", WRITERS)
def test_fill_value_missing_chunks(writer, dtype, fill, fixture_dir):
    root = fixture_dir(f"v3-fill-{writer}-{dtype}-{fill}")
    py_fill = complex(*fill) if isinstance(fill, list) and writer == "zarr-python" else fill
    truth = write3(writer, root, make_data(SHAPE, dtype, seed=14), fill_value=py_fill,
                   missing={(0, 0), (1, 1), (2, 3)})
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("json_fill,bits", [("0x7fc00001", 0x7FC00001), ("0xff800000", 0xFF800000),
                                            ("NaN", 0x7FC00000), ("-Infinity", 0xFF800000)])
def test_fill_value_hex_float(json_fill, bits, fixture_dir):
    """v3 allows floats as hex strings of their bits; the fill must keep those exact bits."""
    root = fixture_dir(f"v3-hexfill-{json_fill}")
    truth = zarr_python(root, make_data((10, 10), "float32"), zarr_format=3, chunks=(5, 5), compressors=None,
                        fill_value=0.0)
    meta = json.loads((root / "zarr.json").read_text())
    meta["fill_value"] = json_fill
    (root / "zarr.json").write_text(json.dumps(meta))
    (root / "c" / "1" / "0").unlink()
    truth[5:, :5] = np.array([bits], "<u4").view("<f4")[0]
    assert_same(zarrlite.open(str(root))[...], truth)


def test_fill_value_attribute(fixture_dir):
    root = fixture_dir("v3-fillattr")
    write3("zarr-python", root, make_data((4, 4), "float64"), (2, 2), fill_value=float("-inf"))
    assert np.asarray(zarrlite.open(str(root)).fill_value, dtype="f8") == -np.inf


@pytest.mark.parametrize("writer", WRITERS)
def test_metadata_properties(writer, fixture_dir):
    root = fixture_dir(f"v3-props-{writer}")
    attrs = {"name": "ß-ü", "nested": {"list": [1, 2.5, None, True]}}
    write3(writer, root, make_data(SHAPE, "int16"), fill_value=-3, dimension_names=["y", "x"], attributes=attrs)
    arr = zarrlite.open(str(root))
    got = (arr.shape, tuple(arr.chunks), arr.ndim, arr.format, np.dtype(arr.dtype).newbyteorder("="),
           int(arr.fill_value), arr.attrs)
    assert got == (SHAPE, CHUNKS, 2, "zarr3", np.dtype("int16"), -3, attrs)


@pytest.mark.parametrize("shape,chunks", [((1000,), (128,)), ((4, 5, 6, 7), (2, 3, 4, 5)), ((3, 100), (10, 1000)),
                                          ((0, 5), (2, 2)), ((1, 1), (1, 1))])
@pytest.mark.parametrize("writer", WRITERS)
def test_shapes(writer, shape, chunks, fixture_dir):
    root = fixture_dir(f"v3-shape-{writer}-{shape}")
    truth = write3(writer, root, make_data(shape, "uint32", seed=9), chunks,
                   compressors=[{"name": "zstd", "configuration": {"level": 1, "checksum": False}}])
    assert_same(zarrlite.open(str(root))[...], truth)


def test_zero_dimensional(fixture_dir):
    root = fixture_dir("v3-0d")
    truth = zarr_python(root, np.array(3.25, "<f8"), zarr_format=3, chunks=(), compressors=None)
    assert_same(zarrlite.open(str(root))[...], truth)


# --------------------------------------------------------------------------------------- groups


@pytest.fixture(scope="module")
def v3_tree(fixture_dir):
    root = fixture_dir("v3-tree")
    g = zarr.open_group(str(root), mode="w", zarr_format=3, attributes={"title": "root", "n": 1})
    truths = {}
    for path, shape, dtype in [("z", (30, 40), "float32"), ("a/x", (50,), "int64"), ("a/b/y", (6, 7, 8), "uint16")]:
        truths[path] = make_data(shape, dtype, seed=len(path))
        arr = g.create_array(path, shape=shape, chunks=tuple(max(1, s // 3) for s in shape), dtype=dtype,
                             dimension_names=[f"d{i}" for i in range(len(shape))])
        arr[...] = truths[path]
    g["a"].attrs["level"] = "a"
    g["a/x"].attrs["units"] = "m"
    zarr.consolidate_metadata(str(root))
    assert "consolidated_metadata" in json.loads((root / "zarr.json").read_text())
    return root, truths


@pytest.mark.parametrize("path", ["z", "a/x", "a/b/y"])
def test_group_paths(v3_tree, path):
    root, truths = v3_tree
    assert_same(zarrlite.open(str(root))[path][...], truths[path])


@pytest.mark.parametrize("path", ["z", "a/x", "a/b/y"])
def test_open_with_path(v3_tree, path):
    root, truths = v3_tree
    assert_same(zarrlite.open(str(root), path=path)[...], truths[path])


def test_group_members_and_attrs(v3_tree):
    root, _ = v3_tree
    g = zarrlite.open(str(root))
    got = (sorted(g), sorted(g["a"]), dict(g.attrs), dict(g["a"].attrs), dict(g["a/x"].attrs), g["a/x"].format)
    assert got == (["a", "z"], ["b", "x"], {"title": "root", "n": 1}, {"level": "a"}, {"units": "m"}, "zarr3")


def test_group_tree_mentions_everything(v3_tree):
    root, _ = v3_tree
    text = zarrlite.open(str(root)).tree()
    assert isinstance(text, str) and all(name in text for name in ("a", "b", "x", "y", "z"))


def test_missing_node_raises_not_found(v3_tree):
    root, _ = v3_tree
    with pytest.raises(zarrlite.errors.NotFoundError):
        zarrlite.open(str(root))["a/nope"]


def test_fill_like_helper_matches_zarr_python():
    """Guard for the writers' own truth: our fill conversion agrees with zarr-python's."""
    arr = zarr.create_array(zarr.storage.MemoryStore(), shape=(2,), chunks=(1,), dtype="complex64",
                            fill_value=complex(1, float("nan")))
    np.testing.assert_array_equal(arr[...], np.full(2, fill_like("complex64", [1.0, "NaN"])))


# ------------------------------------------------------------------------------------ extensions


def test_extension_field_must_understand_false_is_ignored(fixture_dir):
    root = fixture_dir("v3-ext-ok")
    truth = zarr_python(root, make_data((10, 10), "uint8"), zarr_format=3, chunks=(5, 5), compressors=None)
    meta = json.loads((root / "zarr.json").read_text())
    meta["some_extension"] = {"must_understand": False, "anything": [1, 2]}
    (root / "zarr.json").write_text(json.dumps(meta))
    assert_same(zarrlite.open(str(root))[...], truth)


def test_unknown_extension_field_that_must_be_understood_is_refused(fixture_dir):
    root = fixture_dir("v3-ext-bad")
    zarr_python(root, make_data((10, 10), "uint8"), zarr_format=3, chunks=(5, 5), compressors=None)
    meta = json.loads((root / "zarr.json").read_text())
    meta["some_extension"] = {"name": "frob", "configuration": {}}
    (root / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(zarrlite.errors.MetadataError, match="some_extension"):
        zarrlite.open(str(root))[...]


def test_storage_transformer_refused(fixture_dir):
    root = fixture_dir("v3-transformer")
    zarr_python(root, make_data((10, 10), "uint8"), zarr_format=3, chunks=(5, 5), compressors=None)
    meta = json.loads((root / "zarr.json").read_text())
    meta["storage_transformers"] = [{"name": "frobnicate_transformer", "configuration": {}}]
    (root / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises((zarrlite.errors.MetadataError, zarrlite.errors.CodecError), match="frobnicate_transformer"):
        zarrlite.open(str(root))[...]


# ------------------------------------------------------------------------------ checksums at every size

_BIG = (1024, 1024)      # one uint16 chunk of 2 MiB, four of them
_CHECKSUMMED = {
    "zarr-python crc32c": lambda root, data: zarr_python(root, data, zarr_format=3, chunks=_BIG,
                                                         compressors=[{"name": "crc32c"}]),
    "tensorstore crc32c": lambda root, data: ts_zarr3(root, data, chunks=_BIG, data_type="uint16",
                                                      codecs=[{"name": "bytes"}, {"name": "crc32c"}]),
    "zarr-python zstd with checksum": lambda root, data: zarr_python(
        root, data, zarr_format=3, chunks=_BIG, compressors=[{"name": "zstd",
                                                              "configuration": {"level": 1, "checksum": True}}]),
}
_READ_IN_A_RUNTIME_WITHOUT_THE_PACKAGE = """
import sys
sys.modules["crc32c"] = None     # `import crc32c` fails, as in Pyodide
import zarrlite, zarrlite.codecs.crc32c
assert zarrlite.codecs.crc32c.native is None
try:
    zarrlite.open(sys.argv[1])[...]
except zarrlite.ZarrliteError as e:
    print(type(e).__name__, e)
else:
    print("no error")
"""


def _flip_a_data_byte(root, writer) -> str:
    """Flip one byte in the middle of chunk (1, 0): data for crc32c, the frame checksum for zstd."""
    key = root / "c" / "1" / "0"
    raw = bytearray(key.read_bytes())
    assert len(raw) > 1 << 20
    raw[-1 if "zstd" in writer else len(raw) // 2] ^= 0x10
    key.write_bytes(bytes(raw))
    return "c/1/0"


@pytest.mark.parametrize("native", [True, False], ids=["native crc32c", "numpy crc32c"])
@pytest.mark.parametrize("writer", list(_CHECKSUMMED))
def test_a_flipped_byte_in_a_large_chunk_is_caught(writer, native, fixture_dir):
    import subprocess
    import sys

    root = fixture_dir(f"v3-checksum-{writer}")
    data = make_data((2048, 2048), "uint16", seed=3)
    truth = _CHECKSUMMED[writer](root, data)
    assert_same(zarrlite.open(str(root))[...], truth)          # intact, it reads
    _flip_a_data_byte(root, writer)
    if native:
        with pytest.raises(zarrlite.ZarrliteError) as info:
            zarrlite.open(str(root))[...]
        message = f"{type(info.value).__name__} {info.value}"
    else:
        message = subprocess.run([sys.executable, "-c", _READ_IN_A_RUNTIME_WITHOUT_THE_PACKAGE, str(root)],
                                 capture_output=True, text=True, check=True).stdout
    assert "(1, 0)" in message and "'c/1/0'" in message, message
    assert ("crc32c checksum mismatch" if "crc32c" in writer else "checksum") in message, message


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 255, 4095, 4096, 4097, 65543, (1 << 20) + 13, 2 << 20,
                                  3 * (1 << 20) + 5])
def test_numpy_crc32c_equals_the_package(size):
    import crc32c as package
    from zarrlite.codecs.crc32c import crc32c_numpy

    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    assert crc32c_numpy(data) == package.crc32c(data)
    assert crc32c_numpy(memoryview(data)) == package.crc32c(data)

"""Zarr v2 written by zarr-python 3, tensorstore's `zarr` driver and by hand (numcodecs-encoded
chunks) reads back bit-exactly: dtypes x byte order x compressors x filters x order x separators x
fill values, missing and edge chunks, consolidated metadata and groups."""

from __future__ import annotations

import json
import shutil

import numcodecs
import numpy as np
import pytest
import zarr
import zarrlite
from numcodecs import Blosc
from writers import (assert_same, fill_like, make_data, manual_group2, manual_zarr2, smooth_data, ts_zarr2,
                     zarr_python)

SHAPE = (45, 67)   # 3 x 4 chunks, edge chunks in both dimensions
CHUNKS = (16, 20)
MISSING = {(1, 2)}  # a chunk never written -> fill value

V2_DTYPES = ["|b1", "|i1", "|u1", "<i2", ">i2", "<u2", ">u2", "<i4", ">i4", "<u4", "<i8", ">i8", "<u8", "<f2",
             ">f2", "<f4", ">f4", "<f8", ">f8", "<c8", "<c16", ">c16"]

COMPRESSORS = {
    "null": None,
    "zlib": numcodecs.Zlib(level=5),
    "gzip": numcodecs.GZip(level=5),
    "bz2": numcodecs.BZ2(level=9),
    "lzma": numcodecs.LZMA(),
    "zstd": numcodecs.Zstd(level=3),
    "lz4": numcodecs.LZ4(acceleration=1),
    **{f"blosc-{cname}-shuffle{s}": Blosc(cname=cname, clevel=5, shuffle=s)
       for cname in ("lz4", "zstd", "blosclz", "zlib") for s in (0, 1, 2)},
}

WRITERS = ["zarr-python", "numcodecs"]


def write(writer, root, data, chunks=CHUNKS, *, compressor=None, filters=(), order="C", sep=".", fill_value=0,
          missing=(), dtype=None):
    """Same logical array through either writer; returns the truth."""
    if dtype is not None:
        data = data.astype(dtype)
    if writer == "zarr-python":
        return zarr_python(root, data, zarr_format=2, chunks=chunks, compressors=compressor,
                           filters=list(filters) or None, order=order, fill_value=fill_value,
                           chunk_key_encoding={"name": "v2", "separator": sep}, missing=missing)
    return manual_zarr2(root, data, chunks, compressor=compressor, filters=filters, order=order, sep=sep,
                        fill_value=fill_value, missing=missing)


@pytest.mark.parametrize("dtype", V2_DTYPES)
@pytest.mark.parametrize("writer", WRITERS)
def test_dtype(writer, dtype, fixture_dir):
    root = fixture_dir(f"v2-dtype-{writer}-{dtype}")
    truth = write(writer, root, make_data(SHAPE, dtype), compressor=numcodecs.Zlib(level=1), missing=MISSING)
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("dtype", ["<u2", ">f8"])
@pytest.mark.parametrize("compressor", COMPRESSORS, ids=str)
@pytest.mark.parametrize("writer", WRITERS)
def test_compressor(writer, compressor, dtype, fixture_dir):
    root = fixture_dir(f"v2-comp-{writer}-{compressor}-{dtype}")
    truth = write(writer, root, make_data(SHAPE, dtype, seed=3), compressor=COMPRESSORS[compressor])
    assert_same(zarrlite.open(str(root))[...], truth)


FILTERS = {
    # name: (dtype of the data, filters, lossy?)
    "delta": ("<i4", [numcodecs.Delta(dtype="<i4")], False),
    "delta-astype": ("<i4", [numcodecs.Delta(dtype="<i4", astype="<i2")], False),
    "fixedscaleoffset": ("<f8", [numcodecs.FixedScaleOffset(offset=100, scale=10, dtype="<f8", astype="<u2")], True),
    "shuffle": ("<i8", [numcodecs.Shuffle(elementsize=8)], False),
    "astype": ("<f8", [numcodecs.AsType(encode_dtype="<f4", decode_dtype="<f8")], True),
    "astype-int": ("<i4", [numcodecs.AsType(encode_dtype="<i2", decode_dtype="<i4")], False),
    "quantize": ("<f8", [numcodecs.Quantize(digits=2, dtype="<f8")], True),
    "bitround": ("<f4", [numcodecs.BitRound(keepbits=6)], True),
    "delta+shuffle": (">i2", [numcodecs.Delta(dtype=">i2"), numcodecs.Shuffle(elementsize=2)], False),
}


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("name", FILTERS)
@pytest.mark.parametrize("writer", WRITERS)
def test_filters(writer, name, order, fixture_dir):
    dtype, filters, lossy = FILTERS[name]
    root = fixture_dir(f"v2-filter-{writer}-{name}-{order}")
    data = smooth_data(SHAPE, dtype) / (7 if np.dtype(dtype).kind == "f" else 1)
    truth = write(writer, root, data.astype(dtype), compressor=numcodecs.Zlib(1), filters=filters, order=order,
                  missing=MISSING)
    if lossy:  # what the filter round trip yields, as decoded by zarr-python
        truth = zarr.open_array(str(root), mode="r")[...]
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("dtype", ["<i4", ">f8", "<c8", "|b1"])
@pytest.mark.parametrize("sep", [".", "/"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("writer", WRITERS)
def test_order_and_separator(writer, order, sep, dtype, fixture_dir):
    root = fixture_dir(f"v2-order-{writer}-{order}-{sep == '/'}-{dtype}")
    truth = write(writer, root, make_data(SHAPE, dtype, seed=5), compressor=numcodecs.Zstd(1), order=order,
                  sep=sep, missing=MISSING)
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("shape,chunks", [
    ((1000,), (128,)), ((7, 9, 11), (3, 4, 5)), ((4, 5, 6, 7), (2, 3, 4, 5)), ((5, 5), (5, 5)),
    ((3, 100), (10, 1000)),  # chunks larger than the array
    ((0, 5), (2, 2)),  # empty
])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("writer", WRITERS)
def test_shapes(writer, shape, chunks, order, fixture_dir):
    root = fixture_dir(f"v2-shape-{writer}-{shape}-{order}")
    truth = write(writer, root, make_data(shape, "<u4", seed=9), chunks, compressor=numcodecs.GZip(1), order=order)
    assert_same(zarrlite.open(str(root))[...], truth)


def test_zero_dimensional(fixture_dir):
    root = fixture_dir("v2-0d")
    truth = zarr_python(root, np.array(3.25, "<f8"), zarr_format=2, chunks=(), compressors=None)
    assert_same(zarrlite.open(str(root))[...], truth)


FILLS = [("<f4", "NaN"), ("<f8", "Infinity"), (">f8", "-Infinity"), ("<i2", -7), ("<u1", 255), ("|b1", True),
         ("<c16", [1.0, -2.0]), ("<f2", 0.5), ("<u8", 2**64 - 1), ("<i8", -2**63)]


@pytest.mark.parametrize("dtype,fill", FILLS, ids=lambda v: str(v))
@pytest.mark.parametrize("writer", WRITERS)
def test_fill_value_missing_chunks(writer, dtype, fill, fixture_dir):
    root = fixture_dir(f"v2-fill-{writer}-{dtype}-{fill}")
    py_fill = fill_like(dtype, fill).item() if writer == "zarr-python" else fill
    truth = write(writer, root, make_data(SHAPE, dtype, seed=11), compressor=numcodecs.Zlib(1), fill_value=py_fill,
                  missing={(0, 0), (2, 3), (1, 1)})
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("dtype,fill", FILLS, ids=lambda v: str(v))
def test_fill_value_attribute(dtype, fill, fixture_dir):
    root = fixture_dir(f"v2-fillattr-{dtype}-{fill}")
    manual_zarr2(root, make_data((4, 4), dtype), (2, 2), fill_value=fill)
    got = zarrlite.open(str(root)).fill_value
    np.testing.assert_array_equal(np.asarray(got, dtype=np.dtype(dtype).newbyteorder("=")), fill_like(dtype, fill))


def test_fill_value_null_all_written(fixture_dir):
    root = fixture_dir("v2-fill-null")
    truth = manual_zarr2(root, make_data(SHAPE, "<f4"), CHUNKS, fill_value=None, compressor=numcodecs.Zlib(1))
    assert_same(zarrlite.open(str(root))[...], truth)


def test_metadata_properties(fixture_dir):
    root = fixture_dir("v2-props")
    manual_zarr2(root, make_data(SHAPE, ">i2"), CHUNKS, compressor=numcodecs.Zlib(1), fill_value=-3,
                 attrs={"name": "ß-ü", "nested": {"list": [1, 2.5, None, True]}})
    arr = zarrlite.open(str(root))
    got = (arr.shape, tuple(arr.chunks), arr.ndim, arr.format, np.dtype(arr.dtype).newbyteorder("="),
           int(arr.fill_value), arr.attrs)
    want = (SHAPE, CHUNKS, 2, "zarr2", np.dtype("<i2"), -3, {"name": "ß-ü", "nested": {"list": [1, 2.5, None, True]}})
    assert got == want


# --------------------------------------------------------------------------- groups, consolidated


@pytest.fixture(scope="module")
def v2_tree(fixture_dir):
    """root(attrs) / z ; a(attrs) / x ; a / b / y ; consolidated by zarr-python."""
    root = fixture_dir("v2-tree")
    g = zarr.open_group(str(root), mode="w", zarr_format=2)
    g.attrs.update({"title": "root", "n": 1})
    truths = {}
    for path, shape, dtype in [("z", (30, 40), "<f4"), ("a/x", (50,), ">i8"), ("a/b/y", (6, 7, 8), "<u2")]:
        truths[path] = make_data(shape, dtype, seed=len(path))
        arr = g.create_array(path, shape=shape, chunks=tuple(max(1, s // 3) for s in shape), dtype=dtype,
                             compressors=numcodecs.Zlib(1))
        arr[...] = truths[path]
    g["a"].attrs["level"] = "a"
    g["a/x"].attrs["units"] = "m"
    zarr.consolidate_metadata(str(root))
    assert (root / ".zmetadata").exists()
    return root, truths


@pytest.mark.parametrize("path", ["z", "a/x", "a/b/y"])
def test_group_paths(v2_tree, path):
    root, truths = v2_tree
    assert_same(zarrlite.open(str(root))[path][...], truths[path])


@pytest.mark.parametrize("path", ["z", "a/x", "a/b/y"])
def test_open_with_path(v2_tree, path):
    root, truths = v2_tree
    assert_same(zarrlite.open(str(root), path=path)[...], truths[path])


def test_group_nested_lookup(v2_tree):
    root, truths = v2_tree
    assert_same(zarrlite.open(str(root))["a"]["b"]["y"][...], truths["a/b/y"])


def test_group_members_and_attrs(v2_tree):
    root, _ = v2_tree
    g = zarrlite.open(str(root))
    got = (sorted(g), sorted(g["a"]), dict(g.attrs), dict(g["a"].attrs), dict(g["a/x"].attrs), g["a/x"].path.strip("/"))
    assert got == (["a", "z"], ["b", "x"], {"title": "root", "n": 1}, {"level": "a"}, {"units": "m"}, "a/x")


def test_group_tree_mentions_everything(v2_tree):
    root, _ = v2_tree
    text = zarrlite.open(str(root)).tree()
    assert isinstance(text, str) and all(name in text for name in ("a", "b", "x", "y", "z"))


def test_consolidated_metadata_is_used(v2_tree, fixture_dir):
    """With `.zmetadata` present the per-array metadata files are not needed (as for HTTP)."""
    src, truths = v2_tree
    root = fixture_dir("v2-tree-consolidated-only") / "data.zarr"
    shutil.copytree(src, root)
    for name in (".zarray", ".zattrs"):
        (root / "a" / "b" / "y" / name).unlink(missing_ok=True)
    assert_same(zarrlite.open(str(root))["a/b/y"][...], truths["a/b/y"])


def test_missing_node_raises_not_found(v2_tree):
    root, _ = v2_tree
    with pytest.raises(zarrlite.errors.NotFoundError):
        zarrlite.open(str(root))["nope"]


def test_manual_group_without_consolidation(fixture_dir):
    root = fixture_dir("v2-manual-group")
    manual_group2(root, {"k": [1, 2]})
    manual_group2(root / "inner")
    truth = manual_zarr2(root / "inner" / "arr", make_data((9, 9), "<i4"), (4, 4), compressor=numcodecs.Zlib(1))
    assert_same(zarrlite.open(str(root))["inner/arr"][...], truth)


# ------------------------------------------------------------------------------ tensorstore zarr


TS_DTYPES = ["|b1", "|i1", "<u2", ">i4", "<u8", ">f2", "<f4", ">f8", "<c8", ">c16"]
TS_COMPRESSORS = {
    "null": None,
    "zlib": {"id": "zlib", "level": 3},
    "bz2": {"id": "bz2", "level": 5},
    "zstd": {"id": "zstd", "level": 2},
    "blosc-lz4-bitshuffle": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 2},
    "blosc-zstd-shuffle": {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 1},
}


@pytest.mark.parametrize("dtype", TS_DTYPES)
def test_tensorstore_dtype(dtype, fixture_dir):
    root = fixture_dir(f"ts2-dtype-{dtype}")
    kind = np.dtype(dtype).kind
    # tensorstore wants false for bool and base64 bytes for complex fill values: use null there
    fill, missing = {"b": (False, MISSING), "c": (None, ())}.get(kind, (0, MISSING))
    truth = ts_zarr2(root, make_data(SHAPE, dtype), chunks=CHUNKS, dtype=dtype, compressor=TS_COMPRESSORS["zlib"],
                     fill_value=fill, missing=missing)
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("sep", [".", "/"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("compressor", TS_COMPRESSORS)
def test_tensorstore_compressor_order(compressor, order, sep, fixture_dir):
    root = fixture_dir(f"ts2-{compressor}-{order}-{sep == '/'}")
    truth = ts_zarr2(root, make_data(SHAPE, ">u2", seed=2), chunks=CHUNKS, dtype=">u2",
                     compressor=TS_COMPRESSORS[compressor], order=order, dimension_separator=sep, fill_value=7,
                     missing=MISSING)
    assert_same(zarrlite.open(str(root))[...], truth)


def test_tensorstore_nan_fill(fixture_dir):
    root = fixture_dir("ts2-nanfill")
    truth = ts_zarr2(root, make_data(SHAPE, "<f8"), chunks=CHUNKS, dtype="<f8", fill_value="NaN",
                     compressor=None, missing={(0, 1), (2, 0)})
    assert json.loads((root / ".zarray").read_text())["fill_value"] == "NaN"
    assert_same(zarrlite.open(str(root))[...], truth)


# ----------------------------------------------------------------------------- older / odd files


def test_no_dimension_separator_key_means_dot(fixture_dir):
    """Files from zarr-python < 2.8 have no `dimension_separator`: keys are '.'-separated."""
    root = fixture_dir("v2-nosep")
    truth = manual_zarr2(root, make_data(SHAPE, "<u2"), CHUNKS, compressor=numcodecs.Zlib(1), missing=MISSING)
    meta = json.loads((root / ".zarray").read_text())
    del meta["dimension_separator"]
    (root / ".zarray").write_text(json.dumps(meta))
    assert_same(zarrlite.open(str(root))[...], truth)


def test_empty_filters_list(fixture_dir):
    root = fixture_dir("v2-emptyfilters")
    truth = manual_zarr2(root, make_data(SHAPE, "<i2"), CHUNKS, compressor=numcodecs.Zlib(1),
                         meta_overrides={"filters": []})
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("dtype", ["<M8[ns]", ">M8[s]", "<m8[ms]", "<M8[D]"])
def test_datetime_dtypes(dtype, fixture_dir):
    root = fixture_dir(f"v2-datetime-{dtype}")
    data = (np.arange(np.prod(SHAPE), dtype="i8") * 86_400 - 10**6).reshape(SHAPE).astype(dtype)
    truth = manual_zarr2(root, data, CHUNKS, compressor=numcodecs.Zlib(1), fill_value=0, missing=MISSING)
    np.testing.assert_array_equal(zarrlite.open(str(root))[...], truth)


def test_float_fill_value_for_int_array(fixture_dir):
    """A numeric fill value written as a JSON float for an int array (2.0) is accepted as 2."""
    root = fixture_dir("v2-floatfill-int")
    truth = manual_zarr2(root, make_data(SHAPE, "<i4"), CHUNKS, fill_value=2.0, missing=MISSING)
    assert_same(zarrlite.open(str(root))[...], truth)



def _swap(dtype: str) -> str:
    return {"<": ">", ">": "<"}.get(dtype[0], "") + dtype[1:]


_NUMERIC = ["i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "c8", "c16"]
_TIMES = ["M8[ns]", "M8[10us]", "M8[s]", "M8[D]", "m8[4ps]", "m8[ms]", "m8[3h]", "m8[W]"]
EVERY_V2_DTYPE = ["|b1", "|i1", "|u1"] + [f"{o}{t}" for t in _NUMERIC + _TIMES for o in "<>"]


def _truth_values(dtype: str) -> np.ndarray:
    dt = np.dtype(dtype)
    if dt.kind in "mM":  # counts of the unit, negative ones too, and one NaT
        out = (np.arange(np.prod(SHAPE), dtype="i8") * 7_919 - 10**5).reshape(SHAPE).astype(dt.newbyteorder("="))
        out[2, 3] = np.array("NaT", dt.newbyteorder("="))
        return out.astype(dt)
    return make_data(SHAPE, dtype, seed=5)


@pytest.mark.parametrize("dtype", EVERY_V2_DTYPE)
def test_every_dtype_and_byte_order_with_fill(dtype, fixture_dir):
    """zarr-python writes each dtype x byte order (zlib-compressed chunks, a non-zero fill value) with two
    chunks missing; values and fill value equal numpy's."""
    dt = np.dtype(dtype)
    fill = True if dt.kind == "b" else (7 if dt.kind == "u" else -7)
    root = fixture_dir(f"v2-every-{dtype}")
    truth = zarr_python(root, _truth_values(dtype), zarr_format=2, chunks=CHUNKS, compressors=numcodecs.Zlib(1),
                        fill_value=fill, missing={(0, 1), (2, 3)})
    assert json.loads((root / ".zarray").read_text())["dtype"] == dtype  # written as asked
    expect_fill = np.array(fill).astype(dt.newbyteorder("="))
    np.testing.assert_array_equal(truth[0:16, 20:40], np.full((16, 20), expect_fill))  # the fixture's own truth
    arr = zarrlite.open(str(root))
    assert_same(arr[...], truth)
    assert_same(np.asarray(arr.fill_value), expect_fill)

"""N5 written by tensorstore's `n5` driver and by hand (Java N5 style: truncated edge blocks,
varlength mode 1, Java LZ4BlockOutputStream "lz4") reads back in C order: shape = reversed N5
`dimensions`, so data written x-first reads as its transpose."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarrlite
from writers import assert_same, make_data, manual_n5, n5_block, n5_group, ts_n5

N5_DTYPES = ["uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64", "float32", "float64"]
TS_COMPRESSIONS = {
    "raw": {"type": "raw"},
    "gzip": {"type": "gzip", "level": 5, "useZlib": False},
    "gzip-zlib": {"type": "gzip", "level": 5, "useZlib": True},
    "bzip2": {"type": "bzip2", "blockSize": 9},
    "xz": {"type": "xz", "preset": 6},
    "blosc": {"type": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1},
    "blosc-zstd-bitshuffle": {"type": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2},
    "zstd": {"type": "zstd", "level": 3},
}
TS_SHAPE = (37, 23, 11)    # tensorstore domain == N5 dimensions (x, y, z)
TS_BLOCK = (16, 10, 4)


@pytest.mark.parametrize("dtype", N5_DTYPES)
def test_tensorstore_dtypes(dtype, fixture_dir):
    root = fixture_dir(f"n5-ts-{dtype}")
    truth = ts_n5(root, make_data(TS_SHAPE, dtype), block_size=TS_BLOCK, data_type=dtype,
                  compression=TS_COMPRESSIONS["gzip"], missing={(1, 1, 1)})
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("compression", TS_COMPRESSIONS)
def test_tensorstore_compression(compression, fixture_dir):
    root = fixture_dir(f"n5-ts-{compression}")
    truth = ts_n5(root, make_data(TS_SHAPE, "uint16", seed=2), block_size=TS_BLOCK, data_type="uint16",
                  compression=TS_COMPRESSIONS[compression], missing={(0, 0, 0), (2, 2, 2)})
    assert_same(zarrlite.open(str(root))[...], truth)


def test_tensorstore_properties(fixture_dir):
    root = fixture_dir("n5-ts-props")
    ts_n5(root, make_data(TS_SHAPE, "int16"), block_size=TS_BLOCK, data_type="int16",
          compression=TS_COMPRESSIONS["raw"])
    arr = zarrlite.open(str(root))
    got = (arr.shape, tuple(arr.chunks), arr.ndim, arr.format, np.dtype(arr.dtype).newbyteorder("="))
    assert got == (TS_SHAPE[::-1], TS_BLOCK[::-1], 3, "n5", np.dtype("int16"))


@pytest.mark.parametrize("sel", [(Ellipsis,), (3, slice(None), slice(2, 30, 5)), (slice(None, None, -2), -1, 0),
                                 (slice(4, 9), slice(9, 21), slice(15, 37))], ids=str)
def test_tensorstore_selection(sel, fixture_dir):
    root = fixture_dir("n5-ts-sel")
    truth = ts_n5(root, make_data(TS_SHAPE, "float32", seed=3), block_size=TS_BLOCK, data_type="float32",
                  compression=TS_COMPRESSIONS["zstd"])
    assert_same(zarrlite.open(str(root))[sel], truth[sel])


# ------------------------------------------------------------------------------ hand-built N5

C_SHAPE = (11, 23, 37)     # zarrlite view (C order); N5 dimensions are (37, 23, 11)
C_CHUNKS = (4, 10, 16)
HAND_COMPRESSIONS = {
    "raw": {"type": "raw"},
    "gzip": {"type": "gzip", "level": -1},
    "gzip-zlib": {"type": "gzip", "level": 6, "useZlib": True},
    "bzip2": {"type": "bzip2", "blockSize": 9},
    "xz": {"type": "xz", "preset": 6},
    "zstd": {"type": "zstd", "level": 3},
    "blosc": {"type": "blosc", "cname": "zstd", "clevel": 5, "shuffle": 1},
    "lz4": {"type": "lz4", "blockSize": 65536},
    "lz4-small-blocks": {"type": "lz4", "blockSize": 256},  # several LZ4Block frames per N5 block
}


@pytest.mark.parametrize("compression", HAND_COMPRESSIONS)
def test_java_style_truncated_edge_blocks(compression, fixture_dir):
    root = fixture_dir(f"n5-hand-{compression}")
    truth = manual_n5(root, make_data(C_SHAPE, "int32", seed=4), chunks_c=C_CHUNKS, data_type="int32",
                      compression=HAND_COMPRESSIONS[compression], missing={(1, 1, 1)})
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("dtype", N5_DTYPES)
def test_hand_built_dtypes(dtype, fixture_dir):
    root = fixture_dir(f"n5-hand-dtype-{dtype}")
    truth = manual_n5(root, make_data(C_SHAPE, dtype, seed=5), chunks_c=C_CHUNKS, data_type=dtype,
                      compression=HAND_COMPRESSIONS["raw"])
    assert_same(zarrlite.open(str(root))[...], truth)


def test_padded_edge_blocks(fixture_dir):
    root = fixture_dir("n5-hand-padded")
    truth = manual_n5(root, make_data(C_SHAPE, "uint16", seed=6), chunks_c=C_CHUNKS, data_type="uint16",
                      compression=HAND_COMPRESSIONS["gzip"], pad_edges=True)
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("compression", ["raw", "gzip"])
def test_varlength_mode_1(compression, fixture_dir):
    """Mode 1 blocks carry an explicit element count (here == the block's product): same data."""
    root = fixture_dir(f"n5-hand-mode1-{compression}")
    truth = manual_n5(root, make_data(C_SHAPE, "float64", seed=7), chunks_c=C_CHUNKS, data_type="float64",
                      compression=HAND_COMPRESSIONS[compression], mode=1)
    assert_same(zarrlite.open(str(root))[...], truth)


def test_missing_blocks_read_as_zero(fixture_dir):
    root = fixture_dir("n5-hand-missing")
    missing = {(0, 0, 0), (2, 2, 2), (1, 0, 2)}
    truth = manual_n5(root, make_data(C_SHAPE, "uint8", seed=8), chunks_c=C_CHUNKS, data_type="uint8",
                      compression=HAND_COMPRESSIONS["raw"], missing=missing)
    assert_same(zarrlite.open(str(root))[...], truth)


def test_hand_built_2d(fixture_dir):
    root = fixture_dir("n5-hand-2d")
    truth = manual_n5(root, make_data((100, 70), "uint16", seed=9), chunks_c=(32, 64), data_type="uint16",
                      compression=HAND_COMPRESSIONS["lz4"])
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("compression", ["raw", "gzip", "bzip2", "xz", "zstd", "blosc"])
def test_hand_built_fixture_is_valid_n5(compression, fixture_dir):
    """Fixture sanity (not zarrlite): tensorstore reads our Java-style blocks as we intend."""
    import tensorstore as ts

    root = fixture_dir(f"n5-hand-sanity-{compression}")
    truth = manual_n5(root, make_data(C_SHAPE, "int32", seed=4), chunks_c=C_CHUNKS, data_type="int32",
                      compression=HAND_COMPRESSIONS[compression], missing={(1, 1, 1)})
    t = ts.open({"driver": "n5", "kvstore": {"driver": "file", "path": str(root)}}).result()
    np.testing.assert_array_equal(t.read().result().T, truth)


# --------------------------------------------------------------------------------------- groups


@pytest.fixture(scope="module")
def n5_tree(fixture_dir):
    root = fixture_dir("n5-tree")
    n5_group(root, {"title": "root n5"}, version="4.0.0")
    n5_group(root / "g", {"foo": 1, "bar": [1, 2]})
    n5_group(root / "g" / "h")
    truths = {
        "g/a": manual_n5(root / "g" / "a", make_data((20, 30), "uint16", seed=10), chunks_c=(8, 16),
                         data_type="uint16", compression={"type": "gzip"}, attrs={"resolution": [1.0, 2.0]}),
        "g/h/b": manual_n5(root / "g" / "h" / "b", make_data((5, 6, 7), "float32", seed=11), chunks_c=(2, 3, 4),
                           data_type="float32", compression={"type": "raw"}),
        "s0": ts_n5(root / "s0", make_data((12, 13), "int8", seed=12), block_size=(5, 5), data_type="int8",
                    compression={"type": "raw"}),
    }
    return root, truths


@pytest.mark.parametrize("path", ["g/a", "g/h/b", "s0"])
def test_group_paths(n5_tree, path):
    root, truths = n5_tree
    assert_same(zarrlite.open(str(root))[path][...], truths[path])


@pytest.mark.parametrize("path", ["g/a", "g/h/b", "s0"])
def test_open_with_path(n5_tree, path):
    root, truths = n5_tree
    assert_same(zarrlite.open(str(root), path=path)[...], truths[path])


def test_group_members(n5_tree):
    root, _ = n5_tree
    g = zarrlite.open(str(root))
    assert (sorted(g), sorted(g["g"]), sorted(g["g/h"])) == (["g", "s0"], ["a", "h"], ["b"])


def test_group_and_array_attributes(n5_tree):
    """User attributes come through (the N5 structural keys may or may not be shown)."""
    root, _ = n5_tree
    g = zarrlite.open(str(root))
    got = (g.attrs.get("title"), g["g"].attrs.get("foo"), g["g"].attrs.get("bar"),
           g["g/a"].attrs.get("resolution"), g["g/a"].format)
    assert got == ("root n5", 1, [1, 2], [1.0, 2.0], "n5")


def test_tree_text(n5_tree):
    root, _ = n5_tree
    text = zarrlite.open(str(root)).tree()
    assert all(name in text for name in ("g", "h", "a", "b", "s0"))


def test_wrong_block_header_is_an_error(fixture_dir):
    """A block whose header claims more elements than its data holds is a ChunkError, not garbage."""
    root = fixture_dir("n5-hand-badheader")
    manual_n5(root, make_data((8, 8), "uint16"), chunks_c=(4, 4), data_type="uint16", compression={"type": "raw"})
    block = n5_block(make_data((4, 4), "uint16"), "uint16", {"type": "raw"})
    (root / "0" / "0").write_bytes(block[:-6])  # truncated data
    with pytest.raises((zarrlite.errors.ChunkError, zarrlite.errors.CodecError)):
        zarrlite.open(str(root))[...]


def test_attributes_json_is_parsed_as_json(fixture_dir):
    root = fixture_dir("n5-hand-meta")
    manual_n5(root, make_data((8, 8), "uint16"), chunks_c=(4, 4), data_type="uint16", compression={"type": "raw"},
              attrs={"pixelResolution": {"unit": "um", "dimensions": [0.5, 0.5]}})
    assert json.loads((root / "attributes.json").read_text())["dimensions"] == [8, 8]
    assert zarrlite.open(str(root)).attrs.get("pixelResolution") == {"unit": "um", "dimensions": [0.5, 0.5]}


@pytest.mark.parametrize("compression", [{"type": "raw"}, {"type": "gzip"}])
def test_rank_zero_dataset_written_by_tensorstore(compression, tmp_path):
    """A 0-d dataset: tensorstore stores its one block under the key "0"."""
    import tensorstore as ts

    t = ts.open({"driver": "n5", "kvstore": {"driver": "file", "path": str(tmp_path)}, "create": True,
                 "metadata": {"dimensions": [], "blockSize": [], "dataType": "int32", "compression": compression}}
                ).result()
    t.write(np.int32(-123456)).result()
    assert (tmp_path / "0").is_file()
    a = zarrlite.open(str(tmp_path))
    assert a.shape == () and a[...] == -123456 and a[...].dtype == np.int32

"""Zarr v3 `sharding_indexed` written by zarr-python 3 (`shards=` and an explicit ShardingCodec) and
tensorstore: index at start and end, index codecs with and without crc32c, compressors inside,
empty inner chunks, partial and missing shards, edge shards, nested sharding; full reads and
selections against numpy."""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest
import zarr
import zarrlite
from writers import assert_same, make_data, ts_zarr3, zarr_python

SHAPE = (50, 70)
SHARDS = (20, 30)   # 3 x 3 shards, edge shards in both dimensions
INNER = (5, 10)     # 4 x 3 inner chunks per shard
EMPTY = 2**64 - 1

SELECTIONS = [
    (Ellipsis,), (slice(3, 47, 3), slice(None, None, -7)), (17, slice(None)), (slice(None), -1),
    (slice(19, 22), slice(29, 31)), (slice(None, None, -1), 5), (slice(45, 50), slice(60, 70)),
]


def codecs_json(inner_codecs, index_codecs, index_location, chunk_shape=INNER):
    return [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": list(chunk_shape), "codecs": inner_codecs, "index_codecs": index_codecs,
        "index_location": index_location}}]


BYTES_LE = {"name": "bytes", "configuration": {"endian": "little"}}
BYTES_BE = {"name": "bytes", "configuration": {"endian": "big"}}
CRC = {"name": "crc32c"}
INNER_CODECS = {
    "raw": [BYTES_LE],
    "big-endian": [BYTES_BE],
    "zstd": [BYTES_LE, {"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
    "gzip+crc32c": [BYTES_LE, {"name": "gzip", "configuration": {"level": 1}}, CRC],
    "transpose+blosc": [{"name": "transpose", "configuration": {"order": [1, 0]}}, BYTES_BE,
                        {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle",
                                                            "typesize": 4, "blocksize": 0}}],
}
INDEX_CODECS = {"crc32c": [BYTES_LE, CRC], "plain": [BYTES_LE], "big-endian+crc32c": [BYTES_BE, CRC],
                # any chain of a fixed size: transposes before bytes, several checksums
                "transpose+crc32c": [{"name": "transpose", "configuration": {"order": [1, 0, 2]}}, BYTES_LE, CRC],
                "transpose-all+big-endian+crc32c-twice": [
                    {"name": "transpose", "configuration": {"order": [2, 1, 0]}}, BYTES_BE, CRC, CRC]}


def write_sharded(writer, root, data, *, inner="zstd", index="crc32c", location="end", fill_value=0, shards=SHARDS,
                  inner_shape=INNER, regions=None):
    """Write `data` sharded; `regions` (list of slice tuples) limits what is written (rest = fill)."""
    codecs = codecs_json(INNER_CODECS[inner], INDEX_CODECS[index], location, inner_shape)
    truth = np.full(data.shape, fill_value, data.dtype)
    regions = regions or [tuple(slice(None) for _ in data.shape)]
    if writer == "zarr-python":
        arr = zarr.create_array(str(root), shape=data.shape, dtype=data.dtype, chunks=shards,
                                serializer=zarr.codecs.ShardingCodec.from_dict(codecs[0]), compressors=None,
                                fill_value=fill_value, overwrite=True)
        for r in regions:
            arr[r] = data[r]
    else:
        import tensorstore as ts

        t = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(root)}, "metadata": {
            "shape": list(data.shape), "data_type": data.dtype.name, "fill_value": fill_value, "codecs": codecs,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(shards)}}}},
            create=True, delete_existing=True).result()
        for r in regions:
            t[r].write(data[r]).result()
    for r in regions:
        truth[r] = data[r]
    return truth


def shard_index(path, n_inner, location, crc):
    """Parse a little-endian shard index -> list of (offset, nbytes)."""
    raw = path.read_bytes()
    size = n_inner * 16 + (4 if crc else 0)
    idx = raw[:size] if location == "start" else raw[-size:]
    return [struct.unpack_from("<QQ", idx, 16 * i) for i in range(n_inner)]


WRITERS = ["zarr-python", "tensorstore"]


@pytest.mark.parametrize("location", ["start", "end"])
@pytest.mark.parametrize("index", INDEX_CODECS)
@pytest.mark.parametrize("inner", INNER_CODECS)
@pytest.mark.parametrize("writer", WRITERS)
def test_sharded_full_read(writer, inner, index, location, fixture_dir):
    root = fixture_dir(f"shard-{writer}-{inner}-{index}-{location}")
    truth = write_sharded(writer, root, make_data(SHAPE, "int32", seed=1), inner=inner, index=index,
                          location=location)
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.fixture(scope="module", params=WRITERS)
def partial_shards(request, fixture_dir):
    """Only parts written: shard (0,0) partly (some inner chunks empty), shard (1,1) whole, shard
    (2,2) an edge shard partly, the rest never written. Float data, NaN fill."""
    writer = request.param
    root = fixture_dir(f"shard-partial-{writer}")
    data = make_data(SHAPE, "float32", seed=2)
    regions = [(slice(0, 10), slice(0, 10)), (slice(12, 14), slice(25, 28)), (slice(20, 40), slice(30, 60)),
               (slice(45, 50), slice(65, 70))]
    truth = write_sharded(writer, root, data, inner="gzip+crc32c", fill_value=float("nan"), regions=regions)
    return writer, root, truth


def test_partial_shards_full_read(partial_shards):
    _, root, truth = partial_shards
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("sel", SELECTIONS, ids=str)
def test_partial_shards_selection(partial_shards, sel):
    _, root, truth = partial_shards
    assert_same(zarrlite.open(str(root))[sel], truth[sel])


def test_partial_shards_fixture_has_empty_inner_chunks(partial_shards):
    """Fixture sanity: the index of shard (0,0) marks never-written inner chunks as 2**64-1."""
    _, root, _ = partial_shards
    entries = shard_index(root / "c" / "0" / "0", math.prod(s // i for s, i in zip(SHARDS, INNER)), "end", True)
    assert (EMPTY, EMPTY) in entries and any(e != (EMPTY, EMPTY) for e in entries)


@pytest.mark.parametrize("location", ["start", "end"])
@pytest.mark.parametrize("writer", WRITERS)
def test_inner_chunks_equal_to_fill_are_omitted(writer, location, fixture_dir):
    """Data whose some inner chunks equal the fill value: writers leave them out of the shard."""
    root = fixture_dir(f"shard-empty-inner-{writer}-{location}")
    data = make_data(SHAPE, "uint16", seed=3)
    data[0:5, 0:10] = 9
    data[10:20, 10:30] = 9
    truth = write_sharded(writer, root, data, fill_value=9, location=location)
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("location", ["start", "end"])
@pytest.mark.parametrize("writer", WRITERS)
def test_nested_sharding(writer, location, fixture_dir):
    """A shard whose inner chunks are themselves shards."""
    root = fixture_dir(f"shard-nested-{writer}-{location}")
    inner_shard = {"name": "sharding_indexed", "configuration": {
        "chunk_shape": [5, 5], "codecs": INNER_CODECS["zstd"], "index_codecs": INDEX_CODECS["crc32c"],
        "index_location": "start" if location == "end" else "end"}}
    INNER_CODECS["nested"] = [inner_shard]
    try:
        data = make_data(SHAPE, "int16", seed=4)
        regions = [(slice(0, 50), slice(0, 30)), (slice(30, 50), slice(30, 70))]
        truth = write_sharded(writer, root, data, inner="nested", location=location, inner_shape=(10, 10),
                              fill_value=-1, regions=regions)
    finally:
        del INNER_CODECS["nested"]
    codecs = json.loads((root / "zarr.json").read_text())["codecs"]
    assert codecs[0]["configuration"]["codecs"][0]["name"] == "sharding_indexed"
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int64", "float16", "float64", "complex64"])
def test_zarr_python_shards_argument(dtype, fixture_dir):
    """`shards=` as most users write it (default index codecs: bytes + crc32c, index at the end)."""
    root = fixture_dir(f"shard-zp-{dtype}")
    truth = zarr_python(root, make_data((40, 60), dtype, seed=5), zarr_format=3, chunks=(8, 12), shards=(16, 36),
                        compressors=[zarr.codecs.ZstdCodec(level=1)], fill_value=False if dtype == "bool" else 0)
    assert_same(zarrlite.open(str(root))[...], truth)


@pytest.mark.parametrize("sel", SELECTIONS, ids=str)
@pytest.mark.parametrize("writer", WRITERS)
def test_selection_in_shards(writer, sel, fixture_dir):
    root = fixture_dir(f"shard-sel-{writer}")
    truth = write_sharded(writer, root, make_data(SHAPE, "uint32", seed=6), inner="transpose+blosc",
                          location="start")
    assert_same(zarrlite.open(str(root))[sel], truth[sel])


def test_tensorstore_sharded_3d_with_missing(fixture_dir):
    root = fixture_dir("shard-ts-3d")
    data = make_data((17, 18, 19), "float64", seed=7)
    codecs = codecs_json(INNER_CODECS["zstd"], INDEX_CODECS["crc32c"], "end", (3, 4, 5))
    truth = ts_zarr3(root, data, chunks=(9, 8, 10), data_type="float64", codecs=codecs, fill_value=1.5,
                     missing={(0, 1, 0), (1, 2, 1)})
    assert_same(zarrlite.open(str(root))[...], truth)


def test_inner_chunks_must_divide_the_shard(fixture_dir):
    root = fixture_dir("shard-bad-divide")
    write_sharded("zarr-python", root, make_data(SHAPE, "int32"))
    meta = json.loads((root / "zarr.json").read_text())
    meta["codecs"][0]["configuration"]["chunk_shape"] = [7, 10]
    (root / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(zarrlite.errors.MetadataError):
        zarrlite.open(str(root))[...]


@pytest.mark.parametrize("index", [[BYTES_LE, {"name": "zstd", "configuration": {"level": 1}}],
                                   [BYTES_LE, {"name": "gzip", "configuration": {"level": 1}}, CRC]], ids=str)
def test_index_codecs_of_variable_size_are_refused(index, fixture_dir):
    root = fixture_dir("shard-index-zstd")
    write_sharded("zarr-python", root, make_data(SHAPE, "int32"))
    meta = json.loads((root / "zarr.json").read_text())
    meta["codecs"][0]["configuration"]["index_codecs"] = index
    (root / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(zarrlite.errors.MetadataError, match="index_codecs must be of a fixed size"):
        zarrlite.open(str(root))


@pytest.mark.parametrize("location", ["start", "end"])
def test_transposed_index_with_corrupt_checksum_is_refused(location, fixture_dir):
    root = fixture_dir("shard-index-corrupt")
    write_sharded("tensorstore", root, make_data(SHAPE, "int32"), index="transpose+crc32c", location=location)
    path = root / "c" / "1" / "1"
    shard = bytearray(path.read_bytes())
    n = 4 * 3 * 16 + 4   # the index of 4 x 3 inner chunks and its checksum
    shard[n // 2 if location == "start" else len(shard) - n // 2] ^= 1
    path.write_bytes(bytes(shard))
    with pytest.raises(zarrlite.ZarrliteError, match="crc32c checksum mismatch"):
        zarrlite.open(str(root))[25, 35]


@pytest.mark.parametrize("location", ["start", "end"])
@pytest.mark.parametrize("index", list(INDEX_CODECS))
def test_zarrs_sharded_index_codecs(index, location, fixture_dir):
    """Shards encoded by zarrs (its Rust codecs, through zarr-python's codec pipeline) with each index chain."""
    import warnings

    root = fixture_dir(f"shard-zarrs-{index}-{location}")
    data = make_data(SHAPE, "int32", seed=12)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"}):
            truth = write_sharded("zarr-python", root, data, inner="zstd", index=index, location=location)
    fallback = [str(w.message) for w in caught if "unsupported by ZarrsCodecPipeline" in str(w.message)]
    assert not fallback, fallback   # zarrs wrote it, not zarr-python
    assert_same(zarrlite.open(str(root))[...], truth)
    assert_same(zarrlite.open(str(root))[17:33, 5:64:3], truth[17:33, 5:64:3])

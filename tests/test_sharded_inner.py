"""Inner chunks of shards decoded straight into one buffer per shard (Pipeline.decoder_into: zstd inside
the shard, zarr-python's default), written by zarr-python 3: whole shards, shards one element thick (a
plane of a 3-D stack), partial and edge shards, empty inner chunks, big-endian inner chunks; a corrupt
inner chunk and an index entry outside its shard are errors that say where."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import zarr
import zarrlite
from writers import assert_same, make_data, zarr_python
from zarrlite.codecs.pipeline import ChunkSpec
from zarrlite.errors import ChunkError, CodecError
from zarrlite.stores.memory import MemoryStore

SHAPE = (5, 70, 90)
SHARDS = (1, 32, 48)    # 5 x 3 x 2 shards, edge shards in y and x
INNER = (1, 8, 16)      # 1 x 4 x 3 inner chunks per shard

SELECTIONS = [
    (Ellipsis,), (2,), (slice(None), 5), (slice(None), slice(None), -1),
    (3, slice(0, 32), slice(0, 48)),          # exactly one shard
    (3, slice(32, 64), slice(48, 90)),        # one shard, cut by the array's end in x
    (slice(1, 4), slice(8, 40), slice(16, 80)),
    (slice(None, None, 2), slice(3, 65, 5), slice(None, None, -3)),
    (slice(None, None, -1), slice(0, 64), slice(0, 48)),
]


def _mapping(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module", params=["little", "big"])
def stack(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"sharded-inner-{request.param}")
    data = make_data(SHAPE, "<u2" if request.param == "little" else ">f4", seed=3)
    truth = zarr_python(root, data, zarr_format=3, chunks=INNER, shards=SHARDS,
                        serializer=zarr.codecs.BytesCodec(endian=request.param))
    return root, truth


@pytest.fixture(scope="module")
def holes(tmp_path_factory):
    """Some inner chunks empty (never written: the fill value), also inside shards otherwise whole."""
    root = tmp_path_factory.mktemp("sharded-inner-holes")
    arr = zarr.create_array(str(root), shape=SHAPE, dtype="<u2", chunks=INNER, shards=SHARDS, fill_value=9)
    data = make_data(SHAPE, "<u2", seed=5)
    truth = np.full(SHAPE, 9, "<u2")
    for region in [(slice(0, 3), slice(0, 24), slice(None)), (slice(3, 5), slice(40, 70), slice(0, 80)),
                   (4, slice(0, 8), slice(16, 32))]:
        arr[region] = data[region]
        truth[region] = data[region]
    return root, truth


def test_the_direct_path_is_taken(stack):
    """These reads go through decoder_into (else the tests below would test the other path only)."""
    arr = zarrlite.open(str(stack[0]))
    spec = arr._sharding.chunk_spec(ChunkSpec(arr.meta.chunks, arr.meta.dtype, arr.meta.fill_value))
    assert arr._sharding.inner.decoder_into(spec) is not None


@pytest.mark.parametrize("sel", SELECTIONS, ids=repr)
def test_selections(stack, sel):
    root, truth = stack
    assert_same(zarrlite.open(str(root))[sel], truth[sel])


@pytest.mark.parametrize("sel", SELECTIONS, ids=repr)
def test_selections_after_the_index_is_cached(stack, sel):
    """A second read of the same shards finds their indexes cached and reads inner chunks by range."""
    root, truth = stack
    arr = zarrlite.open(str(root))
    for shard in [(2, 0, 0), (3, 1, 1)]:
        assert zarrlite.run_sync(arr.shard_index(shard), "") is not None
    assert_same(arr[sel], truth[sel])
    assert_same(arr[sel], truth[sel])


@pytest.mark.parametrize("sel", SELECTIONS, ids=repr)
def test_empty_inner_chunks(holes, sel):
    root, truth = holes
    assert_same(zarrlite.open(str(root))[sel], truth[sel])


def test_concurrent_reads_share_nothing_they_should_not(stack):
    """Many reads at once (their inner chunks decoded by the same threads into buffers that are reused)."""
    root, truth = stack
    arr = zarrlite.open(str(root))

    async def reads():
        import asyncio
        return await asyncio.gather(*(arr.get(s) for s in SELECTIONS * 4))

    for got, sel in zip(zarrlite.run_sync(reads(), ""), SELECTIONS * 4):
        assert_same(got, truth[sel])


def _entry(mapping, key, k):
    """(offset, nbytes) of inner chunk `k` (C order) of the shard at `key` (index at the end, + crc32c)."""
    n = 4 * 3 * 16
    return struct.unpack_from("<QQ", mapping[key], len(mapping[key]) - n - 4 + 16 * k)


@pytest.mark.parametrize("whole", [True, False], ids=["whole-read", "by-range"])
@pytest.mark.parametrize("key, coords, x", [("c/2/0/0", (2, 1, 1), 16), ("c/2/0/1", (2, 1, 4), 64)],
                         ids=["shard-inside", "edge-shard"])
def test_a_corrupt_inner_chunk_names_itself(stack, key, coords, x, whole):
    """Inner chunk 4 (within (0, 1, 1)) of a shard overwritten; read with its shard wanted whole (the
    shard inside the array: all of its region; the edge shard: cut by the array's end), or by range."""
    root, _ = stack
    mapping = _mapping(root)
    offset, nbytes = _entry(mapping, key, 4)
    data = bytearray(mapping[key])
    data[offset:offset + nbytes] = bytes(range(256)) * (nbytes // 256) + bytes(nbytes % 256)
    mapping[key] = bytes(data)
    sel = (2,) if whole else (2, slice(8, 16), slice(x, x + 16))
    with pytest.raises((ChunkError, CodecError)) as info:
        zarrlite.open(MemoryStore(mapping))[sel]
    assert f"inner chunk {coords}" in str(info.value) and key in str(info.value), str(info.value)


def test_an_index_entry_outside_a_shard_read_whole(stack):
    import crc32c

    root, _ = stack
    mapping = _mapping(root)
    key = "c/1/1/0"
    data = bytearray(mapping[key])
    n = 4 * 3 * 16
    index = bytearray(data[-n - 4:-4])
    struct.pack_into("<QQ", index, 16 * 5, len(data) - 10, 200)
    data[-n - 4:] = index + crc32c.crc32c(bytes(index)).to_bytes(4, "little")
    mapping[key] = bytes(data)
    with pytest.raises(ChunkError, match="points outside the shard") as info:
        zarrlite.open(MemoryStore(mapping))[1]
    assert key in str(info.value) and "[0, 1, 2]" in str(info.value), str(info.value)


def test_shards_decoded_chunk_by_chunk_past_the_stage_size(stack, monkeypatch):
    """A shard larger than WHOLE_STAGE_MAX, read whole, is decoded a few inner chunks at a time."""
    from zarrlite import sharded_reads

    monkeypatch.setattr(sharded_reads, "WHOLE_STAGE_MAX", 0)
    root, truth = stack
    for sel in SELECTIONS:
        assert_same(zarrlite.open(str(root))[sel], truth[sel])

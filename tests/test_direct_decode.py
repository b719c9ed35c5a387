"""zstd and blosc chunks decoded straight into a kept buffer (Pipeline.decoder_into; chunks read from a
local store or fetched from another) and only as far as the selection reads (zstd: a prefix; blosc: the
blocks read): planes, boxes, steps against numpy, for data written by zarr-python 3; the zstd prefix
against numcodecs' whole decode; corrupt and truncated chunks are errors that name the chunk."""

from __future__ import annotations

import struct

import numcodecs
import numpy as np
import pytest
import zarr
import zarrlite
from writers import assert_same, make_data, zarr_python
from zarrlite.codecs import native
from zarrlite.codecs.pipeline import ChunkSpec
from zarrlite.errors import ChunkError, CodecError
from zarrlite.stores.memory import MemoryStore

SHAPE = (20, 50, 40)
CHUNKS = (8, 16, 16)   # edge chunks in every dimension

SELECTIONS = [
    (Ellipsis,), (0,), (5,), (7,), (8,), (19,), (slice(3, 4),), (slice(None), 17), (slice(None), slice(None), 39),
    (slice(2, 13), slice(10, 40), slice(5, 30)), (slice(None, None, 3), slice(1, 49, 7), slice(None, None, -2)),
    (slice(None, None, -1), 3, slice(0, 16)), (6, 15, 15),
]


COMPRESSORS = {
    "zstd": lambda: zarr.codecs.ZstdCodec(level=3),
    # blocks of 256 bytes: a selection leaves some out (blosc_getitem decodes the others)
    "blosc": lambda: zarr.codecs.BloscCodec(cname="lz4", clevel=5, shuffle="shuffle", blocksize=256),
}


@pytest.fixture(scope="module", params=[("<u2", "zstd"), (">f4", "zstd"), ("<i8", "zstd"), ("<u2", "blosc"),
                                        (">f4", "blosc")], ids="-".join)
def stack(request, tmp_path_factory):
    dtype, codec = request.param
    root = tmp_path_factory.mktemp(f"direct-{codec}-" + dtype.replace("<", "le").replace(">", "be"))
    endian = "big" if dtype[0] == ">" else "little"
    truth = zarr_python(root, make_data(SHAPE, dtype, seed=2), zarr_format=3, chunks=CHUNKS,
                        serializer=zarr.codecs.BytesCodec(endian=endian), compressors=COMPRESSORS[codec]())
    return root, truth


def test_the_direct_path_is_taken(stack):
    arr = zarrlite.open(str(stack[0]))
    assert arr.meta.pipeline.decoder_into(ChunkSpec(arr.meta.chunks, arr.meta.dtype)) is not None
    assert arr.meta.pipeline.bytes_bytes[0].decompress_part_into() is not None


def _open(root, where):
    """The array from its directory (a local store: chunks read and decoded on worker threads) or from
    memory (a store without blocking reads: chunks fetched, then decoded through the decode queue)."""
    if where == "local":
        return zarrlite.open(str(root))
    return zarrlite.open(MemoryStore({p.relative_to(root).as_posix(): p.read_bytes()
                                      for p in root.rglob("*") if p.is_file()}))


@pytest.mark.parametrize("where", ["local", "memory"])
@pytest.mark.parametrize("sel", SELECTIONS, ids=repr)
def test_selections(stack, sel, where):
    root, truth = stack
    assert_same(_open(root, where)[sel], truth[sel])


def test_prefixes_match_the_whole_decode():
    rng = np.random.default_rng(7)
    raw = (rng.normal(1000, 40, 300_000)).astype("<u2").tobytes()
    frame = numcodecs.Zstd(level=5).encode(raw)
    src = np.frombuffer(frame, np.uint8)
    prefix = native.zstd_decompress_prefix()
    for stop in [1, 2, 4095, 131072, 131073, 400_000, len(raw) - 1, len(raw)]:
        dst = np.zeros(len(raw), np.uint8)
        got = prefix(dst.ctypes.data, len(raw), src.ctypes.data, src.size, stop)
        assert got >= stop and dst[:stop].tobytes() == raw[:stop]
    dst = np.zeros(len(raw), np.uint8)
    assert prefix(dst.ctypes.data, len(raw) - 2, src.ctypes.data, src.size, 100) < 100   # not the frame's size
    assert prefix(dst.ctypes.data, len(raw), src.ctypes.data, src.size // 2, len(raw) - 10) < len(raw) - 10


def _chunk(root, key):
    return root / "c" / key.replace(".", "/")


@pytest.mark.parametrize("where", ["local", "memory"])
@pytest.mark.parametrize("how", ["bad-header", "truncated"])
def test_a_corrupt_chunk_names_itself(stack, how, where, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(stack[0], root)
    path = _chunk(root, "1.1.0")
    data = path.read_bytes()
    if how == "truncated":
        data = data[:len(data) // 10]
    elif "blosc" in str(root):   # a header that says more compressed bytes than there are
        data = data[:12] + struct.pack("<I", len(data) + 100) + data[16:]
    else:   # not a zstd frame
        data = bytes(4) + data[4:]
    path.write_bytes(data)
    with pytest.raises((ChunkError, CodecError)) as info:
        _open(root, where)[10]   # the chunk's third plane: the first 3/8 of it decoded
    assert "(1, 1, 0)" in str(info.value), str(info.value)

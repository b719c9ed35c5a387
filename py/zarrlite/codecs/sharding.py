"""The `sharding_indexed` codec: a shard holds a grid of inner chunks and an index of
(offset, nbytes) pairs. Decoding a whole shard is here; reading only some inner chunks of a shard
with byte ranges (the usual case) is done by array.py with `index_range`, `decode_index` and `inner`."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ..errors import ChunkError, MetadataError
from .array_codecs import BytesCodec, TransposeCodec
from .checksums import Checksum32
from .crc32c import Crc32cCodec
from .pipeline import ArrayBytesCodec, ChunkSpec, Pipeline

EMPTY = np.uint64(2**64 - 1)
CHECKSUMS = (Crc32cCodec, Checksum32)   # each adds 4 bytes: an index of fixed size, read with one range


@dataclass(frozen=True)
class ShardingCodec(ArrayBytesCodec):
    chunk_shape: tuple[int, ...]
    inner: Pipeline
    index: Pipeline
    index_location: str = "end"

    def __post_init__(self):
        if self.index_location not in ("start", "end"):
            raise MetadataError(f"sharding: index_location must be 'start' or 'end', not {self.index_location!r}")
        if any(not isinstance(c, int) or c <= 0 for c in self.chunk_shape):
            raise MetadataError(f"sharding: inner chunk_shape {list(self.chunk_shape)} must be positive integers")
        fixed = (all(isinstance(c, TransposeCodec) for c in self.index.array_array)
                 and isinstance(self.index.array_bytes, BytesCodec)
                 and all(isinstance(c, CHECKSUMS) for c in self.index.bytes_bytes))
        if not fixed:
            raise MetadataError("sharding: index_codecs must be of a fixed size: transposes, bytes, then "
                                f"checksums, not {', '.join(self.index.describe())}")

    @property
    def is_async(self):
        return self.inner.is_async

    def describe(self):
        return f"sharding(inner chunks {list(self.chunk_shape)}: {', '.join(self.inner.describe())}; index at {self.index_location})"

    def grid(self, shard_shape) -> tuple[int, ...]:
        if len(shard_shape) != len(self.chunk_shape) or any(s % c for s, c in zip(shard_shape, self.chunk_shape)):
            raise MetadataError(f"sharding: shard shape {list(shard_shape)} is not a multiple of the inner "
                                f"chunk shape {list(self.chunk_shape)}")
        return tuple(s // c for s, c in zip(shard_shape, self.chunk_shape))

    def index_nbytes(self, grid) -> int:
        return math.prod(grid) * 16 + 4 * len(self.index.bytes_bytes)  # 4 per checksum (all are)

    def index_range(self, grid) -> tuple[int, int]:
        """(start, length) for get_range; start is negative (a suffix) when the index is at the end."""
        n = self.index_nbytes(grid)
        return (0, n) if self.index_location == "start" else (-n, n)

    def decode_index(self, data, grid) -> np.ndarray:
        if data is None or len(data) != self.index_nbytes(grid):
            got = "nothing" if data is None else f"{len(data)} bytes"
            raise ChunkError(f"shard index: expected {self.index_nbytes(grid)} bytes, got {got}")
        spec = ChunkSpec((*grid, 2), np.dtype("u8"))
        return self.index.decode_sync(data, spec)

    def chunk_spec(self, spec: ChunkSpec) -> ChunkSpec:
        return ChunkSpec(self.chunk_shape, spec.dtype, spec.fill_value, spec.budget)

    @staticmethod
    def locate(index, coords, shard_nbytes: int | None = None):
        """(offset, nbytes) of an inner chunk, or None when it is empty; checked against the shard size."""
        offset, nbytes = index[coords]
        if offset == EMPTY and nbytes == EMPTY:
            return None
        offset, nbytes = int(offset), int(nbytes)
        if shard_nbytes is not None and offset + nbytes > shard_nbytes:
            raise ChunkError(f"shard index entry {list(coords)} points outside the shard "
                             f"(bytes {offset}..{offset + nbytes} of {shard_nbytes})")
        return offset, nbytes

    @staticmethod
    def locate_all(index, shard_nbytes: int) -> list:
        """`locate` of every inner chunk, in C order of their coordinates: [offset, nbytes], or None when
        empty; one check against the shard size for all of them."""
        entries = index.reshape(-1, 2)
        offsets, sizes = entries[:, 0], entries[:, 1]
        empty = (offsets == EMPTY) & (sizes == EMPTY)
        outside = ~empty & ((offsets > shard_nbytes) | (sizes > shard_nbytes - np.minimum(offsets, shard_nbytes)))
        if outside.any():
            first = int(np.flatnonzero(outside)[0])
            within = tuple(int(c) for c in np.unravel_index(first, index.shape[:-1]))
            ShardingCodec.locate(index, within, shard_nbytes)  # raises, saying where
        where = entries.tolist()
        if empty.any():
            for i in np.flatnonzero(empty).tolist():
                where[i] = None
        return where

    def max_encoded_size(self, spec):
        return 2 * spec.nbytes + self.index_nbytes(self.grid(spec.shape)) + 65536

    def decode_steps(self, data, spec: ChunkSpec):
        grid = self.grid(spec.shape)
        n = self.index_nbytes(grid)
        if len(data) < n:
            raise ChunkError(f"shard of {len(data)} bytes is too short for its {n}-byte index")
        mv = memoryview(data)
        index = self.decode_index(mv[:n] if self.index_location == "start" else mv[len(mv) - n:], grid)
        out = np.full(spec.shape, spec.fill_value, dtype=spec.dtype)
        inner_spec = self.chunk_spec(spec)
        for coords in itertools.product(*(range(g) for g in grid)):
            where = self.locate(index, coords, len(data))
            if where is None:
                continue
            offset, nbytes = where
            chunk = yield from self.inner.decode_steps(mv[offset:offset + nbytes], inner_spec)
            region = tuple(slice(c * s, (c + 1) * s) for c, s in zip(coords, self.chunk_shape))
            out[region] = chunk
        return out

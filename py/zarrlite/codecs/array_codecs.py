"""The `bytes` (endianness) array->bytes codec and the `transpose` array->array codec."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MetadataError
from .pipeline import ArrayArrayCodec, ArrayBytesCodec, ChunkSpec, bytes_to_array


@dataclass(frozen=True)
class BytesCodec(ArrayBytesCodec):
    """Raw bytes in C order. `endian` "little"/"big"; None keeps the dtype's own byte order (zarr v2)."""
    endian: str | None = "little"
    c_order_bytes = True

    def describe(self):
        return f"bytes({self.endian})" if self.endian else "bytes"

    def decode_steps(self, data, spec: ChunkSpec):
        return self.decoder(spec)(data)
        yield  # pragma: no cover - a generator with no compressor calls

    def stored_dtype(self, spec: ChunkSpec) -> np.dtype:
        """The dtype of the decoded bytes (Pipeline.decoder_into): the chunk's, in the stored byte order."""
        if self.endian is not None and spec.dtype.itemsize > 1:
            return spec.dtype.newbyteorder("<" if self.endian == "little" else ">")
        return spec.dtype

    def decoder(self, spec: ChunkSpec):
        """decoded bytes -> the chunk, for chunks of `spec` (Pipeline.decoder)."""
        stored = ChunkSpec(spec.shape, self.stored_dtype(spec), spec.fill_value)
        return lambda data: bytes_to_array(data, stored)


@dataclass(frozen=True)
class TransposeCodec(ArrayArrayCodec):
    order: tuple[int, ...]

    def __post_init__(self):
        if sorted(self.order) != list(range(len(self.order))):
            raise MetadataError(f"transpose order {list(self.order)} is not a permutation")

    def describe(self):
        return f"transpose{list(self.order)}"

    def resolve(self, spec: ChunkSpec) -> ChunkSpec:
        if len(self.order) != len(spec.shape):
            raise MetadataError(f"transpose order {list(self.order)} does not match {len(spec.shape)} dimensions")
        return ChunkSpec(tuple(spec.shape[i] for i in self.order), spec.dtype, spec.fill_value, spec.budget)

    def decode(self, arr: np.ndarray, spec: ChunkSpec) -> np.ndarray:
        return arr.transpose(np.argsort(self.order))

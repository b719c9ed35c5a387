"""zfp (`numcodecs.zfpy`): an array->bytes codec for floating-point (and integer) arrays, decoded by the
`zfpy` package (CPython only: no Pyodide or WASM build to bundle). In zarr v2 metadata it is the
compressor; it becomes the array->bytes step here, as zarr-python 3 declares it.

numcodecs writes zfp streams with a full header (magic, field, mode). The field's type and extents are
read from it first, so a stream that would decode to more than the chunk is refused before zfpy
allocates anything.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import CodecError
from . import registry
from .pipeline import ChunkSpec, PackageArrayCodec

try:
    import zfpy
except ImportError:  # no zfpy here: availability.py says so by name
    zfpy = None

_MAGIC = b"zfp"
_TYPES = {0: np.dtype("i4"), 1: np.dtype("i8"), 2: np.dtype("f4"), 3: np.dtype("f8")}
_EXTENT_BITS = {1: 48, 2: 24, 3: 16, 4: 12}


def header_field(data) -> tuple[np.dtype, tuple[int, ...]]:
    """(dtype, numpy shape) from a zfp stream's header: magic and codec version in its first 32 bits,
    then a 52-bit field description (LSB first): type, dimensionality, extents - 1 with x fastest."""
    if len(data) < 16 or bytes(data[:3]) != _MAGIC:
        raise CodecError("zfpy: not a zfp stream with a header (bad magic)")
    meta = int.from_bytes(bytes(data[4:16]), "little") & ((1 << 52) - 1)
    dtype, dims = _TYPES[meta & 3], ((meta >> 2) & 3) + 1
    bits = _EXTENT_BITS[dims]
    extents = [((meta >> (4 + bits * i)) & ((1 << bits) - 1)) + 1 for i in range(dims)]
    return dtype, tuple(reversed(extents))


class ZfpCodec(PackageArrayCodec):
    name = "zfpy"

    def describe(self):
        mode = self.config.get("mode")
        return "zfpy" if mode is None else f"zfpy(mode={mode})"

    def decode_chunk(self, data, spec: ChunkSpec):
        return decode(data, spec)


def decode(data, spec: ChunkSpec) -> np.ndarray:
    dtype, shape = header_field(data)
    if dtype != spec.dtype.newbyteorder("=") or math.prod(shape) != math.prod(spec.shape):
        raise CodecError(f"zfpy: the stream holds {'x'.join(map(str, shape))} of {dtype}, not the chunk's "
                         f"{'x'.join(map(str, spec.shape))} of {spec.dtype}")
    try:
        out = zfpy.decompress_numpy(bytes(data))
    except (RuntimeError, ValueError, TypeError) as e:
        raise CodecError(f"zfpy: {e}") from e
    if out.dtype != dtype or out.size != math.prod(spec.shape):
        raise CodecError(f"zfpy: decoded {out.size} values of {out.dtype}, expected the header's")
    return out.reshape(spec.shape)


if zfpy is not None:
    registry.register("zfpy", ZfpCodec)

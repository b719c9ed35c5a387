"""N5's block format as an array->bytes codec: a big-endian header (mode, ndim, block size x-first,
and in mode 1 an element count), then the compressed big-endian data. A block may be smaller than the
dataset's blockSize (at the edge, or anywhere as rust-n5 writes them): it decodes padded to full size."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ChunkError
from .pipeline import ArrayBytesCodec, ChunkSpec, describe


@dataclass(frozen=True)
class N5BlockCodec(ArrayBytesCodec):
    compressor: Any = None  # None: raw
    lz4_java_blocks: bool = False  # N5's "lz4": lz4-java's LZ4BlockOutputStream framing around LZ4 blocks

    @property
    def is_async(self):
        return hasattr(self.compressor, "decode_async")

    def describe(self):
        return f"n5-block({describe(self.compressor) if self.compressor else 'raw'})"

    def max_encoded_size(self, spec):
        return spec.nbytes + 12 + 4 * len(spec.shape) + spec.nbytes // 8 + 4096

    def decode_steps(self, data, spec: ChunkSpec):
        shape, count, header = parse_header(data, spec.shape)
        expected = count * spec.dtype.itemsize
        payload = memoryview(data)[header:]
        if self.compressor is None:
            raw = payload
        elif self.lz4_java_blocks:
            raw = yield from lz4_java_steps(payload, expected, self.compressor)
        else:
            raw = yield self.compressor, payload, expected
        if len(raw) < math.prod(shape) * spec.dtype.itemsize:
            raise ChunkError(f"N5 block: {len(raw)} bytes of data for a block of {list(shape)} "
                             f"({math.prod(shape) * spec.dtype.itemsize} bytes)")
        block = np.frombuffer(raw, dtype=spec.dtype.newbyteorder(">"), count=math.prod(shape)).reshape(shape)
        if shape == tuple(spec.shape):
            return block
        # A block smaller than blockSize (Java N5 writes edge blocks so, rust-n5 any block): its data
        # padded with the fill value, as tensorstore reads it.
        full = np.full(spec.shape, spec.fill_value, dtype=block.dtype)
        full[tuple(slice(0, n) for n in shape)] = block
        return full


def parse_header(data, chunk_shape) -> tuple[tuple[int, ...], int, int]:
    """(block shape in C order, element count, header length), checked against the dataset's block size."""
    if len(data) < 4:
        raise ChunkError(f"N5 block: {len(data)} bytes is too short for a header")
    mode, ndim = struct.unpack_from(">HH", data, 0)
    if mode not in (0, 1):
        raise ChunkError(f"N5 block: mode {mode} is not supported (0 default, 1 varlength; 2 is object data)")
    if ndim != len(chunk_shape):
        raise ChunkError(f"N5 block: header has {ndim} dimensions, the dataset {len(chunk_shape)}")
    header = 4 + 4 * ndim + (4 if mode == 1 else 0)
    if len(data) < header:
        raise ChunkError("N5 block: truncated header")
    dims = struct.unpack_from(f">{ndim}I", data, 4)
    shape = tuple(reversed(dims))
    if any(s > c for s, c in zip(shape, chunk_shape)):
        raise ChunkError(f"N5 block: block size {list(dims)} exceeds the dataset's blockSize "
                         f"{list(reversed(chunk_shape))}")
    count = math.prod(shape)
    if mode == 1:
        count = struct.unpack_from(">I", data, 4 + 4 * ndim)[0]
        if count < math.prod(shape) or count > math.prod(chunk_shape):
            raise ChunkError(f"N5 block: varlength element count {count} does not fit block {list(dims)}")
    return shape, count, header


_LZ4_MAGIC = b"LZ4Block"
_LZ4_HEADER = struct.Struct("<8sBiii")  # magic, token, compressed length, decoded length, checksum


def lz4_java_steps(payload, limit: int, lz4):
    """Decode lz4-java's block stream; each LZ4 block goes to `lz4` (numcodecs' size-prefixed form)."""
    out = bytearray()
    pos = 0
    while pos < len(payload):
        if len(payload) - pos < _LZ4_HEADER.size:
            raise ChunkError("N5 lz4: truncated block header")
        magic, token, clen, dlen, _checksum = _LZ4_HEADER.unpack_from(payload, pos)
        if magic != _LZ4_MAGIC or clen < 0 or dlen < 0:
            raise ChunkError("N5 lz4: bad block header")
        pos += _LZ4_HEADER.size
        if dlen == 0:
            break  # end mark
        if len(out) + dlen > limit:
            raise ChunkError(f"N5 lz4: data exceeds the expected {limit} bytes")
        block = payload[pos:pos + clen]
        if len(block) < clen:
            raise ChunkError("N5 lz4: truncated block")
        pos += clen
        if token & 0xF0 == 0x10:  # stored raw
            out += block
        else:
            out += yield lz4, struct.pack("<I", dlen) + bytes(block), dlen
    return bytes(out)

"""The crc32c checksum codec (Castagnoli). A C implementation is used when installed; the pure-Python
fallback (for Pyodide) only verifies small buffers, where it is cheap: shard indexes, small chunks."""

from __future__ import annotations

import struct

from ..errors import ChunkError
from .pipeline import BytesBytesCodec

try:
    from crc32c import crc32c as _fast_crc32c
except ImportError:  # pragma: no cover - depends on the environment
    _fast_crc32c = None

PURE_PYTHON_LIMIT = 1 << 20


def _table():
    poly = 0x82F63B78
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _table()


def crc32c_pure(data) -> int:
    crc = 0xFFFFFFFF
    t = _TABLE
    for b in bytes(data):
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc32c(data) -> int | None:
    """The checksum, or None when only the slow implementation exists and the data is large."""
    if _fast_crc32c is not None:
        return _fast_crc32c(data)
    if len(data) <= PURE_PYTHON_LIMIT:
        return crc32c_pure(data)
    return None


class Crc32cCodec(BytesBytesCodec):
    name = "crc32c"

    def describe(self):
        return "crc32c"

    def encoded_limit(self, limit):
        return limit + 4

    def decode(self, data, limit):
        if len(data) < 4:
            raise ChunkError(f"crc32c: {len(data)} bytes cannot hold a checksum")
        payload = memoryview(data)[:-4]
        if len(payload) > limit:
            raise ChunkError(f"crc32c: {len(payload)} bytes of data, more than the expected {limit}")
        stored = struct.unpack_from("<I", data, len(data) - 4)[0]
        actual = crc32c(payload)
        if actual is not None and actual != stored:
            raise ChunkError(f"crc32c checksum mismatch (stored {stored:#010x}, computed {actual:#010x})")
        return payload

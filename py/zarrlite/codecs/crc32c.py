"""The crc32c checksum codec (Castagnoli), verified at every size.

CPython uses the `crc32c` package (a dependency there). In Pyodide the browser back-end supplies a WASM
one (codecs/browser.py: ~1 GB/s for 2 MiB). Where neither is at hand a vectorised numpy
implementation runs instead: the data is cut into K lanes whose CRCs advance together, four bytes per step
through two 16-bit tables, and the lane CRCs are then folded pairwise with the linear map "append m zero
bytes" (CRC is linear over GF(2), as in zlib's crc32_combine). 2 MiB: ~200-350 MB/s in CPython, where a
byte-at-a-time Python loop manages ~4 MB/s; in Pyodide (Chromium) ~100-175 MB/s.
"""

from __future__ import annotations

import functools
import struct

import numpy as np

from ..errors import ChunkError
from .pipeline import BytesBytesCodec

try:
    from crc32c import crc32c as native
except ImportError:  # Pyodide: the package has no wheel there
    native = None

_POLY = 0x82F63B78          # Castagnoli, reflected
_SMALL = 4096               # below this many bytes a plain table loop is faster than setting up lanes
_MIN_WORDS_PER_LANE = 16
_MAX_LANES = 1 << 16       # more lanes than this spill the registers out of the cache


def _byte_table() -> np.ndarray:
    c = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        c = np.where(c & 1, (c >> 1) ^ np.uint32(_POLY), c >> 1).astype(np.uint32)
    return c


_TABLE = _byte_table()
_TABLE_LIST = _TABLE.tolist()


# A GF(2)-linear map of the 32-bit register is held as the images of its 32 basis bits, and applied
# through four 256-entry tables (one per byte of the register).
_BITS = (np.arange(256)[:, None] >> np.arange(8)) & 1


def _tables(images: np.ndarray) -> np.ndarray:
    return np.stack([np.bitwise_xor.reduce(np.where(_BITS, images[8 * k:8 * k + 8], 0).astype(np.uint32), axis=1)
                     for k in range(4)])


def _apply(tables: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The map applied to every register in `v`."""
    out = tables[0][v & np.uint32(0xFF)]
    for k in range(1, 4):
        out ^= tables[k][(v >> np.uint32(8 * k)) & np.uint32(0xFF)]
    return out


@functools.lru_cache(maxsize=64)
def _zeros_map(n: int) -> np.ndarray:
    """The tables of the map 'feed n zero bytes' (binary powers of the one-byte map)."""
    basis = np.uint32(1) << np.arange(32, dtype=np.uint32)
    result, power = basis, (_TABLE[basis & np.uint32(0xFF)] ^ (basis >> np.uint32(8))).astype(np.uint32)
    while n:
        if n & 1:
            result = _apply(_tables(power), result)
        power = _apply(_tables(power), power)
        n >>= 1
    return _tables(result)


@functools.lru_cache(maxsize=1)
def _word_tables() -> tuple[np.ndarray, np.ndarray]:
    """Feeding 4 bytes is the map 'feed 4 zero bytes' of (register ^ word): as two 65,536-entry tables."""
    tables = _zeros_map(4)
    low = np.arange(1 << 16, dtype=np.uint32)
    return _apply(tables, low), _apply(tables, low << np.uint32(16))


def _update_small(crc: int, data) -> int:
    t = _TABLE_LIST
    for b in bytes(data):
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def _update(crc: int, data: np.ndarray) -> int:
    """The register after feeding `data` (uint8) from register `crc` (no pre- or post-inversion)."""
    while len(data) >= _SMALL:
        lanes = min(1 << ((len(data) // (4 * _MIN_WORDS_PER_LANE)).bit_length() - 1), _MAX_LANES)
        words = len(data) // (4 * lanes)
        body, data = data[:4 * lanes * words], data[4 * lanes * words:]
        columns = np.ascontiguousarray(body.view("<u4").reshape(lanes, words).T)
        regs = np.zeros(lanes, np.uint32)
        regs[0] = crc
        low, high = _word_tables()
        for column in columns:
            v = regs ^ column
            regs = low[v & np.uint32(0xFFFF)] ^ high[v >> np.uint32(16)]
        length = 4 * words
        while len(regs) > 1:  # lane pairs (a, b) -> a followed by b
            regs = _apply(_zeros_map(length), regs[0::2]) ^ regs[1::2]
            length *= 2
        crc = int(regs[0])
    return _update_small(crc, data)


def crc32c_numpy(data) -> int:
    """crc32c without the native package."""
    raw = np.frombuffer(data, np.uint8) if len(data) else np.zeros(0, np.uint8)
    return _update(0xFFFFFFFF, raw) ^ 0xFFFFFFFF


# A runtime's own implementation (the browser's WASM one): `fn(data) -> int`, or None when it cannot
# answer yet. The last one set wins.
_RUNTIME: list = []


def use_runtime_crc32c(fn) -> None:
    """Compute crc32c with `fn` where the native package is missing."""
    _RUNTIME[:] = [fn]


def crc32c(data) -> int:
    """The crc32c checksum of `data` (bytes-like)."""
    if native is not None:
        return native(data)
    if _RUNTIME:
        value = _RUNTIME[-1](data)
        if value is not None:
            return value
    return crc32c_numpy(data)


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
        if actual != stored:
            raise ChunkError(f"crc32c checksum mismatch (stored {stored:#010x}, computed {actual:#010x})")
        return payload

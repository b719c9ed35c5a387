"""The numcodecs checksum codecs: fletcher32, adler32, crc32 (and crc32c with its `location`), each
verified on decode. Pure Python and numpy (zlib is in every runtime), so the browser checks them too.

numcodecs' Checksum32 family (adler32, crc32, crc32c) stores a little-endian uint32 at `location`
("start" by default, "end" for crc32c); fletcher32 (HDF5's algorithm) appends it.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from ..errors import CodecError, MetadataError
from . import registry
from .crc32c import crc32c
from .pipeline import BytesBytesCodec

_MOD = 65535
_BLOCK = 1 << 16  # words per step: their weighted sum stays below 2**64


def fletcher32(data) -> int:
    """HDF5's Fletcher-32 of `data`: big-endian 16-bit words (an odd last byte is the high byte of a
    last word), both sums reduced with end-around carry, so a sum is 0 only when all its terms are."""
    raw = np.frombuffer(data, np.uint8)
    if raw.size % 2:
        raw = np.concatenate([raw, np.zeros(1, np.uint8)])
    words = raw.view(">u2").astype(np.uint64)
    n = words.size
    sum1 = int(words.sum(dtype=np.uint64)) if n else 0
    # sum2 is the sum of the running sum1 after each word: word i counts n - i times
    sum2 = 0
    for start in range(0, n, _BLOCK):
        block = words[start:start + _BLOCK]
        weights = (n - start - np.arange(block.size, dtype=np.uint64)) % np.uint64(_MOD)
        sum2 += int((block * weights).sum(dtype=np.uint64)) % _MOD
    any_set = sum1 != 0
    return (_fold(sum2, any_set) << 16) | _fold(sum1, any_set)


def _fold(total: int, positive: bool) -> int:
    """The value end-around-carry addition leaves: congruent mod 65535, in 1..65535 unless nothing was added."""
    return (total - 1) % _MOD + 1 if positive else 0


class Checksum32(BytesBytesCodec):
    name = ""
    default_location = "start"

    def __init__(self, config: dict):
        self.config = config
        self.location = config.get("location") or self.default_location
        if self.location not in ("start", "end"):
            raise MetadataError(f"{self.name}: location must be 'start' or 'end', not {self.location!r}")

    def describe(self):
        return self.name if self.location == self.default_location else f"{self.name}(location={self.location})"

    def checksum(self, data) -> int:
        raise NotImplementedError

    def encoded_limit(self, limit):
        return limit + 4

    def decode(self, data, limit):
        if len(data) < 4:
            raise CodecError(f"{self.name}: {len(data)} bytes cannot hold a checksum")
        mv = memoryview(data).cast("B")
        payload, stored = (mv[4:], mv[:4]) if self.location == "start" else (mv[:-4], mv[-4:])
        if len(payload) > limit:
            raise CodecError(f"{self.name}: {len(payload)} bytes of data, more than the expected {limit}")
        expected = struct.unpack("<I", stored)[0]
        actual = self.checksum(payload) & 0xFFFFFFFF
        if actual != expected:
            raise CodecError(f"{self.name} checksum mismatch (stored {expected:#010x}, computed {actual:#010x}): "
                             "the chunk is corrupt")
        return payload


class Fletcher32(Checksum32):
    name = "fletcher32"
    default_location = "end"

    def __init__(self, config):
        super().__init__({**config, "location": "end"})  # numcodecs' fletcher32 has no location

    def checksum(self, data):
        return fletcher32(data)


class Adler32(Checksum32):
    name = "adler32"

    def checksum(self, data):
        return zlib.adler32(data)


class Crc32(Checksum32):
    name = "crc32"

    def checksum(self, data):
        return zlib.crc32(data)


class Crc32cAt(Checksum32):
    """numcodecs' crc32c, which may sit at the start (zarr v3's `crc32c` is always at the end)."""
    name = "crc32c"
    default_location = "end"

    def checksum(self, data):
        return crc32c(data)


for _codec in (Fletcher32, Adler32, Crc32):
    registry.register(_codec.name, _codec)

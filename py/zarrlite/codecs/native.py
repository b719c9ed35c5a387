"""blosc, zstd and lz4 through numcodecs (CPython). Each checks the decoded size announced in the
stream's header against the limit before decoding, so a bomb is refused before any allocation."""

from __future__ import annotations

import struct

from ..errors import CodecError
from . import registry

try:
    import numcodecs.blosc
    import numcodecs.lz4
    import numcodecs.zstd
except ImportError:  # Pyodide without numcodecs: the browser back-end registers these instead
    numcodecs = None


def _check(name, size, limit):
    if size > limit:
        raise CodecError(f"{name}: header announces {size} decoded bytes, more than the expected {limit} "
                         "(corrupt chunk or decompression bomb)")


def blosc_decoded_size(data) -> int:
    if len(data) < 16:
        raise CodecError(f"blosc: {len(data)} bytes is shorter than the 16-byte header")
    return struct.unpack_from("<I", data, 4)[0]


def lz4_decoded_size(data) -> int:
    # numcodecs' LZ4 stores the decoded size as a little-endian uint32 before the LZ4 block
    if len(data) < 4:
        raise CodecError("lz4: truncated header")
    return struct.unpack_from("<I", data, 0)[0]


def zstd_decoded_size(data) -> int | None:
    """Frame_Content_Size of the first frame, or None when the frame does not say."""
    if len(data) < 5 or struct.unpack_from("<I", data, 0)[0] != 0xFD2FB528:
        raise CodecError("zstd: not a zstd frame (bad magic number)")
    desc = data[4]
    fcs_flag, single = desc >> 6, (desc >> 5) & 1
    pos = 5 + (0 if single else 1) + (0, 1, 2, 4)[desc & 3]
    size = (1 if single else 0, 2, 4, 8)[fcs_flag]
    if size == 0:
        return None
    if len(data) < pos + size:
        raise CodecError("zstd: truncated frame header")
    value = int.from_bytes(bytes(data[pos:pos + size]), "little")
    return value + 256 if size == 2 else value


class _Numcodec:
    name = ""

    def __init__(self, config):
        self.config = config

    def decoded_size(self, data):
        raise NotImplementedError

    def decode(self, data, limit):
        size = self.decoded_size(data)
        if size is not None:
            _check(self.name, size, limit)
        try:
            return self.codec.decode(data)
        except (RuntimeError, ValueError, MemoryError) as e:
            raise CodecError(f"{self.name}: {e}") from e


class Blosc(_Numcodec):
    name = "blosc"
    decoded_size = staticmethod(blosc_decoded_size)

    def __init__(self, config):
        super().__init__(config)
        self.codec = numcodecs.blosc.Blosc()

    def decode(self, data, limit):
        size = blosc_decoded_size(data)
        _check("blosc", size, limit)
        cbytes = struct.unpack_from("<I", data, 12)[0]
        if cbytes > len(data):
            raise CodecError(f"blosc: truncated ({len(data)} of {cbytes} bytes)")
        return super().decode(data, limit)


class Zstd(_Numcodec):
    name = "zstd"
    decoded_size = staticmethod(zstd_decoded_size)

    def __init__(self, config):
        super().__init__(config)
        self.codec = numcodecs.zstd.Zstd()


class LZ4(_Numcodec):
    name = "lz4"
    decoded_size = staticmethod(lz4_decoded_size)

    def __init__(self, config):
        super().__init__(config)
        self.codec = numcodecs.lz4.LZ4()


if numcodecs is not None:
    registry.register("blosc", Blosc)
    registry.register("zstd", Zstd)
    registry.register("lz4", LZ4)

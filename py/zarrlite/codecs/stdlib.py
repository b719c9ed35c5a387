"""zlib, gzip, bz2 and lzma from the standard library, each stopping at the size limit."""

from __future__ import annotations

import bz2
import zlib

from ..errors import CodecError
from . import registry

try:  # not in every Pyodide build
    import lzma
except ImportError:  # pragma: no cover - depends on the runtime
    lzma = None


def _too_big(name, limit):
    return CodecError(f"{name}: decoded data exceeds the expected {limit} bytes (corrupt chunk or decompression bomb)")


class _Zlib:
    # wbits: 15 zlib, 31 gzip; 47 accepts both (automatic header detection)
    name = "zlib"
    wbits = 15

    def __init__(self, config):
        self.config = config

    def decode(self, data, limit):
        d = zlib.decompressobj(self.wbits)
        try:
            out = d.decompress(data, limit + 1)
        except zlib.error as e:
            raise CodecError(f"{self.name}: {e}") from e
        if len(out) > limit:
            raise _too_big(self.name, limit)
        if not d.eof:
            raise CodecError(f"{self.name}: stream truncated")
        return out


class _Gzip(_Zlib):
    name = "gzip"
    wbits = 47


class _BZ2:
    def __init__(self, config):
        pass

    def decode(self, data, limit):
        d = bz2.BZ2Decompressor()
        try:
            out = d.decompress(data, limit + 1)
        except (OSError, ValueError) as e:
            raise CodecError(f"bz2: {e}") from e
        if len(out) > limit:
            raise _too_big("bz2", limit)
        if not d.eof:
            raise CodecError("bz2: stream truncated")
        return out


# liblzma allocates the dictionary a stream's header asks for (up to 4 GiB) before decoding anything.
# Allow what the standard presets need (-9: 65 MiB), refuse more.
LZMA_MEMLIMIT = 96 << 20


class _LZMA:
    def __init__(self, config):
        self.format = config.get("format", 1)  # numcodecs default: FORMAT_XZ; 0 = auto

    def decode(self, data, limit):
        d = lzma.LZMADecompressor(lzma.FORMAT_AUTO, memlimit=LZMA_MEMLIMIT)
        try:
            out = d.decompress(data, limit + 1)
        except lzma.LZMAError as e:
            if "limit" in str(e):
                raise CodecError(f"lzma: the stream's header asks for more than {LZMA_MEMLIMIT >> 20} MiB "
                                 "of decoder memory (dictionary size): corrupt or hostile") from e
            raise CodecError(f"lzma: {e}") from e
        if len(out) > limit:
            raise _too_big("lzma", limit)
        if not d.eof:
            raise CodecError("lzma: stream truncated")
        return out


registry.register("zlib", _Zlib)
registry.register("gzip", _Gzip)
registry.register("bz2", _BZ2)
if lzma is not None:
    registry.register("lzma", _LZMA)

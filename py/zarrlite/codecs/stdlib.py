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

# liblzma allocates the dictionary a stream's header asks for (up to 4 GiB) before decoding anything.
# Allow what the standard presets need (-9: 65 MiB), refuse more.
LZMA_MEMLIMIT = 96 << 20


class _Streaming:
    """Decode with a decompressor object asked for at most limit + 1 bytes: a bomb stops there."""
    name = ""
    errors: tuple = ()

    def __init__(self, config):
        self.config = config

    def decompressor(self):
        raise NotImplementedError

    def describe_error(self, e) -> str:
        return f"{self.name}: {e}"

    def decode(self, data, limit):
        d = self.decompressor()
        try:
            out = d.decompress(data, limit + 1)
        except self.errors as e:
            raise CodecError(self.describe_error(e)) from e
        if len(out) > limit:
            raise CodecError(f"{self.name}: decoded data exceeds the expected {limit} bytes "
                             "(corrupt chunk or decompression bomb)")
        if not d.eof:
            raise CodecError(f"{self.name}: stream truncated")
        return out


class _Zlib(_Streaming):
    name = "zlib"
    errors = (zlib.error,)
    wbits = 15  # 15: zlib; 47: zlib or gzip, detected from the header

    def decompressor(self):
        return zlib.decompressobj(self.wbits)


class _Gzip(_Zlib):
    name = "gzip"
    wbits = 47


class _BZ2(_Streaming):
    name = "bz2"
    errors = (OSError, ValueError)

    def decompressor(self):
        return bz2.BZ2Decompressor()


class _LZMA(_Streaming):
    name = "lzma"
    errors = (lzma.LZMAError,) if lzma is not None else ()

    def decompressor(self):
        return lzma.LZMADecompressor(lzma.FORMAT_AUTO, memlimit=LZMA_MEMLIMIT)

    def describe_error(self, e):
        if "limit" in str(e):
            return (f"lzma: the stream's header asks for more than {LZMA_MEMLIMIT >> 20} MiB "
                    "of decoder memory (dictionary size): corrupt or hostile")
        return f"lzma: {e}"


registry.register("zlib", _Zlib)
registry.register("gzip", _Gzip)
registry.register("bz2", _BZ2)
if lzma is not None:
    registry.register("lzma", _LZMA)

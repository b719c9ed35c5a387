"""zlib, gzip, bz2, lzma and (Python 3.14) zstd from the standard library, each stopping at the size limit."""

from __future__ import annotations

import bz2
import zlib

from ..errors import CodecError
from . import registry
from .native import check_decoded_size

try:  # not in every Pyodide build
    import lzma
except ImportError:  # pragma: no cover - depends on the runtime
    lzma = None

try:  # Python 3.14
    from compression import zstd
except ImportError:
    try:  # the same module for Python 3.12-3.13 (backports.zstd)
        from backports import zstd
    except ImportError:
        zstd = None

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


class Zstd:
    """zstd from Python 3.14's `compression.zstd` (or its backport, `backports.zstd`, on 3.12-3.13): used
    where no other back-end has zstd (a Pyodide for Python 3.14 without numcodecs). The headers are
    checked first, as by every back-end; then frame after frame, each decoder asked for no more than what
    is left of the limit + 1."""
    name = "zstd"

    def __init__(self, config):
        self.config = config

    def decode(self, data, limit):
        check_decoded_size("zstd", data, limit)
        parts, size, rest = [], 0, bytes(data)
        while rest:
            d = zstd.ZstdDecompressor()
            try:
                part = d.decompress(rest, limit - size + 1)
            except zstd.ZstdError as e:
                raise CodecError(f"zstd: {e}") from e
            size += len(part)
            if size > limit:
                raise CodecError(f"zstd: decoded data exceeds the expected {limit} bytes "
                                 "(corrupt chunk or decompression bomb)")
            if not d.eof:
                raise CodecError("zstd: stream truncated")
            parts.append(part)
            rest = d.unused_data
        return b"".join(parts)


if zstd is not None and "zstd" not in registry.available():
    registry.register("zstd", Zstd)

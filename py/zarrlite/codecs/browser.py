"""The browser codec back-end: blosc, zstd, lz4 (numcodecs.js WASM) and lzma/xz (xz-decompress WASM),
called through Pyodide's FFI. The worker registers the JS module as `zarrlite_jscodecs` (web/codecs.js)
and calls `register()`.

A codec already provided by the runtime (Python numcodecs, or the stdlib `lzma` in a full Pyodide)
is kept: this back-end only fills gaps. gzip, zlib and bz2 stay with Pyodide's standard library, which
decodes 2-3x faster than fflate (pure JS) in the same worker.
"""

from __future__ import annotations

from ..errors import CodecError
from . import registry
from .native import blosc_decoded_size, lz4_decoded_size, zstd_decoded_size


def _too_big(name, size, limit):
    return CodecError(f"{name}: {size} decoded bytes, more than the expected {limit} "
                      "(corrupt chunk or decompression bomb)")


class WasmCodec:
    """One compressor id served by the JS module; checks the size a header announces before decoding."""

    header_size = {"blosc": blosc_decoded_size, "zstd": zstd_decoded_size, "lz4": lz4_decoded_size}

    def __init__(self, name, module, config):
        self.name = name
        self.config = config
        self._module = module

    async def decode_async(self, data, limit):
        from pyodide.ffi import JsException, to_js

        announced = self.header_size.get(self.name)
        if announced is not None:
            size = announced(data)
            if size is not None and size > limit:
                raise _too_big(self.name, size, limit)
        try:
            out = await self._module.decode(self.name, to_js(memoryview(data)), limit)
        except JsException as e:
            raise CodecError(f"{self.name}: {e}") from e
        if int(out.length) > limit:
            raise _too_big(self.name, int(out.length), limit)
        return out.to_bytes()


def register(module=None) -> list[str]:
    """Register the WASM codecs the runtime lacks; returns the ids registered."""
    if module is None:
        try:
            import zarrlite_jscodecs as module  # registered by web/worker.js
        except ImportError:
            return []
    have = set(registry.available())
    added = []
    for name in module.names:
        name = str(name)
        if name in have:
            continue
        registry.register(name, lambda config, _n=name: WasmCodec(_n, module, config))
        added.append(name)
    return added

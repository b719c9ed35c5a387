"""The browser codec back-end: blosc, zstd, lz4 (numcodecs.js WASM) and lzma/xz (xz-decompress WASM),
called through Pyodide's FFI. The worker registers the JS module as `zarrlite_jscodecs` (web/codecs.js)
and calls `register()`.

A codec already provided by the runtime (Python numcodecs, or the stdlib `lzma` in a full Pyodide)
is kept: this back-end only fills gaps. gzip, zlib and bz2 stay with Pyodide's standard library, which
decodes 2-3x faster than fflate (pure JS) in the same worker.
"""

from __future__ import annotations

from ..errors import CodecError
from . import crc32c, registry
from .native import check_decoded_size


XZ_MAGIC = b"\xfd7zXZ\x00"
SIZE_IN_HEADERS = ("blosc", "zstd", "lz4")


class WasmCodec:
    """One compressor id served by the JS module. Before any decoding, the sizes its headers state (for
    zstd frames without a content size: their blocks) are checked against the limit as in CPython, for
    the WASM decoders (but xz's) cannot stop early."""

    def __init__(self, name, module, config):
        self.name = name
        self.config = config
        self._module = module

    async def decode_async(self, data, limit):
        from pyodide.ffi import JsException, to_js

        if self.name == "lzma" and bytes(data[:6]) != XZ_MAGIC:
            # xz-decompress reads the .xz container (numcodecs' default) only, not legacy .lzma or raw
            raise CodecError("lzma: this chunk is not in the .xz container, the only lzma format this "
                             "browser runtime decodes; a Pyodide with the standard library's lzma module "
                             "reads it (Zarrlite.create({pyodideURL}))")
        if self.name in SIZE_IN_HEADERS:
            check_decoded_size(self.name, data, limit)
        try:
            # to_js copies the bytes into a new Uint8Array (for bytes faster than for a memoryview)
            buf = data if isinstance(data, (bytes, bytearray)) else memoryview(data)
            out = await self._module.decode(self.name, to_js(buf), limit)
        except JsException as e:
            raise CodecError(f"{self.name}: {e}") from e
        if int(out.length) > limit:  # checked before copying it into Python
            raise CodecError(f"{self.name}: decoded {int(out.length)} bytes, more than the expected {limit} "
                             "(corrupt chunk or decompression bomb)")
        return out.to_bytes()


class _LazyModule:
    """The JS codec module imported on first use from `url` (a kernel without our worker, e.g. JupyterLite)."""

    def __init__(self, url: str):
        self.url = url
        self._module = None

    async def decode(self, name, data, limit):
        if self._module is None:
            from pyodide.code import run_js
            from pyodide.ffi import JsException

            try:
                self._module = await run_js(f"import({self.url!r})")
            except JsException as e:
                raise CodecError(f"{name}: the WASM codecs could not be loaded from {self.url} ({e}); "
                                 "install numcodecs in this runtime instead") from e
        return await self._module.decode(name, data, limit)


LAZY_NAMES = ("blosc", "zstd", "lz4", "lzma")


def register_lazy(url: str) -> list[str]:
    """Register the WASM codecs the runtime lacks, to be imported from `url` when first needed."""
    module = _LazyModule(url)
    have = set(registry.available())
    added = [n for n in LAZY_NAMES if n not in have]
    for name in added:
        registry.register(name, lambda config, _n=name: WasmCodec(_n, module, config))
    return added


def default_codecs_url() -> str:
    """codecs.js of the zarrlite site this kernel was served from (JupyterLite lives in `<site>/lab/`)."""
    import js
    from urllib.parse import urljoin

    here = str(js.location.href)
    if "/extensions/" in here:  # a JupyterLite kernel worker: <site>/lab/extensions/...
        return urljoin(here.split("/extensions/", 1)[0] + "/", "../codecs.js")
    return urljoin(here, "codecs.js")


def _js_crc32c(module):
    def compute(data):
        return module.crc32c(memoryview(data).cast("B"))  # read in place; None until its WASM is instantiated
    return compute


def register(module=None) -> list[str]:
    """Register the WASM codecs the runtime lacks, and the module's crc32c; returns the codec ids registered."""
    if module is None:
        try:
            import zarrlite_jscodecs as module  # registered by web/worker.js
        except ImportError:
            return []
    if getattr(module, "crc32c", None) is not None:
        crc32c.use_runtime_crc32c(_js_crc32c(module))
    have = set(registry.available())
    added = []
    for name in module.names:
        name = str(name)
        if name in have:
            continue
        registry.register(name, lambda config, _n=name: WasmCodec(_n, module, config))
        added.append(name)
    return added


def install() -> list[str]:
    """At import in Pyodide: the worker's JS module if it registered one, else lazy loading from the site."""
    return register() or register_lazy(default_codecs_url())

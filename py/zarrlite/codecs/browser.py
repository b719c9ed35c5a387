"""The browser codec back-end: blosc, zstd, lz4 (numcodecs.js WASM) and lzma (xz-decompress and liblzma WASM),
called through Pyodide's FFI. The worker registers the JS module as `zarrlite_jscodecs` (web/codecs.js)
and calls `register()`; another kernel (JupyterLite) finds one on first use (CodecLoader).

A codec already provided by the runtime (Python numcodecs, or the stdlib `lzma` in a full Pyodide)
is kept: this back-end only fills gaps. gzip, zlib and bz2 stay with Pyodide's standard library, which
decodes 2-3x faster than fflate (pure JS) in the same worker.
"""

from __future__ import annotations

import asyncio

from ..errors import CodecError
from ..stores.base import HeldValue
from . import crc32c, lzma_container, registry
from .native import check_decoded_size, head_decides


SIZE_IN_HEADERS = ("blosc", "zstd", "lz4")


class WasmCodec:
    """One compressor id served by the JS module. Before any decoding, the sizes its headers state (for
    zstd frames without a content size: their blocks) are checked against the limit as in CPython, for
    the WASM decoders (but xz's) cannot stop early.

    `takes_held`: `data` may be a value held by the chunk worker that fetched it (stores/base.py
    HeldValue, from the store's get_held): when its head is enough for that check, it is decoded there;
    else (zstd frames without a content size) its bytes are brought here first."""

    def __init__(self, name, module, config):
        self.name = name
        self.config = config
        self._module = module
        self.takes_held = name in SIZE_IN_HEADERS

    async def decode_async(self, data, limit):
        from pyodide.ffi import JsException, to_js

        if isinstance(data, HeldValue):
            out = await self._decode_held(data, limit)
            if out is not None:
                return self._bytes_of(out, limit)
            data = await data.read()
        decoder = self.name
        if self.name == "lzma":  # .xz to xz-decompress; .lzma and raw streams (given a header) to liblzma
            container, data = lzma_container.for_browser(data, self.config)
            decoder = "lzma" if container == "xz" else "liblzma"
        if self.name in SIZE_IN_HEADERS:
            check_decoded_size(self.name, data, limit)
        try:
            # to_js copies the bytes into a new Uint8Array (for bytes faster than for a memoryview)
            buf = data if isinstance(data, (bytes, bytearray)) else memoryview(data)
            out = await self._module.decode(decoder, to_js(buf), limit)
        except JsException as e:
            raise CodecError(f"{self.name}: {e}") from e
        return self._bytes_of(out, limit)

    async def _decode_held(self, held, limit):
        """The decoded bytes (JS) of `held`, decoded where it is held; None when they must come here."""
        from pyodide.ffi import JsException

        if not (self.takes_held and hasattr(held, "decode") and head_decides(self.name, held.head)):
            return None
        check_decoded_size(self.name, held.head, limit, len(held))
        try:
            return await held.decode(self.name, limit)
        except JsException as e:
            raise CodecError(f"{self.name}: {e}") from e

    def _bytes_of(self, out, limit) -> bytes:
        if int(out.length) > limit:  # checked before copying it into Python
            raise CodecError(f"{self.name}: decoded {int(out.length)} bytes, more than the expected {limit} "
                             "(corrupt chunk or decompression bomb)")
        return out.to_bytes()


WASM_FILE = "wasm/codecs.js"           # in this package: web/codecs.js's bundle, put into the wheel by build-web.sh
NUMCODECS_NAMES = ("blosc", "zstd", "lz4")
LAZY_NAMES = ("blosc", "zstd", "lz4", "lzma")


class CodecLoader:
    """The codecs of a kernel our worker did not start (a JupyterLite: ours, or anyone's with this wheel),
    found on first use, in this order: numcodecs from the Pyodide distribution (blosc, zstd, lz4: its
    lock has it in a full Pyodide), the WASM module this wheel carries (imported through a Blob URL: the
    kernel's files are not served), the site's codecs.js at `url`. `source` says which one serves."""

    def __init__(self, url: str):
        self.url = url
        self.source: str | None = None
        self._numcodecs = None          # a task: did numcodecs load (shared by concurrent first decodes)
        self._module = None             # a task: the JS module

    async def backend(self, name: str, config: dict):
        """A codec for `name`: numcodecs' when it loaded, else the WASM one."""
        if name in NUMCODECS_NAMES:
            if self._numcodecs is None:
                self._numcodecs = asyncio.ensure_future(_load_numcodecs())
            if await self._numcodecs:
                self.source = "numcodecs (the Pyodide distribution)"
                return registry.make_compressor(name, config)   # registered in front of this one
        if self._module is None:
            self._module = asyncio.ensure_future(self._import_module(name))
        return WasmCodec(name, await self._module, config)

    async def _import_module(self, name):
        from pyodide.code import run_js
        from pyodide.ffi import JsException

        errors = []
        own = _own_module_url()
        for url, source in ((own, f"this wheel's {WASM_FILE}"), (self.url, self.url)):
            if url is None:
                continue
            try:
                module = await run_js(f"import({url!r})")
                self.source = source
                return module
            except JsException as e:
                errors.append(f"{source}: {e}")
            finally:
                if url is own:
                    import js

                    js.URL.revokeObjectURL(url)   # the module stays loaded
        self._module = None   # the next chunk tries again
        raise CodecError(f"{name}: the WASM codecs could not be loaded ({'; '.join(errors) or 'none found'}); "
                         "install numcodecs in this runtime instead")


async def _load_numcodecs() -> bool:
    """numcodecs importable, or loaded from the distribution (a rejected load: not in its lock)."""
    from pyodide.ffi import JsException

    try:
        import numcodecs  # noqa: F401 - installed after zarrlite was imported (%pip install)
    except ImportError:
        import pyodide_js

        try:
            await pyodide_js.loadPackage("numcodecs")
        except JsException:
            return False
    from . import native

    return native.register()


def _own_module_url() -> str | None:
    """A Blob URL of the WASM module in this package's files, or None when the wheel has none (built
    without build-web.sh)."""
    from importlib import resources

    path = resources.files(__package__).joinpath(WASM_FILE)
    if not path.is_file():
        return None
    import js
    from pyodide.ffi import to_js

    blob = js.Blob.new(to_js([path.read_bytes()]),
                       to_js({"type": "text/javascript"}, dict_converter=js.Object.fromEntries))
    return str(js.URL.createObjectURL(blob))


class LazyCodec:
    """A codec whose back-end `loader` finds when the first chunk needs it."""

    def __init__(self, name, loader, config):
        self.name = name
        self.config = config
        self.loader = loader
        self._codec = None

    async def decode_async(self, data, limit):
        if self._codec is None:
            self._codec = await self.loader.backend(self.name, self.config)
        if hasattr(self._codec, "decode_async"):
            return await self._codec.decode_async(data, limit)
        return self._codec.decode(data, limit)


def register_lazy(url: str) -> list[str]:
    """Register the codecs the runtime lacks, their back-end found when first needed (CodecLoader)."""
    loader = CodecLoader(url)
    have = set(registry.available())
    added = [n for n in LAZY_NAMES if n not in have]
    for name in added:
        registry.register(name, lambda config, _n=name: LazyCodec(_n, loader, config))
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

"""Where each codec can be decoded: a table, and `unreadable(codec_id, config, runtime)`.

`runtime` is "cpython" (this reader in CPython, with the packages that are installed here) or "browser"
(the zarrlite site's Pyodide with its WASM codecs, web/codecs.js). The answer is None when the codec
decodes there, else a one-line reason. `zarrlite check` reads metadata only and asks this table; the
codec modules raise the same reasons when a chunk is met anyway.

Ids are the registry's: numcodecs ids (zarr v2 `compressor`/`filters`), zarr v3 codec names, and
`numcodecs.<id>` as zarr-python 3 writes them (the prefix is dropped here).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from ..runtime import IN_PYODIDE
from . import lzma_container
from .registry import REFUSED

CPYTHON, BROWSER = "cpython", "browser"


@dataclass(frozen=True)
class Where:
    """`package`: the module CPython needs (None: the standard library or numpy is enough).
    `browser`: None when the browser runtime decodes it, else why not."""
    package: str | None = None
    browser: str | None = None


NO_WASM = "not in the browser runtime (no WASM build of it to bundle)"

TABLE: dict[str, Where] = {
    # zarr v3 core codecs
    "bytes": Where(), "endian": Where(), "transpose": Where(), "crc32c": Where(), "sharding_indexed": Where(),
    # compressors: the standard library in CPython and Pyodide, WASM in the browser where Pyodide lacks it
    "gzip": Where(), "zlib": Where(), "bz2": Where(),
    "lzma": Where(),  # the browser reads .xz, .lzma and most raw filter chains: see _lzma_in_browser
    "blosc": Where("numcodecs"), "zstd": Where("numcodecs"), "lz4": Where("numcodecs"),
    # filters in plain numpy (codecs/filters.py)
    "delta": Where(), "fixedscaleoffset": Where(), "astype": Where(), "quantize": Where(),
    "bitround": Where(), "shuffle": Where(), "packbits": Where(),
    # checksums in plain numpy and zlib (codecs/checksums.py)
    "fletcher32": Where(), "adler32": Where(), "crc32": Where(),
    # variable-length data (codecs/vlen.py): data only, never objects
    "vlen-utf8": Where(), "vlen-bytes": Where(), "json2": Where(),
    # array->bytes codecs of numerical data, from their authors' packages (codecs/pco.py, codecs/zfp.py)
    "pcodec": Where("pcodec", NO_WASM),
    "zfpy": Where("zfpy", NO_WASM),
}

# Names other writers give the same codecs.
ALIASES = {
    "zarrs.bitround": "bitround",
    "https://codec.zarrs.dev/array_to_array/bitround": "bitround",
}



def current_runtime() -> str:
    """The runtime this process is: "browser" in Pyodide, else "cpython"."""
    return BROWSER if IN_PYODIDE else CPYTHON


def canonical(codec_id: str) -> str:
    """The table's id for a codec name as metadata spells it."""
    if codec_id.startswith("numcodecs."):
        codec_id = codec_id[len("numcodecs."):]
    return ALIASES.get(codec_id, codec_id)


def unreadable(codec_id: str, config: dict, runtime: str) -> str | None:
    """None when `codec_id` with `config` decodes in `runtime` ("cpython" or "browser"), else why not."""
    if runtime not in (CPYTHON, BROWSER):
        raise ValueError(f"runtime must be {CPYTHON!r} or {BROWSER!r}, not {runtime!r}")
    cid = canonical(codec_id)
    if codec_id in REFUSED or cid in REFUSED:
        return f"{codec_id}: refused: it can deserialise objects or run code"
    where = TABLE.get(cid)
    if where is None:
        return f"{codec_id}: unknown codec"
    if runtime == BROWSER:
        if cid == "lzma":
            return lzma_container.browser_reason(config or {})  # the rule codecs/browser.py decodes by
        return None if where.browser is None else f"{codec_id}: {where.browser}"
    if where.package is not None and importlib.util.find_spec(where.package) is None:
        return f"{codec_id}: needs the {where.package} package in CPython (pip install {where.package})"
    return None


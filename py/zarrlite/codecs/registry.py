"""The compressor registry. Every format's compressor config is normalised to a canonical id
("blosc", "zstd", "lz4", "gzip", "zlib", "bz2", "lzma") with a numcodecs-style config dict;
a back-end (numcodecs, the standard library, the browser's WASM codecs) registers factories here.
A later registration wins, so a runtime can put its own back-end in front.

A codec made by a factory has `decode(data, limit) -> bytes-like` or `async decode_async(data, limit)`;
`limit` is the most bytes it may produce (a decompression bomb stops there with CodecError).
"""

from __future__ import annotations

from typing import Any, Callable

from ..errors import CodecError

_FACTORIES: dict[str, list[Callable[[dict], Any]]] = {}

# Codecs that would execute or deserialise arbitrary objects: never decoded.
# (vlen-utf8, vlen-bytes and json2 read data only: codecs/vlen.py, registered below.)
REFUSED = frozenset({
    "pickle", "json", "msgpack", "msgpack2", "vlen-array", "categorize", "object",
    "numcodecs.pickle", "numcodecs.msgpack2", "numcodecs.vlen-array", "numcodecs.categorize",
})


def register(name: str, factory: Callable[[dict], Any]) -> None:
    """Make `factory(config)` the preferred implementation of compressor `name`."""
    _FACTORIES.setdefault(name, []).append(factory)


def refuse_if_unsafe(name: str) -> None:
    if name in REFUSED:
        raise CodecError(f"codec {name!r} is refused: it can deserialise objects or run code")


def make_compressor(name: str, config: dict):
    refuse_if_unsafe(name)
    factories = _FACTORIES.get(name)
    if not factories:
        raise CodecError(f"unknown or unsupported codec {name!r}" +
                         ("" if name not in ("blosc", "zstd", "lz4", "lzma") else
                          " (no back-end in this runtime: install numcodecs)"))
    return factories[-1](dict(config))


def available() -> list[str]:
    return sorted(n for n, f in _FACTORIES.items() if f)


def _register_variable_length() -> None:
    from .vlen import CODECS  # pure Python: every runtime decodes them

    for name, codec in CODECS.items():
        register(name, codec)


_register_variable_length()

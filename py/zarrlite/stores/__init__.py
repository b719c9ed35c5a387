"""Stores: tiny async key -> bytes interfaces (see base.Store)."""

from __future__ import annotations

import os

from ..errors import StoreError
from ..runtime import IN_PYODIDE
from .base import Store
from .cache import CachedStore
from .memory import MemoryStore

__all__ = ["Store", "CachedStore", "HttpStore", "LocalStore", "MemoryStore", "ZipStore", "store_for"]

# Imported on first use: http.client, zipfile and their dependencies cost the browser worker ~65 ms of
# start-up, and it never uses these stores (it has stores/browser*.py).
_LAZY = {"HttpStore": ".http", "LocalStore": ".local", "ZipStore": ".zip"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _cached(store, cache_bytes):
    return CachedStore(store, cache_bytes) if cache_bytes else store


def store_for(source, *, cache_bytes: int = 256 << 20, **http_options):
    """A store for a directory path, a .zip path, an http(s) URL, or a store object (returned as is).
    `http_options` (`headers`, `retries`, `timeout`, `backoff`, `concurrency`) go to the HTTP store of the
    runtime: HttpStore in CPython, FetchStore in the browser. `s3://`, `gs://`, `az://` URLs (options
    `region`, `endpoint_url`, `addressing_style`, `account_name`: bucket.CLOUD_OPTIONS) are read over
    HTTPS, anonymously; with `storage_options` (or another protocol) the URL is fsspec's, and an obstore
    store object is read through obstore."""
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    storage_options = http_options.pop("storage_options", None)
    from .refs import reference_store_for  # kerchunk references: a dict, a .json file or URL, a Parquet set
    references = reference_store_for(source, **http_options) if storage_options is None else None
    if references is not None:
        return _cached(references, cache_bytes)
    if not isinstance(source, str):
        from .obstore_store import ObstoreStore, is_obstore
        if is_obstore(source):  # before the store check: obstore's stores have get and get_range methods too
            return _cached(ObstoreStore(source), cache_bytes)
        if all(hasattr(source, m) for m in ("get", "get_range")):
            return source
        raise StoreError(f"cannot open {source!r}: expected a path, a URL or a store")
    scheme = source.partition("://")[0].lower() if "://" in source else ""
    if storage_options is not None or scheme not in ("", "http", "https", "s3", "gs", "az"):
        from .fsspec_store import FsspecStore  # credentials and every other protocol: fsspec's
        return _cached(FsspecStore(source, storage_options), cache_bytes)
    if scheme:
        if IN_PYODIDE:  # no sockets in the browser: fetch
            from .browser_fetch import FetchStore as HttpTransport
        else:
            from .http import HttpStore as HttpTransport
        from .bucket import url_store
        # the same options, meaning the same, in both; s3:// gs:// az:// are read over HTTPS (cloud.py)
        return _cached(url_store(source, HttpTransport, **http_options), cache_bytes)
    if os.path.isdir(source):
        from .local import LocalStore
        return LocalStore(source)
    if os.path.isfile(source) and source.lower().endswith(".zip"):
        from .zip import ZipStore
        return ZipStore(source)
    if os.path.isfile(source):
        raise StoreError(f"cannot open {source!r}: a file that is not a .zip")
    raise StoreError(f"cannot open {source!r}: no such directory or file")

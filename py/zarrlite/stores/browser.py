"""The stores of zarrlite's browser worker (Pyodide only): `store_from_source` for the sources the page
sends."""

from __future__ import annotations

from ..errors import StoreError
from .bucket import CLOUD_OPTIONS, url_store
from .cache import CachedStore
from .browser_fetch import HTTP_OPTIONS, FetchStore
from .browser_files import DirectoryHandleStore, FileStore, ZipFileStore
from .refs import reference_store_for
from .refs_dropped import LocalFilesStore

__all__ = ["DirectoryHandleStore", "FetchStore", "FileStore", "ZipFileStore", "store_from_source"]

# A URL source is cached as in CPython (stores.store_for): concurrent and repeated reads of a chunk or a
# shard index (tiles, boxes) reach the server once. Smaller than CPython's 256 MiB: it is the page's memory.
URL_CACHE_BYTES = 64 << 20


def store_from_source(source):
    """The store for a JS source object as zarrlite.js sends it (see web/protocol.js)."""
    kind = str(source.kind)
    if kind == "url":
        options = getattr(source, "options", None)
        options = options.to_py() if options is not None else {}
        options = {k: options[k] for k in (*HTTP_OPTIONS, *CLOUD_OPTIONS) if options.get(k) is not None}
        references = reference_store_for(str(source.url), **options)  # a .json or .parq URL (refs.py)
        store = references if references is not None else url_store(str(source.url), FetchStore, **options)
        return CachedStore(store, URL_CACHE_BYTES)
    # local files may hold a kerchunk reference file and its targets (refs_dropped.py)
    if kind == "files":
        return LocalFilesStore(FileStore(source.files, source.paths))
    if kind == "directory":
        return LocalFilesStore(DirectoryHandleStore(source.handle))
    if kind == "zip":
        return LocalFilesStore(ZipFileStore(source.file))
    raise StoreError(f"unknown source kind {kind!r}")

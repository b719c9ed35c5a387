"""The stores of zarrlite's browser worker (Pyodide only): `store_from_source` for the sources the page
sends, and `ABORT_SIGNAL`, the hook that lets a page request abort its fetches (see browser_fetch.py)."""

from __future__ import annotations

from ..errors import StoreError
from .browser_fetch import ABORT_SIGNAL, FetchStore
from .browser_files import DirectoryHandleStore, FileStore, ZipFileStore

__all__ = ["ABORT_SIGNAL", "DirectoryHandleStore", "FetchStore", "FileStore", "ZipFileStore", "store_from_source"]


def store_from_source(source):
    """The store for a JS source object as zarrlite.js sends it (see web/protocol.js)."""
    kind = str(source.kind)
    if kind == "url":
        return FetchStore(str(source.url))
    if kind == "files":
        return FileStore(source.files, source.paths)
    if kind == "directory":
        return DirectoryHandleStore(source.handle)
    if kind == "zip":
        return ZipFileStore(source.file)
    raise StoreError(f"unknown source kind {kind!r}")

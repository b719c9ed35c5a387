"""A store over an fsspec file system (CPython, `zarrlite[cloud]`): any fsspec URL (`memory://`, `file://`,
`s3://` with credentials, ...) with its `storage_options`, so that protocols and credentials are
fsspec's, not ours. fsspec's synchronous calls run in a thread; asynchronous file systems run them on
fsspec's own loop, so none is tied to the caller's."""

from __future__ import annotations

import asyncio

from ..errors import StoreError
from .keys import check_key

_MISSING = (FileNotFoundError, IsADirectoryError, NotADirectoryError)


class FsspecStore:
    """Keys below `url` on the fsspec file system its protocol names, made with `storage_options`."""

    def __init__(self, url: str, storage_options: dict | None = None):
        try:
            from fsspec.core import url_to_fs
        except ImportError:
            raise StoreError(f"{url}: storage_options need fsspec (pip install 'zarrlite[cloud]')") from None
        try:
            self.fs, root = url_to_fs(url, **(storage_options or {}))
        except (ValueError, ImportError) as e:  # an unknown protocol, or its package is not installed
            raise StoreError(f"{url}: fsspec cannot open it: {e}") from e
        self.url = url
        self.root = root.rstrip("/")

    def _path(self, key: str) -> str:
        key = check_key(key).strip("/")
        return f"{self.root}/{key}" if key else self.root

    async def _call(self, method, *args):
        try:
            return await asyncio.to_thread(method, *args)
        except _MISSING:
            return None

    async def get(self, key):
        return await self._call(self.fs.cat_file, self._path(key))

    async def get_range(self, key, start, length):
        if start < 0:  # a suffix: fsspec's cat_file counts a negative start from the end
            return await self._call(self.fs.cat_file, self._path(key), start, None)
        end = None if length is None else start + length
        return await self._call(self.fs.cat_file, self._path(key), start, end)

    async def size(self, key):
        return await self._call(self.fs.size, self._path(key))

    async def list(self, prefix=""):
        path = self._path(prefix)
        entries = await self._call(self.fs.ls, path, False)
        if entries is None:
            return []
        head = path.rstrip("/") + "/"
        return sorted({e.rstrip("/")[len(head):].split("/", 1)[0] for e in entries
                       if e.rstrip("/").startswith(head) and len(e.rstrip("/")) > len(head)})

    def __repr__(self):
        return f"FsspecStore({self.url!r})"

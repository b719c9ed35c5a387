from __future__ import annotations

import os

from ..errors import StoreError
from ..runtime import run_cpu
from .keys import check_key


def _read(path: str, start: int, length: int | None) -> bytes | None:
    try:
        with open(path, "rb") as f:
            if start < 0:
                size = os.fstat(f.fileno()).st_size
                f.seek(max(size + start, 0))
                return f.read()
            if start:
                f.seek(start)
            return f.read() if length is None else f.read(length)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as e:
        raise StoreError(f"cannot read {path}: {e.strerror or e}") from e


class LocalStore:
    """A directory on disk. Reads run in a thread so many chunks load at once."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def _path(self, key: str) -> str:
        return os.path.join(self.root, *check_key(key).split("/"))

    def get_sync(self, key, folders: dict | None = None):
        """Blocking read, for callers already on a worker thread (saves a thread hop per chunk).
        `folders`, kept by the caller for one read, remembers which of the key's folders exist, so the
        chunks of a folder never written (N5's "0/1/2", "/"-separated Zarr) cost no open each."""
        if folders is None or "/" not in key:
            return _read(self._path(key), 0, None)
        parts = check_key(key).split("/")[:-1]
        folder = ""
        for part in parts:
            folder = f"{folder}/{part}" if folder else part
            there = folders.get(folder)
            if there is None:
                break
            if not there:
                return None
        data = _read(self._path(key), 0, None)
        if data is None:
            self._learn_folders(parts, folders)
        return data

    def _learn_folders(self, parts: list, folders: dict) -> None:
        # One stat per folder level, once per read: the first level found missing hides all below it.
        folder = ""
        for part in parts:
            folder = f"{folder}/{part}" if folder else part
            there = folders.get(folder)
            if there is None:
                there = folders[folder] = os.path.isdir(os.path.join(self.root, *folder.split("/")))
            if not there:
                return

    async def get(self, key):
        return await run_cpu(_read, self._path(key), 0, None)

    async def get_range(self, key, start, length):
        return await run_cpu(_read, self._path(key), start, length)

    async def size(self, key):
        try:
            return os.path.getsize(self._path(key))
        except OSError:
            return None

    async def list(self, prefix=""):
        prefix = check_key(prefix).strip("/")
        path = self._path(prefix) if prefix else self.root
        try:
            return sorted(os.listdir(path))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def __repr__(self):
        return f"LocalStore({self.root!r})"

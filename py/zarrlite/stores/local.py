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

    def get_sync(self, key):
        """Blocking read, for callers already on a worker thread (saves a thread hop per chunk)."""
        return _read(self._path(key), 0, None)

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

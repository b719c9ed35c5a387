from __future__ import annotations

import os
import threading

from ..errors import StoreError
from ..runtime import run_cpu
from .zipdir import load_directory, run_steps


class ZipStore:
    """A .zip file read lazily: the central directory once, then only the members asked for (the rules,
    shared with the browser's zip store, are in zipdir.py: hostile names skipped, one root-folder rule,
    bounded inflation)."""

    def __init__(self, path_or_file):
        self.name = os.fspath(path_or_file) if isinstance(path_or_file, (str, os.PathLike)) else \
            getattr(path_or_file, "name", repr(path_or_file))
        self._lock = threading.Lock()  # one file position, shared by the reading threads
        try:
            self._file = open(path_or_file, "rb") if isinstance(path_or_file, (str, os.PathLike)) else path_or_file
            size = self._file.seek(0, os.SEEK_END)
            self._dir = run_steps(load_directory(size, str(self.name)), self._read_at)
        except OSError as e:
            raise StoreError(f"cannot open zip {path_or_file!r}: {e}") from e

    def _read_at(self, offset: int, n: int) -> bytes:
        try:
            with self._lock:
                self._file.seek(offset)
                return self._file.read(n)
        except (OSError, ValueError) as e:
            raise StoreError(f"cannot read {self.name}: {e}") from e

    def _read(self, key, start, length):
        return run_steps(self._dir.read(key, start, length), self._read_at)

    async def get(self, key):
        return await run_cpu(self._read, key, 0, None)

    async def get_range(self, key, start, length):
        return await run_cpu(self._read, key, start, length)

    async def size(self, key):
        """The member's stored (compressed) size."""
        return self._dir.size(key)

    async def list(self, prefix=""):
        return self._dir.list(prefix)

    def __repr__(self):
        return f"ZipStore({self.name!r})"

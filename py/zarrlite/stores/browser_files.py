"""Local data the user picked, in the browser: a folder's `File`s, a `FileSystemDirectoryHandle`, a `.zip`
`File`. All lazy: a key is read when asked for, with `File.slice()`, so opening a 20 GB folder reads only
its metadata.

Only importable in Pyodide (it needs `js` and `pyodide.ffi`).
"""

from __future__ import annotations

import js
from pyodide.ffi import JsException

from .base import child_names
from .keys import check_key
from .zipdir import load_directory, run_steps_async


def _bytes(array_buffer) -> bytes:
    return js.Uint8Array.new(array_buffer).to_bytes()


async def _read_blob(blob, start: int, length: int | None) -> bytes:
    size = int(blob.size)
    if start < 0:
        start = max(size + start, 0)
        end = size
    else:
        end = size if length is None else min(start + length, size)
    if start >= end:
        return b""
    return _bytes(await blob.slice(start, end).arrayBuffer())


class FileStore:
    """The files of a picked or dropped folder: `files` and `paths` are parallel JS arrays (File objects
    and their paths inside the folder)."""

    def __init__(self, files, paths):
        self._files = {}
        for i in range(int(files.length)):
            self._files[str(paths[i]).strip("/")] = files[i]

    async def get(self, key):
        f = self._files.get(check_key(key))
        return None if f is None else await _read_blob(f, 0, None)

    async def get_range(self, key, start, length):
        f = self._files.get(check_key(key))
        return None if f is None else await _read_blob(f, start, length)

    async def list(self, prefix=""):
        return child_names(self._files, check_key(prefix))

    def keys(self):
        """Every file's path (what a reference file among them is matched against: refs_dropped.py)."""
        return self._files.keys()

    async def size(self, key):
        f = self._files.get(check_key(key))
        return None if f is None else int(f.size)

    def __repr__(self):
        return f"FileStore({len(self._files)} files)"


class DirectoryHandleStore:
    """A `FileSystemDirectoryHandle` (from `showDirectoryPicker()` or a drop): handles are looked up one
    path segment at a time and cached; files are read with `File.slice()`."""

    def __init__(self, handle):
        self._root = handle
        self._dirs = {"": handle}

    async def _dir(self, path: str):
        if path in self._dirs:
            return self._dirs[path]
        parent, _, name = path.rpartition("/")
        d = await self._dir(parent)
        if d is None:
            return None
        try:
            sub = await d.getDirectoryHandle(name)
        except JsException:
            sub = None
        self._dirs[path] = sub
        return sub

    async def _file(self, key: str):
        parent, _, name = check_key(key).strip("/").rpartition("/")
        d = await self._dir(parent)
        if d is None:
            return None
        try:
            return await (await d.getFileHandle(name)).getFile()
        except JsException:  # NotFoundError, TypeMismatchError (a directory)
            return None

    async def get(self, key):
        f = await self._file(key)
        return None if f is None else await _read_blob(f, 0, None)

    async def size(self, key):
        f = await self._file(key)
        return None if f is None else int(f.size)

    async def get_range(self, key, start, length):
        f = await self._file(key)
        return None if f is None else await _read_blob(f, start, length)

    async def list(self, prefix=""):
        d = await self._dir(check_key(prefix).strip("/"))
        if d is None:
            return []
        names = []
        it = d.keys()
        while True:
            step = await it.next()
            if step.done:
                break
            names.append(str(step.value))
        return sorted(names)

    def __repr__(self):
        return f"DirectoryHandleStore({self._root.name!r})"


class ZipFileStore:
    """A `.zip` `File`, read through zipdir.py (the rules CPython's ZipStore follows too): the central
    directory with two `File.slice()` reads (three for zip64), then each member with one slice of its
    local header (once) and one of its data."""

    def __init__(self, file):
        self._file = file
        self._dir = None

    async def _read_at(self, offset: int, n: int) -> bytes:
        return await _read_blob(self._file, offset, n)

    async def _directory(self):
        if self._dir is None:
            self._dir = await run_steps_async(load_directory(int(self._file.size), str(self._file.name)),
                                              self._read_at)
        return self._dir

    async def get(self, key):
        return await self.get_range(key, 0, None)

    async def get_range(self, key, start, length):
        directory = await self._directory()
        return await run_steps_async(directory.read(key, start, length), self._read_at)

    async def size(self, key):
        """The member's stored (compressed) size."""
        return (await self._directory()).size(key)

    async def list(self, prefix=""):
        return (await self._directory()).list(prefix)

    def __repr__(self):
        return f"ZipFileStore({self._file.name!r})"

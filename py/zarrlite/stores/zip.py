from __future__ import annotations

import threading
import zipfile

from ..errors import StoreError
from ..runtime import run_cpu
from .base import child_names, slice_range
from .keys import check_key


class ZipStore:
    """A .zip file read lazily: the central directory once, then only the members asked for.

    Entries whose names could escape the root (`..`, absolute) are never listed nor served.
    A single zip root folder (as made by zipping a `data.zarr/` directory) is used as the root.
    """

    def __init__(self, path_or_file):
        try:
            self._zip = zipfile.ZipFile(path_or_file)
        except (zipfile.BadZipFile, OSError) as e:
            raise StoreError(f"cannot open zip {path_or_file!r}: {e}") from e
        self._lock = threading.Lock()
        names = {}
        for info in self._zip.infolist():
            name = info.filename
            if info.is_dir():
                continue
            try:
                check_key(name)
            except StoreError:
                continue  # hostile entry: not followed
            names[name] = info
        self._prefix = _common_root(names)
        self._entries = {k[len(self._prefix):]: v for k, v in names.items()}

    def _read(self, key, start, length):
        info = self._entries.get(check_key(key))
        if info is None:
            return None
        with self._lock:
            try:
                if info.compress_type == zipfile.ZIP_STORED and start >= 0:
                    with self._zip.open(info) as f:
                        f.seek(start)
                        return f.read() if length is None else f.read(length)
                data = self._zip.read(info)
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise StoreError(f"zip member {key!r}: {e}") from e
        return slice_range(data, start, length)

    async def get(self, key):
        return await run_cpu(self._read, key, 0, None)

    async def get_range(self, key, start, length):
        return await run_cpu(self._read, key, start, length)

    async def size(self, key):
        """The member's stored (compressed) size."""
        info = self._entries.get(check_key(key))
        return None if info is None else info.compress_size

    async def list(self, prefix=""):
        return child_names(self._entries, prefix)

    def __repr__(self):
        return f"ZipStore({self._zip.filename!r})"


_METADATA = (".zarray", ".zgroup", ".zmetadata", "zarr.json", "attributes.json")


def _common_root(names) -> str:
    """'data.zarr/' when the zip holds one folder with the metadata in it (a zipped `data.zarr/`)."""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) != 1 or not all("/" in n for n in names):
        return ""
    top = tops.pop()
    if any(f"{top}/{m}" in names for m in _METADATA):
        return top + "/"
    return ""

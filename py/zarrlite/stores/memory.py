from __future__ import annotations

from .base import child_names, slice_range
from .keys import check_key


class MemoryStore:
    """A dict of key -> bytes. Used in tests and for data made in the page."""

    def __init__(self, mapping: dict[str, bytes] | None = None):
        self.mapping = dict(mapping or {})

    async def get(self, key):
        return self.mapping.get(check_key(key))

    async def get_range(self, key, start, length):
        data = self.mapping.get(check_key(key))
        return None if data is None else slice_range(data, start, length)

    async def size(self, key):
        data = self.mapping.get(check_key(key))
        return None if data is None else len(data)

    async def list(self, prefix=""):
        return child_names(self.mapping, check_key(prefix))

    def __repr__(self):
        return f"MemoryStore({len(self.mapping)} keys)"

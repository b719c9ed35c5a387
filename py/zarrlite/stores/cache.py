"""A store wrapper that keeps recently read values within a byte budget (LRU), and shares
a read already in flight instead of issuing it twice. Failed reads are not kept."""

from __future__ import annotations

import asyncio
from collections import OrderedDict


class CachedStore:
    def __init__(self, store, max_bytes: int = 256 << 20):
        self.store = store
        self.max_bytes = max_bytes
        self._values: OrderedDict = OrderedDict()
        self._size = 0
        self._pending: dict = {}
        self.hits = self.misses = 0

    async def _cached(self, key, read):
        if key in self._values:
            self._values.move_to_end(key)
            self.hits += 1
            return self._values[key]
        pending = self._pending.get(key)
        if pending is not None and pending.get_loop() is asyncio.get_running_loop():
            return await asyncio.shield(pending)
        self.misses += 1
        future = asyncio.ensure_future(read())
        self._pending[key] = future
        try:
            value = await asyncio.shield(future)
        finally:
            self._pending.pop(key, None)
        self._put(key, value)
        return value

    def _put(self, key, value):
        size = 64 if value is None else len(value) + 64
        if size > self.max_bytes // 4:
            return
        self._values[key] = value
        self._size += size
        while self._size > self.max_bytes:
            _, old = self._values.popitem(last=False)
            self._size -= 64 if old is None else len(old) + 64

    async def get(self, key):
        return await self._cached((key, 0, None), lambda: self.store.get(key))

    async def get_range(self, key, start, length):
        return await self._cached((key, start, length), lambda: self.store.get_range(key, start, length))

    async def list(self, prefix=""):
        return await self.store.list(prefix)

    def __getattr__(self, name):  # counters and settings of the wrapped store
        return getattr(self.store, name)

    def __repr__(self):
        return f"CachedStore({self.store!r})"

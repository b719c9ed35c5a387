"""A store wrapper that keeps recently read values within a byte budget (LRU), and shares
a read already in flight instead of issuing it twice. Failed reads are not kept.

A shared read belongs to all its callers: one caller's cancellation does not end it for the others,
and it is cancelled when every caller has given up."""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from .base import HeldValue


class _Shared:
    """A read in flight and the number of callers waiting for it."""

    __slots__ = ("future", "waiters")

    def __init__(self, future):
        self.future = future
        self.waiters = 0


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
        shared = self._pending.get(key)
        if shared is None or shared.future.get_loop() is not asyncio.get_running_loop():
            self.misses += 1
            shared = self._pending[key] = _Shared(asyncio.ensure_future(read()))
            shared.future.add_done_callback(lambda _: self._settled(key, shared))
        shared.waiters += 1
        try:
            return await asyncio.shield(shared.future)
        finally:
            shared.waiters -= 1
            # A caller that gives up (its request was cancelled) leaves the read to the others; when
            # none is left the read is cancelled too, which aborts its fetch.
            if not shared.waiters and not shared.future.done():
                shared.future.cancel()

    def _settled(self, key, shared):
        if self._pending.get(key) is shared:
            del self._pending[key]
        if not shared.future.cancelled() and shared.future.exception() is None:
            self._put(key, shared.future.result())

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
        value = await self._cached((key, 0, None), lambda: self.store.get(key))
        return await value.read() if isinstance(value, HeldValue) else value  # cached by get_held

    async def get_held(self, key):
        """`get` for a reader that takes held values (base.HeldValue): the inner store's `get_held`, when it
        has one, its values cached (and shared) as `get`'s are."""
        if getattr(type(self.store), "get_held", None) is None:
            return await self.get(key)
        return await self._cached((key, 0, None), lambda: self.store.get_held(key))

    async def get_range(self, key, start, length):
        return await self._cached((key, start, length), lambda: self.store.get_range(key, start, length))

    async def list(self, prefix=""):
        return await self.store.list(prefix)

    def __getattr__(self, name):  # counters and settings of the wrapped store
        return getattr(self.store, name)

    def __repr__(self):
        return f"CachedStore({self.store!r})"

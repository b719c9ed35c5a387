"""CachedStore: a read in flight is shared by its callers; a cancelled caller leaves it to the others,
and the read itself is cancelled only when every caller has gone (a page aborting one request must
not fail another that waits for the same chunk, nor leave a fetch running that nobody wants)."""

from __future__ import annotations

import asyncio

import pytest

from zarrlite.stores import CachedStore


class GatedStore:
    """get() waits for `release`; records how many reads started and how many were cancelled."""

    def __init__(self):
        self.release = asyncio.Event()
        self.started = 0
        self.cancelled = 0

    async def get(self, key):
        self.started += 1
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return f"value of {key}".encode()

    async def get_range(self, key, start, length):
        return (await self.get(key))[start:start + length]

    async def list(self, prefix=""):
        return None


def test_one_cancelled_caller_leaves_the_shared_read_to_the_other():
    async def main():
        inner = GatedStore()
        store = CachedStore(inner)
        a = asyncio.ensure_future(store.get("k"))
        b = asyncio.ensure_future(store.get("k"))
        await asyncio.sleep(0)
        a.cancel()
        await asyncio.sleep(0)
        inner.release.set()
        with pytest.raises(asyncio.CancelledError):
            await a
        return await b, inner

    value, inner = asyncio.run(main())
    assert value == b"value of k"
    assert (inner.started, inner.cancelled) == (1, 0)


def test_the_read_is_cancelled_when_every_caller_has_gone():
    async def main():
        inner = GatedStore()
        store = CachedStore(inner)
        callers = [asyncio.ensure_future(store.get("k")) for _ in range(3)]
        await asyncio.sleep(0)
        for c in callers:
            c.cancel()
        await asyncio.gather(*callers, return_exceptions=True)
        await asyncio.sleep(0)
        # nothing is left pending: a later caller starts a fresh read, which completes
        again = asyncio.ensure_future(store.get("k"))
        await asyncio.sleep(0)
        inner.release.set()
        return await again, inner

    value, inner = asyncio.run(main())
    assert inner.cancelled == 1
    assert inner.started == 2
    assert value == b"value of k"


def test_a_shared_read_fills_the_cache_once():
    async def main():
        inner = GatedStore()
        store = CachedStore(inner)
        readers = [asyncio.ensure_future(store.get("k")) for _ in range(4)]
        await asyncio.sleep(0)
        inner.release.set()
        values = await asyncio.gather(*readers)
        return values, await store.get("k"), inner, store

    values, later, inner, store = asyncio.run(main())
    assert values == [b"value of k"] * 4 and later == b"value of k"
    assert inner.started == 1
    assert (store.misses, store.hits) == (1, 1)

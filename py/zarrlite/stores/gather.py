"""Range reads of one key that arrive together, merged into fewer requests (the HTTP transports use it).

Reads of one selection, and of several selections read at once (a viewer's tiles, a list of boxes),
ask for inner chunks of the same shard concurrently; gathered for a couple of event-loop turns, the
ranges of one key are merged into runs (ranges.merge_ranges: adjacent or a small gap apart) and each run
is one request, its bytes shared out. Suffix reads (a shard index at the end) and whole values pass
through: they cannot be merged without knowing the size.
"""

from __future__ import annotations

import asyncio

from .ranges import MAX_GAP, MAX_MERGED, merge_ranges

TURNS = 2  # event-loop turns a range read waits for others (each ~µs when nothing else is running)


class RangeGatherer:
    """`get_range` through `read(key, start, length)` (a coroutine function), gathered and merged: what
    the HTTP transports use for their own range reads."""

    def __init__(self, read, *, turns: int = TURNS, max_gap: int = MAX_GAP, max_merged: int = MAX_MERGED):
        self.read = read
        self.turns = turns
        self.max_gap = max_gap
        self.max_merged = max_merged
        self._pending: dict = {}  # key -> [(start, length, future)] waiting for the flush

    async def get_range(self, key, start, length):
        if start < 0 or length is None or length <= 0:
            return await self.read(key, start, length)
        loop = asyncio.get_running_loop()
        batch = self._pending.get(key)
        if batch is None or batch[0][2].get_loop() is not loop:
            batch = self._pending[key] = []
            loop.call_soon(self._flush_later, key, batch, self.turns)
        future = loop.create_future()
        batch.append((start, length, future))
        return await future

    def _flush_later(self, key, batch, turns):
        if turns > 1:
            asyncio.get_running_loop().call_soon(self._flush_later, key, batch, turns - 1)
            return
        if self._pending.get(key) is batch:
            del self._pending[key]
        batch = [entry for entry in batch if not entry[2].done()]  # readers cancelled meanwhile ask nothing
        for run in merge_ranges([(s, n) for s, n, _ in batch], self.max_gap, self.max_merged):
            members = [batch[i] for i in run.members]
            task = asyncio.ensure_future(self._read_run(key, run.start, run.end - run.start, members))
            for _, _, future in members:
                future.add_done_callback(lambda _, t=task, m=members: _cancel_if_abandoned(t, m))

    async def _read_run(self, key, start, length, members):
        try:
            data = await self.read(key, start, length)
        except asyncio.CancelledError:
            for _, _, future in members:
                future.cancel()
            raise
        except Exception as e:  # every reader of the run gets the error of its request
            for _, _, future in members:
                if not future.done():
                    future.set_exception(e)
            return
        for s, n, future in members:
            if not future.done():
                future.set_result(None if data is None else data[s - start:s - start + n])


class GatheredRanges:
    """A store whose range reads are gathered (RangeGatherer): for stores without their own (local files
    that reference sets point into)."""

    def __init__(self, store, **options):
        self.store = store
        self._gatherer = RangeGatherer(store.get_range, **options)

    async def get(self, key):
        return await self.store.get(key)

    async def get_range(self, key, start, length):
        return await self._gatherer.get_range(key, start, length)

    async def list(self, prefix=""):
        return await self.store.list(prefix)

    def __getattr__(self, name):  # size (where it has one), counters: the wrapped store's
        return getattr(self.store, name)

    def __repr__(self):
        return repr(self.store)


def _cancel_if_abandoned(task, members):
    """A run nobody waits for any more (every reader was cancelled) is cancelled, aborting its request."""
    if not task.done() and all(f.cancelled() for _, _, f in members):
        task.cancel()

"""Chunks decoded as their bytes arrive, off the event loop, while the requests go on.

A read's fetches hand their bytes here and are free for the next chunk at once: a request slot is never
held while its chunk waits for a CPU thread (with two cores and 32 requests in flight it would be, and
the requests in flight would drop). At most `threads` decoding tasks run; each takes the chunks queued
meanwhile, up to `batch`, in one hop to its thread (a hop per small chunk costs about what decoding it
does). `backlog` bounds the chunks waiting, fetched but not yet decoded (their bytes are held).
"""

from __future__ import annotations

import asyncio
from collections import deque

import numpy as np

from .runtime import CPU_THREADS, run_cpu

BATCH = 16  # chunks one hop to a thread decodes at most: the backlog's waiters hear of progress that often


class DecodeQueue:
    """`await queue.put(work)` queues `work()` (a function run on a CPU thread); `await queue.join()` waits
    for every queued work and raises the first error (after which queued work is dropped);
    `queue.abandon()` drops queued work (a cancelled read)."""

    def __init__(self, *, backlog: int, threads: int = CPU_THREADS, batch: int = BATCH):
        self.backlog = max(1, backlog)
        self.threads = threads
        self.batch = batch
        self._todo: deque = deque()
        self._tasks: set = set()
        self._room: list = []   # futures of puts waiting for the backlog to shrink
        self._error: BaseException | None = None

    async def put(self, work) -> None:
        while len(self._todo) >= self.backlog and self._error is None:
            room = asyncio.get_running_loop().create_future()
            self._room.append(room)
            await room
        if self._error is not None:
            raise self._error
        self._todo.append(work)
        if len(self._tasks) < self.threads:
            self._start()

    def _start(self):
        task = asyncio.ensure_future(run_cpu(self._drain))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _drain(self):  # on a CPU thread; deque appends and pops are atomic
        for _ in range(self.batch):
            try:
                work = self._todo.popleft()
            except IndexError:
                return
            work()

    def _done(self, task):  # on the loop: the only place that starts or ends tasks, so no chunk is stranded
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and self._error is None:
            self._error = task.exception()
            self._todo.clear()
        if self._todo and self._error is None and len(self._tasks) < self.threads:
            self._start()
        room, self._room = self._room, []
        for future in room:
            if not future.done():
                future.set_result(None)

    async def join(self) -> None:
        try:
            while self._tasks:
                await asyncio.wait(list(self._tasks))
        except BaseException:
            self.abandon()
            raise
        if self._error is not None:
            raise self._error

    def abandon(self) -> None:
        self._todo.clear()
        if self._error is None:
            self._error = asyncio.CancelledError()


class Stages:
    """Buffers that chunks are decoded into, kept for the next ones: each page of a new buffer is faulted
    in on its first write (the allocator hands large blocks back to the system, and asks anew), which cost
    more than the decoding (measured: 2,500 faults, 7 ms, in a read of 16 shards of 512 KiB). Sizes are
    powers of two (at least 64 KiB), at most `keep` bytes kept in all."""

    def __init__(self, keep: int = 64 << 20):
        self.keep = keep
        self._free: dict[int, list] = {}
        self._kept = 0

    def take(self, nbytes: int) -> np.ndarray:
        size = max(1 << 16, 1 << (nbytes - 1).bit_length())
        try:
            buffer = self._free.get(size, []).pop()   # (list pops and appends are atomic: threads share this)
        except IndexError:
            return np.empty(size, np.uint8)
        self._kept -= size
        return buffer

    def give(self, buffer: np.ndarray) -> None:
        if self._kept + buffer.size <= self.keep:
            self._kept += buffer.size
            self._free.setdefault(buffer.size, []).append(buffer)


STAGES = Stages()

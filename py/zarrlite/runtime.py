"""What differs between CPython and Pyodide, in one place: running CPU work and the sync wrapper."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from typing import Any, Awaitable, Callable, TypeVar

from .errors import SyncUnavailableError

IN_PYODIDE = sys.platform == "emscripten"

T = TypeVar("T")

# Memory budget for one selection (bytes): a browser tab's WASM heap is small.
DEFAULT_MAX_BYTES = (512 << 20) if IN_PYODIDE else (8 << 30)

# Requests, and chunks of one read, in flight. CPython: 64 (at 100 ms a request 32 held a full read of 257
# chunks to 8 round trips and 100 boxes behind readers that send every request at once); the browser: 32
# (fetch itself queues past a few connections a host).
DEFAULT_CONCURRENCY = 32 if IN_PYODIDE else 64


_pool = None  # a concurrent.futures.ThreadPoolExecutor, made on first use (never in Pyodide)
CPU_THREADS = 1 if IN_PYODIDE else max(2, os.cpu_count() or 2)   # the pool's threads (run_cpu)


async def run_cpu(func: Callable[..., T], *args) -> T:
    """Run CPU-bound work (reading, decoding, copying) off the event loop where threads exist.
    One thread per core: decoders release the GIL, and more threads only queue for it again."""
    if IN_PYODIDE:
        return func(*args)
    global _pool
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor

        _pool = ThreadPoolExecutor(CPU_THREADS, thread_name_prefix="zarrlite-cpu")
    return await asyncio.get_running_loop().run_in_executor(_pool, func, *args)


_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    # One long-lived loop for the sync API: connection pools and semaphores stay bound to it,
    # and it works the same inside Jupyter, where the main thread already runs a loop.
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="zarrlite-io", daemon=True).start()
        return _loop


def _forget_threads_after_fork() -> None:
    # A forked child has none of its parent's threads: the loop and the CPU pool it inherited would take
    # work that no thread ever runs (a read would hang). It makes its own on first use.
    global _loop, _loop_lock, _pool
    _loop, _loop_lock, _pool = None, threading.Lock(), None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_threads_after_fork)


def run_sync(coro: Awaitable[T], async_form: str) -> T:
    """Run `coro` to completion from synchronous code."""
    if IN_PYODIDE:
        try:
            from pyodide.ffi import can_run_sync, run_sync as pyodide_run_sync
            if can_run_sync():
                return pyodide_run_sync(coro)
        except ImportError:
            pass
        coro.close()
        raise SyncUnavailableError(
            "synchronous reads cannot run in this browser runtime (its event loop cannot be blocked); "
            f"use the async form: {async_form}")
    future = asyncio.run_coroutine_threadsafe(coro, _background_loop())
    return future.result()


def per_loop(cache: dict, factory: Callable[[], Any]) -> Any:
    """An object bound to the running event loop (asyncio primitives cannot cross loops)."""
    loop = asyncio.get_running_loop()
    obj = cache.get(loop)
    if obj is None:
        obj = cache[loop] = factory()
    return obj


async def bounded(coros, limit: int) -> None:
    """Await every coroutine with at most `limit` running at once; the first error cancels the rest."""
    pending = list(coros)
    pending.reverse()

    async def worker():
        while pending:
            await pending.pop()

    tasks = [asyncio.ensure_future(worker()) for _ in range(min(limit, len(pending)))]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        for coro in pending:  # never started: close them so Python does not warn
            coro.close()
        raise


class Once:
    """`await once.get()`: the result of `await factory()`, computed once and shared by the callers that
    wait for it meanwhile (on whichever loop asks: a computation begun on another loop, or cancelled, is
    begun again); a failed one is tried again by the next caller."""

    def __init__(self, factory: Callable[[], Awaitable[T]]):
        self._factory = factory
        self._task: asyncio.Future | None = None
        self._done = False
        self._value = None

    async def get(self):
        if self._done:
            return self._value
        task = self._task
        if task is None or task.get_loop() is not asyncio.get_running_loop() or task.cancelled():
            task = self._task = asyncio.ensure_future(self._factory())
        try:
            value = await asyncio.shield(task)
        except Exception:
            self._task = None
            raise
        self._value, self._done = value, True
        return value

"""The threads that blocking HTTP requests run on (CPython): one per request in flight, kept and shared by
every HttpStore of the process.

Why not a ThreadPoolExecutor per store: asyncio's default one has cores + 4 threads (a distant server
would get ~6 requests at once), one per store started its threads anew for every new store, and
starting a thread waits for it to run (on a loaded machine the first requests of a read went out over
tens of ms). Why not one shared executor: its count of idle threads lags behind a thread that has just
handed its answer over, so the next request, sent at once, starts yet another thread.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading


class RequestThreads:
    """`await threads.run(func, *args)`: `func(*args)` on a thread of its own, a new one started only
    when none is idle."""

    def __init__(self, name: str = "zarrlite-http"):
        self.name = name
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self.started = 0

    def run(self, func, *args) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            start = not self._idle
            if not start:
                self._idle -= 1
        self._work.put((loop, future, func, args))
        if start:
            self.started += 1
            threading.Thread(target=self._serve, name=f"{self.name}-{self.started}", daemon=True).start()
        return future

    def _serve(self):
        while True:
            loop, future, func, args = self._work.get()
            try:
                outcome = (func(*args), None)
            except BaseException as e:  # handed to the caller, whatever it is
                outcome = (None, e)
            with self._lock:  # idle before the answer is handed over: the next request finds this thread
                self._idle += 1
            try:
                loop.call_soon_threadsafe(_settle, future, *outcome)
            except RuntimeError:  # the loop has closed: nobody waits for the answer
                pass
            del loop, future, func, args, outcome


def _settle(future, result, error):
    if future.done():  # the caller gave up (cancelled)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


_shared: RequestThreads | None = None
_shared_lock = threading.Lock()


def _forget_after_fork() -> None:
    # the parent's request threads do not exist in a forked child (its count of idle ones would strand work)
    global _shared, _shared_lock
    _shared, _shared_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def request_threads() -> RequestThreads:
    """The process's request threads (made on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RequestThreads()
        return _shared

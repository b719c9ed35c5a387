"""`within(seconds, func)`: func() run under a watchdog, so that a hang fails a test instead of blocking it."""

from __future__ import annotations

import threading
import time


def within(seconds, func):
    """func() in a thread; a hang (no answer within `seconds`) fails the test instead of blocking it.
    Returns {"value" or "error", "seconds"}."""
    box = {}

    def target():
        try:
            box["value"] = func()
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    start = time.perf_counter()
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"no answer within {seconds} s: a hang"
    box["seconds"] = time.perf_counter() - start
    return box

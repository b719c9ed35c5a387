"""Idle HTTP connections kept for the next request, per server (and proxy), shared by every HttpStore of the
process, as a browser and tensorstore share theirs: a store opened anew (each `open` makes one) reuses
them, where connections of its own would cost a TCP (and TLS) handshake, a round trip, per request of
its first reads.

A connection idle for longer than IDLE_SECONDS is closed rather than used (a connection a NAT gateway has
forgotten fails only at the request's time-out); such connections are closed whenever a store is made or
takes a connection, so those of servers no longer asked do not stay open. One the server has closed
(its end readable: the close, or bytes nobody asked for) is dropped when taken, as urllib3 drops them.
When a kept connection still turns out to have been ended by the server (it closed it as the request
went out), so were those idle for longer: `ended` closes them, and the next try connects anew.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections import deque

# As curl's longest idle time of a connection it reuses (tensorstore's HTTP goes through curl), below the
# ~350 s after which cloud NAT gateways forget a connection without telling either end
IDLE_SECONDS = 118.0
IDLE_KEPT = 128       # per server, at most (the requests one read has in flight are 64)

_servers: dict[tuple, "KeptConnections"] = {}
_lock = threading.Lock()


class KeptConnections:
    """The idle connections to one server, newest last."""

    def __init__(self):
        self._idle: deque = deque()   # (connection, when it became idle)
        self._lock = threading.Lock()

    def take(self):
        """(a kept connection, since when it was idle), or None."""
        now = time.monotonic()
        while True:
            with self._lock:
                if not self._idle:
                    return None
                conn, since = self._idle.pop()   # the newest: any other has been idle for longer
            if now - since > IDLE_SECONDS:
                conn.close()
                self.close_stale(now)
                return None
            if not _closed_by_server(conn):
                return conn, since
            conn.close()

    def give(self, conn) -> None:
        with self._lock:
            if len(self._idle) < IDLE_KEPT:
                self._idle.append((conn, time.monotonic()))
                return
        conn.close()

    def ended(self, since: float) -> None:
        """A connection idle since `since` was found ended: close those idle since then or before."""
        self._close_from_oldest(lambda idle_since: idle_since <= since)

    def close_stale(self, now: float) -> None:
        self._close_from_oldest(lambda idle_since: now - idle_since > IDLE_SECONDS)

    def _close_from_oldest(self, older) -> None:
        with self._lock:
            stale = []
            while self._idle and older(self._idle[0][1]):
                stale.append(self._idle.popleft()[0])
        for conn in stale:
            conn.close()


def _closed_by_server(conn) -> bool:
    """Whether an idle connection's socket is readable (or gone): nothing should arrive on it unasked."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        if hasattr(select, "poll"):
            poll = select.poll()
            poll.register(sock, select.POLLIN)
            return bool(poll.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _forget_after_fork() -> None:
    # A forked child shares its parent's sockets: a connection used by both would mix their answers. The
    # child drops its references (closing its copy of a socket leaves the parent's open) and connects anew.
    global _servers, _lock
    _servers, _lock = {}, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def kept_connections(server: tuple) -> KeptConnections:
    """The kept connections to `server` ((scheme, host, port, proxy)); stale ones of every server closed."""
    now = time.monotonic()
    with _lock:
        kept = _servers.get(server)
        if kept is None:
            kept = _servers[server] = KeptConnections()
        every = list(_servers.values())
    for other in every:
        other.close_stale(now)
    return kept

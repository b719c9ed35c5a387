"""HTTP(S) store for CPython: persistent connections, Range requests, retries, bounded concurrency."""

from __future__ import annotations

import asyncio
import http.client
import queue
import random
import re
import socket
import time
import urllib.parse
import weakref

from ..errors import StoreError
from ..runtime import per_loop
from .base import slice_range
from .keys import check_key

_TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class HttpStore:
    """Keys are paths below `url`. 404 (and 403 from object stores) means "missing".

    `concurrency` bounds the requests in flight; transient failures (connection errors, 5xx, 429,
    truncated bodies) are retried `retries` times with exponential back-off; `timeout` bounds
    each request, so a stalled server becomes an error, not a hang.
    """

    def __init__(self, url: str, *, concurrency: int = 8, retries: int = 4, timeout: float = 30.0,
                 backoff: float = 0.1, headers: dict | None = None):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise StoreError(f"not an http(s) URL: {url!r}")
        self.url = url.rstrip("/")
        self._scheme = parsed.scheme
        self._host = parsed.hostname
        self._port = parsed.port
        self._base_path = parsed.path.rstrip("/")
        self._query = parsed.query
        self.retries = retries
        self.timeout = timeout
        self.backoff = backoff
        self.headers = dict(headers or {})
        self.concurrency = concurrency
        self._semaphores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._pool: queue.SimpleQueue = queue.SimpleQueue()
        self.bytes_received = 0
        self.requests = 0

    def _semaphore(self) -> asyncio.Semaphore:
        return per_loop(self._semaphores, lambda: asyncio.Semaphore(self.concurrency))

    def _connect(self) -> http.client.HTTPConnection:
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            pass
        if self._scheme == "https":
            import ssl  # not in every Pyodide build; only HTTPS in CPython needs it
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout,
                                               context=ssl.create_default_context())
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def key_url(self, key: str) -> str:
        return f"{self.url}/{urllib.parse.quote(check_key(key))}" if key else self.url

    def _path(self, key: str) -> str:
        path = f"{self._base_path}/{urllib.parse.quote(check_key(key))}"
        return f"{path}?{self._query}" if self._query else path

    def _request_once(self, key: str, start: int, length: int | None):
        headers = {"Accept-Encoding": "identity", **self.headers}
        ranged = not (start == 0 and length is None)
        if ranged:
            if start < 0:
                headers["Range"] = f"bytes={start}"
            elif length is None:
                headers["Range"] = f"bytes={start}-"
            else:
                if length <= 0:
                    return b""
                headers["Range"] = f"bytes={start}-{start + length - 1}"
        conn = self._connect()
        try:
            conn.request("GET", self._path(key), headers=headers)
            resp = conn.getresponse()
            body = resp.read()
        except BaseException:
            conn.close()
            raise
        self.requests += 1
        self.bytes_received += len(body)
        if resp.will_close:
            conn.close()
        else:
            self._pool.put(conn)
        return resp.status, resp.getheader("Content-Range"), resp.getheader("Content-Length"), body, ranged

    def _fetch(self, key: str, start: int, length: int | None) -> bytes | None:
        url = self.key_url(key)
        last = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random()))
            try:
                status, content_range, content_length, body, ranged = self._request_once(key, start, length)
            except (OSError, http.client.HTTPException) as e:
                # connection reset, refused, timeout, incomplete read: transient
                last = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
                if isinstance(e, (socket.timeout, TimeoutError)):
                    last = f"timed out after {self.timeout:g} s"
                continue
            if status in (404, 403, 410):
                return None
            if status == 416:  # range beyond the end: nothing there
                return b""
            if status in _TRANSIENT_STATUS:
                last = f"HTTP {status}"
                continue
            if status == 206:
                return _check_partial(url, body, content_range, start, length)
            if status == 200:
                if content_length is not None and content_length.isdigit() and int(content_length) != len(body):
                    last = f"truncated body ({len(body)} of {content_length} bytes)"
                    continue
                if ranged:  # the server ignored Range: cut the part out of the whole body
                    return slice_range(body, start, length)
                return body
            raise StoreError(f"GET {url}: HTTP {status}")
        raise StoreError(f"GET {url}: {last} (gave up after {self.retries + 1} tries)")

    async def get(self, key):
        async with self._semaphore():
            return await asyncio.to_thread(self._fetch, key, 0, None)

    async def get_range(self, key, start, length):
        async with self._semaphore():
            return await asyncio.to_thread(self._fetch, key, start, length)

    async def list(self, prefix=""):
        return None  # plain HTTP cannot list; consolidated metadata or known names are used instead

    def __repr__(self):
        return f"HttpStore({self.url!r})"


def _check_partial(url, body, content_range, start, length) -> bytes:
    m = _CONTENT_RANGE.match(content_range or "")
    if not m:
        raise StoreError(f"GET {url}: HTTP 206 without a valid Content-Range ({content_range!r})")
    first, last, total = int(m.group(1)), int(m.group(2)), m.group(3)
    if start >= 0 and first != start:
        raise StoreError(f"GET {url}: asked for bytes from {start}, HTTP 206 sent Content-Range {content_range!r}")
    if start < 0 and total != "*" and first != max(int(total) + start, 0):
        raise StoreError(f"GET {url}: asked for the last {-start} bytes, HTTP 206 sent Content-Range "
                         f"{content_range!r}")
    if len(body) != last - first + 1:
        raise StoreError(f"GET {url}: HTTP 206 body of {len(body)} bytes does not match Content-Range "
                         f"{content_range!r}")
    if length is not None and start >= 0 and len(body) > length:
        raise StoreError(f"GET {url}: HTTP 206 sent more than asked (Content-Range {content_range!r})")
    return body

"""HTTP(S) store for CPython: persistent connections, Range requests, retries, bounded concurrency."""

from __future__ import annotations

import asyncio
import http.client
import ipaddress
import socket
import urllib.parse
import weakref

from ..errors import StoreError
from ..runtime import DEFAULT_CONCURRENCY, per_loop
from .gather import RangeGatherer
from .http_rules import SIZE_RANGE, ForbiddenKeys, NoAnswer, Response, fetch_with_retries, key_url, size_from
from .kept_connections import kept_connections
from .request_threads import request_threads


def is_loopback(host: str) -> bool:
    """`localhost` or a loopback address, which no proxy carries (as in Chromium and curl)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def proxy_for(scheme: str, netloc: str) -> tuple[str, int] | None:
    """(host, port) of the HTTP proxy that the environment names for a server at `netloc`, or None to
    connect directly."""
    import urllib.request  # only for its reading of the proxy variables

    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(scheme)
    host = urllib.parse.urlsplit(f"//{netloc}").hostname or ""
    if not proxy or is_loopback(host) or urllib.request.proxy_bypass_environment(netloc, proxies):
        return None
    parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if parts.scheme != "http" or not parts.hostname or parts.username:
        raise StoreError(f"{scheme}_proxy={proxy!r}: only an http:// proxy without credentials is supported")
    return parts.hostname, parts.port or 80


class HttpStore:
    """Keys are paths below `url`, read over persistent connections (what answers mean: http_rules.py).

    Options, the same as the browser's FetchStore: `headers` sent with every request; `concurrency`
    bounds the requests in flight; transient failures (connection errors, 5xx, 429, truncated bodies)
    are retried `retries` times, `backoff` seconds doubling between tries; `timeout` (seconds) bounds
    each request, so a stalled server becomes an error, not a hang. `forbidden` counts the keys refused
    with 403 (read as missing). The proxy that the environment names (`http_proxy`, `https_proxy`,
    `no_proxy`, read as urllib and curl read them) carries the requests, as a browser's proxy carries
    fetch: http:// URLs in absolute form, https:// through a CONNECT tunnel; never those to loopback.
    """

    def __init__(self, url: str, *, concurrency: int = DEFAULT_CONCURRENCY, retries: int = 4, timeout: float = 30.0,
                 backoff: float = 0.1, headers: dict | None = None):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise StoreError(f"not an http(s) URL: {url!r}")
        self.url = url.rstrip("/")
        self._scheme = parsed.scheme
        self._host = parsed.hostname
        self._port = parsed.port
        self._origin = f"{parsed.scheme}://{parsed.netloc}"
        self._proxy = proxy_for(parsed.scheme, parsed.netloc)
        self.retries = retries
        self.timeout = timeout
        self.backoff = backoff
        self.headers = dict(headers or {})
        self.concurrency = concurrency
        self._semaphores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._kept = kept_connections((self._scheme, self._host, self._port, self._proxy))
        self._base_path = self._path(self.url)  # what a key's request names: key_url(_base_path, key)
        self.bytes_received = 0
        self.requests = 0
        self.forbidden = ForbiddenKeys(self.url)  # keys refused with 403, read as missing
        self._gathered = RangeGatherer(self._fetch)

    def _semaphore(self) -> asyncio.Semaphore:
        return per_loop(self._semaphores, lambda: asyncio.Semaphore(self.concurrency))

    def _connect(self) -> tuple[http.client.HTTPConnection, float | None]:
        """(a connection, since when it was idle if it is a kept one)"""
        kept = self._kept.take()
        if kept is None:
            return self._new_connection(), None
        conn, since = kept
        conn.timeout = self.timeout   # this store's: the connection may have been another's
        conn.sock.settimeout(self.timeout)
        return conn, since

    def _new_connection(self) -> http.client.HTTPConnection:
        host, port = self._proxy or (self._host, self._port)
        if self._scheme == "https":
            import ssl  # not in every Pyodide build; only HTTPS in CPython needs it
            conn = http.client.HTTPSConnection(host, port, timeout=self.timeout, context=ssl.create_default_context())
            if self._proxy:
                conn.set_tunnel(self._host, self._port)  # TLS with the server itself, inside the tunnel
            return conn
        return http.client.HTTPConnection(host, port, timeout=self.timeout)

    def key_url(self, key: str) -> str:
        return key_url(self.url, key)

    def _path(self, url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        if (parts.scheme, parts.hostname, parts.port) != (self._scheme, self._host, self._port):
            raise StoreError(f"{url}: not on the server of {self.url}")
        return f"{parts.path}?{parts.query}" if parts.query else parts.path

    def _request_once(self, path: str, range_header: str | None) -> Response | NoAnswer:
        headers = {"Accept-Encoding": "identity", **self.headers}
        if range_header:
            headers["Range"] = range_header
        if self._proxy and self._scheme == "http":
            path = self._origin + path  # the absolute form a proxy forwards
        conn, idle_since = self._connect()
        answered = False
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            answered = True
            body = resp.read()
        except (OSError, http.client.HTTPException) as e:
            # connection reset, refused, timeout, incomplete read: transient
            conn.close()
            if isinstance(e, (socket.timeout, TimeoutError)):
                return NoAnswer(f"timed out after {self.timeout:g} s")
            reason = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            if idle_since is not None and not answered and isinstance(e, (ConnectionError, http.client.BadStatusLine)):
                # a kept connection closed before any answer: the server ended it while idle (keep-alive),
                # and those idle for longer too; the next try connects anew, at once
                self._kept.ended(idle_since)
                return NoAnswer(reason, at_once=True)
            return NoAnswer(reason)
        except BaseException:
            conn.close()
            raise
        self.requests += 1
        self.bytes_received += len(body)
        if resp.will_close:
            conn.close()
        else:
            self._kept.give(conn)
        length = resp.getheader("Content-Length")
        return Response(resp.status, resp.reason or "", body, resp.getheader("Content-Range"),
                        int(length) if length and length.isdigit() else None)

    def _in_thread(self, path: str, range_header: str | None):
        return request_threads().run(self._request_once, path, range_header)  # a thread per request in flight

    async def _fetch(self, key: str, start: int, length: int | None) -> bytes | None:
        path = key_url(self._base_path, key)  # (the key's URL is the server's origin and this path)
        return await self._fetch_url(self._origin + path, start, length, lambda: self.forbidden.note(key), path)

    async def _fetch_url(self, url: str, start: int, length: int | None, forbidden=None, path=None) -> bytes | None:
        path = path or self._path(url)

        def send(range_header):
            return self._in_thread(path, range_header)

        async with self._semaphore():
            return await fetch_with_retries(url, start, length, send, retries=self.retries, backoff=self.backoff,
                                            forbidden=forbidden)

    async def get_url(self, url: str) -> bytes | None:
        """The whole value at `url`, a URL on this store's server outside its keys (a bucket's listing)."""
        return await self._fetch_url(url, 0, None)

    async def get(self, key):
        return await self._fetch(key, 0, None)

    async def get_range(self, key, start, length):
        return await self._gathered.get_range(key, start, length)  # ranges asked together: fewer requests

    async def size(self, key):
        """The value's size from a one-byte range (http_rules.size_from)."""
        answer = await self._in_thread(key_url(self._base_path, key), SIZE_RANGE)
        return await size_from(None if isinstance(answer, NoAnswer) else answer, lambda: self.get(key))

    async def list(self, prefix=""):
        return None  # plain HTTP cannot list; consolidated metadata or known names are used instead

    def __repr__(self):
        return f"HttpStore({self.url!r})"


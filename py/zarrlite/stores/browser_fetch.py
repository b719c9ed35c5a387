"""HTTP in the browser: `FetchStore`, the browser transport of the HTTP rules (http_rules.py).

Every request is one awaited call of one JS function,
`fetch(url, range, ms, headers, signal) -> [status, statusText, body | null, contentRange | null,
contentLength | null]`: in zarrlite's worker, web/chunk-pool.js's `fetchBytes` (registered by
web/worker.js as the module `zarrlite_jsfetch`; it runs on a chunk worker when one is free); elsewhere
(a notebook kernel without that worker) `fetch_here`, the same steps through `js.fetch`.

A CORS refusal and a broken connection look alike to a page (Chromium: "TypeError: Failed to fetch"),
yet one never heals and the other is worth retrying. The fetch function tells them apart as far as a
page can: status 0 with "body" (the answer began, then broke off), "network" (no answer, nor to a
no-cors request for the same URL: the connection fails) or "refused" (no readable answer, but the server
answers a no-cors request, which CORS does not guard). "body" and "network" are transient, retried as
CPython retries a reset. "refused" is a CORS refusal when it happens twice in a row; the first time it
may also be a failure that healed just before the no-cors request, so the request is made once more at
once (no back-off: a refusal should be told fast) and the answer to that decides.

`get_held(key)` asks the chunk worker to keep a large value (web/chunk-worker.js "hold"): a `HeldBytes`
comes back, which the WASM codecs decode there (codecs/browser.py), so the compressed bytes never
cross to this worker and back.

Only importable in Pyodide (it needs `js` and `pyodide.ffi`).
"""

from __future__ import annotations

import asyncio
import weakref

import js
from pyodide.ffi import JsException, to_js

from ..errors import StoreError
from .base import HeldValue
from .gather import RangeGatherer
from .http_rules import SIZE_RANGE, ForbiddenKeys, NoAnswer, Response, fetch_with_retries, key_url, size_from

HTTP_OPTIONS = ("headers", "retries", "timeout", "backoff")  # what a page may set (zl.open(url, options))


def _js_object(mapping: dict):
    return to_js(mapping, dict_converter=js.Object.fromEntries)


def _network_error(error: JsException) -> bool:
    """fetch's own failures are TypeErrors; a time-out or an abort is a DOMException."""
    return getattr(error, "name", "") == "TypeError"


async def fetch_here(url: str, range_header: str | None, ms: int, headers, signal):
    """web/chunk-pool.js's `fetchBytes`, from Python, step for step: for a runtime without zarrlite's
    worker."""
    timeout = js.AbortSignal.timeout(ms)
    stop = js.AbortSignal.any(to_js([signal, timeout])) if signal is not None else timeout
    request_headers = js.Object.assign(js.Object.new(), headers) if headers is not None else js.Object.new()
    if range_header:
        setattr(request_headers, "Range", range_header)
    try:
        resp = await js.fetch(url, _js_object({"signal": stop, "headers": request_headers}))
    except JsException as e:
        if not _network_error(e):
            raise
        return [0, "refused" if await _answers_no_cors(url, stop) else "network", None, None, None]
    body = None
    if resp.status in (200, 206):
        try:
            body = js.Uint8Array.new(await resp.arrayBuffer())
        except JsException as e:
            if not _network_error(e):
                raise
            return [0, "body", None, None, None]
        except SystemError:
            # Pyodide 0.27.7 now and then raises "error return without exception set" where arrayBuffer()
            # rejects a body cut short (seen twice, in tests that cut bodies short): the same broken body
            return [0, "body", None, None, None]
    return [resp.status, resp.statusText, body, resp.headers.get("Content-Range"), resp.headers.get("Content-Length")]


async def _answers_no_cors(url: str, stop) -> bool:
    done = js.AbortController.new()
    init = {"mode": "no-cors", "cache": "no-store", "signal": js.AbortSignal.any(to_js([stop, done.signal]))}
    try:
        await js.fetch(url, _js_object(init))
        return True
    except JsException:
        if stop.aborted:
            raise
        return False
    finally:
        done.abort()


def _js_fetch():
    """(the fetch function, the pool that holds bodies or None)"""
    try:
        import zarrlite_jsfetch as pool  # registered by web/worker.js (web/chunk-pool.js)
    except ImportError:
        return fetch_here, None
    return pool.fetch, (pool if getattr(pool, "decodeHeld", None) is not None else None)


class HeldBytes(HeldValue):
    """A value a chunk worker fetched and keeps (web/chunk-pool.js, chunk-worker.js): here only its size
    and head; `decode(name, limit)` decodes it there; `read()` copies it here. The chunk worker lets it go
    when this object is garbage. A chunk worker that died lost what it held: `decode` then says None,
    and `read` fetches the value again (`refetch`)."""

    def __init__(self, held, pool, refetch):
        self._held, self._pool, self._refetch = held, pool, refetch
        self.size = int(held.size)
        self.head = held.head.to_bytes()
        weakref.finalize(self, pool.dropHeld, held)

    async def decode(self, name: str, limit: int):
        """The decoded bytes (a JS Uint8Array of at most `limit` bytes), or None when no longer held there.
        The caller has checked the header's stated size (codecs/native.py check_decoded_size)."""
        try:
            return await self._pool.decodeHeld(self._held, name, limit)
        except JsException as e:
            if getattr(e, "name", "") == "HeldGone":
                return None
            raise

    async def read(self) -> bytes:
        try:
            return (await self._pool.readHeld(self._held)).to_bytes()
        except JsException as e:
            if getattr(e, "name", "") != "HeldGone":
                raise
        data = await self._refetch()
        if data is None:
            raise StoreError("the value is no longer there (its chunk worker stopped, then it was fetched again)")
        return data


# Why a request got no usable answer, by what the fetch function saw (status 0; see the module's doc)
BROKEN = {
    "body": "the connection broke off in the middle of the answer (reset, closed or cut short)",
    "network": "the connection failed before a whole answer came (refused, reset or closed)",
}


def _cors_hint(url: str, ranged: bool) -> str:
    hint = (f"GET {url}: the server answers, but not to this page: it refuses cross-origin reads (CORS). A "
            f"server on another origin must send 'Access-Control-Allow-Origin: *' (or this page's origin)")
    if ranged:
        hint += (", and for ranged reads allow the request header ('Access-Control-Allow-Headers: Range')"
                 " and expose 'Access-Control-Expose-Headers: Content-Range'")
    return hint + "."


class FetchStore:
    """Keys are paths below `url`, read with the browser's fetch (what answers mean: http_rules.py).

    Options, the same as CPython's HttpStore: `headers` sent with every request (a cross-origin server
    must allow them: Access-Control-Allow-Headers); at most `concurrency` requests in flight; transient
    failures (5xx, 429, time-outs, broken connections) retried `retries` times, `backoff` seconds doubling
    between tries; `timeout` (seconds) bounds each request. `forbidden` counts the keys refused with 403."""

    def __init__(self, url: str, *, concurrency: int = 16, retries: int = 3, timeout: float = 60.0,
                 backoff: float = 0.1, headers: dict | None = None):
        if not url.startswith(("http://", "https://", "blob:")):
            raise StoreError(f"not an http(s) URL: {url!r}")
        self.url = url.rstrip("/")
        self.concurrency = concurrency
        self.retries = retries
        self.timeout = timeout
        self.backoff = backoff
        self.headers = dict(headers or {})
        self._js_headers = _js_object(self.headers) if self.headers else None
        self._fetch_js, self._pool = _js_fetch()
        self._sem = None
        self.requests = 0
        self.forbidden = ForbiddenKeys(self.url)  # keys refused with 403, read as missing
        self._gathered = RangeGatherer(self._fetch)
        self.bytes_received = 0

    def key_url(self, key: str) -> str:
        return key_url(self.url, key)

    def _no_answer(self, error: JsException, url: str) -> NoAnswer:
        name = getattr(error, "name", "")
        if name == "TimeoutError" or "TimeoutError" in str(error):
            return NoAnswer(f"timed out after {self.timeout:g} s")
        if name == "AbortError":
            return NoAnswer(f"GET {url}: aborted", retry=False)
        return NoAnswer(str(error))

    async def _call(self, url: str, range_header: str | None, hold: bool = False):
        # A cancelled Task stops awaiting the fetch but does not end it: abort it, so that a page
        # request that was aborted (webworker.Session.cancel) stops its fetches, on chunk workers too.
        stop = js.AbortController.new()
        args = (url, range_header, int(self.timeout * 1000), self._js_headers, stop.signal) + ((HeldValue.HEAD_BYTES,) if hold else ())
        try:
            return await self._fetch_js(*args)
        except asyncio.CancelledError:
            stop.abort()
            raise

    def _response(self, reply, url: str | None = None) -> Response:
        if reply[2] is not None:
            body = reply[2].to_bytes()
        elif len(reply) > 5 and reply[5] is not None:  # held by the chunk worker (asked by get_held)
            body = HeldBytes(reply[5], self._pool, lambda: self._fetch_url(url, 0, None))
        else:
            body = None
        self.requests += 1
        self.bytes_received += len(body or b"")
        # No Content-Length: the browser already fails a transfer shorter than it, and hands over the
        # body content-decoded, so the header's number need not count the body's bytes.
        return Response(int(reply[0]), str(reply[1]), body, reply[3], None)

    async def _fetch(self, key: str, start: int, length: int | None) -> bytes | None:
        return await self._fetch_url(self.key_url(key), start, length, lambda: self.forbidden.note(key))

    async def _fetch_url(self, url: str, start: int, length: int | None, forbidden=None,
                         hold: bool = False) -> bytes | HeldBytes | None:
        async def send(range_header):
            for again in (False, True):
                try:
                    reply = await self._call(url, range_header, hold)
                except JsException as e:
                    return self._no_answer(e, url)
                if reply[0] != 0:
                    return self._response(reply, url)
                if str(reply[1]) != "refused":
                    return NoAnswer(BROKEN.get(str(reply[1]), f"no answer ({reply[1]})"))
                if again:  # refused twice in a row: CORS
                    return NoAnswer(_cors_hint(url, range_header is not None), retry=False)

        if self._sem is None:
            self._sem = asyncio.Semaphore(self.concurrency)
        async with self._sem:
            return await fetch_with_retries(url, start, length, send, retries=self.retries, backoff=self.backoff,
                                            forbidden=forbidden)

    async def get_url(self, url: str) -> bytes | None:
        """The whole value at `url`, a URL outside this store's keys (a bucket's listing)."""
        return await self._fetch_url(url, 0, None)

    async def get(self, key):
        return await self._fetch(key, 0, None)

    async def get_held(self, key) -> bytes | HeldBytes | None:
        """`get`, where a large value may stay on the chunk worker that fetched it (a HeldBytes)."""
        if self._pool is None:
            return await self.get(key)
        return await self._fetch_url(self.key_url(key), 0, None, lambda: self.forbidden.note(key), hold=True)

    async def get_range(self, key, start, length):
        return await self._gathered.get_range(key, start, length)  # ranges asked together: fewer requests

    async def size(self, key):
        """The value's size from a one-byte range (http_rules.size_from)."""
        try:
            answer = self._response(await self._call(self.key_url(key), SIZE_RANGE))
        except JsException:
            answer = None
        return await size_from(answer, lambda: self.get(key))

    async def list(self, prefix=""):
        return None  # HTTP cannot list; consolidated metadata or known names are used instead

    def __repr__(self):
        return f"FetchStore({self.url!r})"

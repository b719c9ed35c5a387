"""The rules of reading over HTTP, the same for every transport (CPython's sockets, the browser's fetch).

No I/O here: a transport supplies `send(range_header) -> Response | NoAnswer` and these functions decide
what the answer means — the Range header to ask with, what each status means, whether a partial answer
holds the bytes that were asked for, when and after how long to try again.

Statuses: 200/206 ok; 404, 403 (object stores without list permission) and 410 mean "missing" (None),
and a 403 on a value (not a metadata document) is counted (`ForbiddenKeys`: an expired signed URL or
credential would otherwise pass for chunks never written);
416 (a range past the end) means "nothing there" (b""); 408, 425, 429 and 5xx gateway/overload
statuses are transient (retried); anything else is an error at once.

A 206 is accepted only when it provably holds what was asked: its Content-Range names the asked
start (for a suffix: the asked end) and a body of that many bytes. A 206 without a readable
Content-Range — a cross-origin server that does not send `Access-Control-Expose-Headers:
Content-Range`, to the browser — is accepted only when the request had a definite length (`start,
length` or a suffix of n bytes) and the body is exactly that long; otherwise it is refused, as the bytes
could be any part of the value. A 200 answer to a ranged request (a server ignoring Range) is cut to the
part asked for.
"""

from __future__ import annotations

import asyncio
import random
import re
import urllib.parse
import warnings
from dataclasses import dataclass

from ..errors import StoreError, ZarrliteWarning
from .base import slice_range
from .keys import check_key

MISSING = frozenset({403, 404, 410})
TRANSIENT = frozenset({408, 425, 429, 500, 502, 503, 504})
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$")


@dataclass(frozen=True)
class Response:
    """What a server answered. `content_length`: the Content-Length header when it counts the bytes of
    `body` (an identity-encoded body), else None."""
    status: int
    status_text: str = ""
    body: bytes | None = None
    content_range: str | None = None
    content_length: int | None = None


@dataclass(frozen=True)
class NoAnswer:
    """A request that got no answer (connection refused or reset, timed out). `retry=False` ends the
    tries at once with `reason` as the whole message (a CORS refusal does not heal); `at_once`: the next
    try needs no wait (a kept connection that the server had closed meanwhile, not the server failing)."""
    reason: str
    retry: bool = True
    at_once: bool = False


@dataclass(frozen=True)
class Retry:
    """An answer that is worth asking again for (a transient status, a truncated body)."""
    reason: str


def status_class(status: int) -> str:
    """'ok', 'missing', 'empty' (416), 'transient' or 'error'."""
    if status in (200, 206):
        return "ok"
    if status in MISSING:
        return "missing"
    if status == 416:
        return "empty"
    if status in TRANSIENT:
        return "transient"
    return "error"


def asks_nothing(start: int, length: int | None) -> bool:
    """A zero-length (or negative-length) read: b"" without a request."""
    return start >= 0 and length is not None and length <= 0


def range_header(start: int, length: int | None) -> str | None:
    """The Range header for a get_range (None: the whole value). `start < 0`: the last -start bytes."""
    if start == 0 and length is None:
        return None
    if start < 0:
        return f"bytes={start}"
    if length is None:
        return f"bytes={start}-"
    return f"bytes={start}-{start + length - 1}"


def parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """(first, last, total or None) of `bytes first-last/total`, or None if absent or unreadable."""
    m = _CONTENT_RANGE.match(value or "")
    if not m:
        return None
    first, last = int(m.group(1)), int(m.group(2))
    if last < first:
        return None
    return first, last, None if m.group(3) == "*" else int(m.group(3))


def backoff_delay(attempt: int, base: float, jitter: float) -> float:
    """Seconds to wait before try `attempt` (1, 2, ...): `base` doubling each time, times 0.5-1.5
    (`jitter` in [0, 1)) so that many clients do not retry in step."""
    return base * 2 ** (attempt - 1) * (0.5 + jitter)


def value_of(url: str, response: Response, start: int, length: int | None) -> bytes | None | Retry:
    """The value a response gives for get_range(start, length): bytes, None (missing), or Retry.
    Raises StoreError for an answer that is wrong or an error."""
    kind = status_class(response.status)
    if kind == "missing":
        return None
    if kind == "empty":
        return b""
    if kind == "transient":
        return Retry(f"HTTP {response.status}")
    if kind == "error":
        text = f" {response.status_text}" if response.status_text else ""
        raise StoreError(f"GET {url}: HTTP {response.status}{text}")
    body = response.body or b""
    if response.content_length is not None and len(body) < response.content_length:
        return Retry(f"truncated body ({len(body)} of {response.content_length} bytes)")
    if response.status == 206:
        return check_partial(url, body, response.content_range, start, length)
    if range_header(start, length) is not None:  # the server ignored Range: cut the part out
        return slice_range(body, start, length)
    return body


def check_partial(url: str, body: bytes, content_range: str | None, start: int, length: int | None) -> bytes:
    """`body` of a 206 answer, if it holds the bytes asked for (see the module's rules)."""
    parsed = parse_content_range(content_range)
    if parsed is None:
        want = -start if start < 0 else length
        if want is not None and len(body) == want:
            return body
        raise StoreError(
            f"GET {url}: HTTP 206 without a valid Content-Range ({content_range!r}) and a body of {len(body)} "
            f"bytes where {'an open-ended range' if want is None else want} was asked: these could be any bytes "
            "of it (a server on another origin must send 'Access-Control-Expose-Headers: Content-Range')")
    first, last, total = parsed
    sent = f"HTTP 206 sent Content-Range {content_range!r}"
    if len(body) != last - first + 1:
        raise StoreError(f"GET {url}: HTTP 206 body of {len(body)} bytes does not match Content-Range "
                         f"{content_range!r}")
    at_end = total is None or last == total - 1
    if start < 0:
        if (total is not None and first != max(total + start, 0)) or not at_end or len(body) > -start:
            raise StoreError(f"GET {url}: asked for the last {-start} bytes, {sent}")
        return body
    if first != start:
        raise StoreError(f"GET {url}: asked for bytes from {start}, {sent}")
    if length is not None and len(body) > length:
        raise StoreError(f"GET {url}: {sent}: more than the {length} bytes asked")
    if (length is None or len(body) < length) and not at_end:
        raise StoreError(f"GET {url}: asked for {'the rest' if length is None else f'{length} bytes'} from "
                         f"{start}, {sent}: it stops short of the end")
    return body


SIZE_RANGE = "bytes=0-0"  # the request whose answer tells a value's size without sending it


def size_of(response: Response) -> tuple[bool, int | None]:
    """From the answer to a SIZE_RANGE request: (the value exists, its size or None when the answer
    does not say)."""
    kind = status_class(response.status)
    if kind == "missing":
        return False, None
    if response.status == 416:  # no byte 0: an empty value
        return True, 0
    if response.status == 206:
        parsed = parse_content_range(response.content_range)
        return True, None if parsed is None else parsed[2]
    if response.status == 200 and response.body is not None:  # Range ignored: the whole value came
        return True, len(response.body)
    return True, None


async def size_from(answer: Response | None, read_whole) -> int | None:
    """A value's stored size from the answer to a SIZE_RANGE request (None: no usable answer); where that
    does not say, the length of the whole value (`await read_whole()`). None when the value is missing."""
    exists, size = (True, None) if answer is None else size_of(answer)
    if not exists:
        return None
    if size is None:
        data = await read_whole()
        size = None if data is None else len(data)
    return size


# The documents format detection asks for (formats/: zarr3.KEY, zarr2's keys, n5.KEY): on a bucket
# without list permission a 403 is how each absent one is answered at every open, so these are not counted.
METADATA_NAMES = frozenset({"zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata", "attributes.json"})
FORBIDDEN_KEYS_KEPT = 5


class ForbiddenKeys:
    """The keys of one store whose values a server refused with 403 and that therefore read as missing
    (the fill value): `count` of them, the first FORBIDDEN_KEYS_KEPT in `keys`. The first one warns
    (ZarrliteWarning), once per store: a missing chunk is normal, an expired signed URL is not."""

    def __init__(self, url: str):
        self.url = url
        self._seen: set[str] = set()
        self.keys: list[str] = []

    @property
    def count(self) -> int:
        return len(self._seen)

    def note(self, key: str) -> None:
        if key.rsplit("/", 1)[-1] in METADATA_NAMES or key in self._seen:
            return
        self._seen.add(key)
        if len(self.keys) < FORBIDDEN_KEYS_KEPT:
            self.keys.append(key)
        if len(self._seen) == 1:
            warnings.warn(
                f"{self.url}: 1 key so far ({key!r}) answered HTTP 403 Forbidden and reads as missing (the "
                "fill value), as object stores without list permission answer for chunks never written; if "
                "it should hold data, the credentials or signed URL may have expired (the store's `forbidden` "
                "counts such keys)", ZarrliteWarning, stacklevel=2)

    def summary(self) -> dict:
        """{"count", "keys"}: what a page shows (zl.stats().forbidden)."""
        return {"count": self.count, "keys": list(self.keys)}


async def fetch_with_retries(url: str, start: int, length: int | None, send, *, retries: int, backoff: float,
                             jitter=random.random, sleep=asyncio.sleep, forbidden=None) -> bytes | None:
    """get_range(start, length) of `url` through `send(range_header)` (an async transport), with up to
    `retries` more tries for transient failures, `backoff_delay` apart. `forbidden()` is called when
    the value is missing because of a 403."""
    if asks_nothing(start, length):
        return b""
    header = range_header(start, length)
    last, wait = "", False
    for attempt in range(retries + 1):
        if wait:
            await sleep(backoff_delay(attempt, backoff, jitter()))
        answer = await send(header)
        wait = True
        if isinstance(answer, NoAnswer):
            if not answer.retry:
                raise StoreError(answer.reason)
            last, wait = answer.reason, not answer.at_once
            continue
        value = value_of(url, answer, start, length)
        if value is None and answer.status == 403 and forbidden is not None:
            forbidden()
        if isinstance(value, Retry):
            last = value.reason
            continue
        return value
    raise StoreError(f"GET {url}: {last} (gave up after {retries + 1} tries)")


def key_url(url: str, key: str) -> str:
    """The URL of `key` below `url` (its path segments quoted; a query, as on signed URLs, kept)."""
    if not key:
        return url
    base, _, query = url.partition("?")
    return f"{base.rstrip('/')}/{urllib.parse.quote(check_key(key))}" + (f"?{query}" if query else "")

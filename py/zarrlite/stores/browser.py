"""Stores for Pyodide in a browser: HTTP through `fetch`, and local data the user picked — a folder's
`File`s, a `FileSystemDirectoryHandle`, a `.zip` `File`. All lazy: a key is read when asked for, with
`File.slice()`, so opening a 20 GB folder reads only its metadata.

Only importable in Pyodide (it needs `js` and `pyodide.ffi`).
"""

from __future__ import annotations

import asyncio
import functools
import struct
import zlib

import js
from pyodide.code import run_js
from pyodide.ffi import JsException

from ..errors import StoreError
from .base import child_names, slice_range
from .keys import check_key, join_key

_TRANSIENT = {408, 425, 429, 500, 502, 503, 504}


def _bytes(array_buffer) -> bytes:
    return js.Uint8Array.new(array_buffer).to_bytes()


# One awaited JS call per request (fetch, status, body): every await of a JS promise costs Python an
# event-loop round trip, and each call into JS its own overhead. The status is returned, not thrown.
# In zarrlite's worker the request runs on a chunk worker (web/chunk-pool.js); elsewhere (a notebook
# kernel) in this thread.
_fetch_js = None


def _fetch_bytes(url: str, range_header: str | None, timeout_ms: int):
    global _fetch_js
    if _fetch_js is None:
        try:
            from zarrlite_jsfetch import fetch as _fetch_js  # registered by web/worker.js
        except ImportError:
            _fetch_js = run_js("""(async (url, range, ms) => {
              const init = { signal: AbortSignal.timeout(ms) };
              if (range) init.headers = { Range: range };
              const resp = await fetch(url, init);
              const ok = resp.status === 200 || resp.status === 206;
              return [resp.status, resp.statusText, ok ? new Uint8Array(await resp.arrayBuffer()) : null];
            })""")
    return _fetch_js(url, range_header, timeout_ms)


@functools.lru_cache(maxsize=4096)
def _quote_segment(segment: str) -> str:
    # chunk keys repeat the same few segments ("c", "0", "1", ...): one JS call each, not per request
    return str(js.encodeURIComponent(segment))


def _cors_hint(url: str, ranged: bool) -> str:
    hint = (f"fetch {url} failed: the server is unreachable or refuses cross-origin reads. A server on "
            f"another origin must send 'Access-Control-Allow-Origin: *' (or this page's origin)")
    if ranged:
        hint += (", and for ranged reads allow the request header ('Access-Control-Allow-Headers: Range')"
                 " and expose 'Access-Control-Expose-Headers: Content-Range'")
    return hint + "."


class FetchStore:
    """Keys are paths below `url`. 404/403/410 mean "missing". At most `concurrency` requests are in
    flight; transient failures (network errors on retry, 5xx, 429) are retried with back-off."""

    def __init__(self, url: str, *, concurrency: int = 16, retries: int = 3, timeout: float = 60.0):
        if not url.startswith(("http://", "https://", "blob:")):
            raise StoreError(f"not an http(s) URL: {url!r}")
        self.url = url.rstrip("/")
        self.concurrency = concurrency
        self.retries = retries
        self.timeout = timeout
        self._sem = None
        self.requests = 0
        self.bytes_received = 0

    def key_url(self, key: str) -> str:
        if not key:
            return self.url
        base, _, query = self.url.partition("?")
        quoted = "/".join(map(_quote_segment, check_key(key).split("/")))
        return f"{base}/{quoted}" + (f"?{query}" if query else "")

    async def _fetch(self, key: str, start: int, length: int | None) -> bytes | None:
        url = self.key_url(key)
        ranged = not (start == 0 and length is None)
        range_header = None
        if ranged:
            if start < 0:
                range_header = f"bytes={start}"
            elif length is None:
                range_header = f"bytes={start}-"
            elif length <= 0:
                return b""
            else:
                range_header = f"bytes={start}-{start + length - 1}"
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.concurrency)
        last = ""
        async with self._sem:
            for attempt in range(self.retries + 1):
                if attempt:
                    await asyncio.sleep(0.1 * 2 ** (attempt - 1))
                try:
                    reply = await _fetch_bytes(url, range_header, int(self.timeout * 1000))
                except JsException as e:
                    if getattr(e, "name", "") == "TimeoutError" or "TimeoutError" in str(e):
                        last = f"timed out after {self.timeout:g} s"
                        continue
                    if attempt < self.retries and "Failed to fetch" not in str(e):
                        last = str(e)
                        continue
                    raise StoreError(_cors_hint(url, ranged)) from e
                status, status_text, data = reply
                if status in (404, 403, 410):
                    return None
                if status == 416:
                    return b""
                if status in _TRANSIENT:
                    last = f"HTTP {status}"
                    continue
                if status not in (200, 206):
                    raise StoreError(f"GET {url}: HTTP {status} {status_text}")
                body = data.to_bytes()
                self.requests += 1
                self.bytes_received += len(body)
                if status == 200 and ranged:  # the server ignored Range
                    return slice_range(body, start, length)
                return body
        raise StoreError(f"GET {url}: {last} (gave up after {self.retries + 1} tries)")

    async def get(self, key):
        return await self._fetch(key, 0, None)

    async def get_range(self, key, start, length):
        return await self._fetch(key, start, length)

    async def size(self, key):
        """Content-Length from a HEAD request; the value's length when the server does not say."""
        from pyodide.ffi import to_js

        try:
            resp = await js.fetch(self.key_url(key), to_js({"method": "HEAD"}, dict_converter=js.Object.fromEntries))
        except JsException:
            resp = None
        if resp is not None and resp.status in (404, 403, 410):
            return None
        length = resp.headers.get("Content-Length") if resp is not None and resp.ok else None
        if length:
            return int(length)
        data = await self.get(key)
        return None if data is None else len(data)

    async def list(self, prefix=""):
        return None  # HTTP cannot list; consolidated metadata or known names are used instead

    def __repr__(self):
        return f"FetchStore({self.url!r})"


async def _read_blob(blob, start: int, length: int | None) -> bytes:
    size = int(blob.size)
    if start < 0:
        start = max(size + start, 0)
        end = size
    else:
        end = size if length is None else min(start + length, size)
    if start >= end:
        return b""
    return _bytes(await blob.slice(start, end).arrayBuffer())


class FileStore:
    """The files of a picked or dropped folder: `files` and `paths` are parallel JS arrays (File objects
    and their paths inside the folder)."""

    def __init__(self, files, paths):
        self._files = {}
        for i in range(int(files.length)):
            self._files[str(paths[i]).strip("/")] = files[i]

    async def get(self, key):
        f = self._files.get(check_key(key))
        return None if f is None else await _read_blob(f, 0, None)

    async def get_range(self, key, start, length):
        f = self._files.get(check_key(key))
        return None if f is None else await _read_blob(f, start, length)

    async def list(self, prefix=""):
        return child_names(self._files, prefix)

    async def size(self, key):
        f = self._files.get(check_key(key))
        return None if f is None else int(f.size)

    def __repr__(self):
        return f"FileStore({len(self._files)} files)"


class DirectoryHandleStore:
    """A `FileSystemDirectoryHandle` (from `showDirectoryPicker()` or a drop): handles are looked up one
    path segment at a time and cached; files are read with `File.slice()`."""

    def __init__(self, handle):
        self._root = handle
        self._dirs = {"": handle}

    async def _dir(self, path: str):
        if path in self._dirs:
            return self._dirs[path]
        parent, _, name = path.rpartition("/")
        d = await self._dir(parent)
        if d is None:
            return None
        try:
            sub = await d.getDirectoryHandle(name)
        except JsException:
            sub = None
        self._dirs[path] = sub
        return sub

    async def _file(self, key: str):
        parent, _, name = check_key(key).strip("/").rpartition("/")
        d = await self._dir(parent)
        if d is None:
            return None
        try:
            return await (await d.getFileHandle(name)).getFile()
        except JsException:  # NotFoundError, TypeMismatchError (a directory)
            return None

    async def get(self, key):
        f = await self._file(key)
        return None if f is None else await _read_blob(f, 0, None)

    async def size(self, key):
        f = await self._file(key)
        return None if f is None else int(f.size)

    async def get_range(self, key, start, length):
        f = await self._file(key)
        return None if f is None else await _read_blob(f, start, length)

    async def list(self, prefix=""):
        d = await self._dir(check_key(prefix.strip("/")) if prefix.strip("/") else "")
        if d is None:
            return []
        names = []
        it = d.keys()
        while True:
            step = await it.next()
            if step.done:
                break
            names.append(str(step.value))
        return sorted(names)

    def __repr__(self):
        return f"DirectoryHandleStore({self._root.name!r})"


class ZipFileStore:
    """A `.zip` `File`: the central directory is read with two `File.slice()` calls (zip64 included);
    each member is then read with one slice of its local header and one of its data. Stored and
    deflated members."""

    def __init__(self, file):
        self._file = file
        self._entries = None  # name -> (local header offset, compressed size, size, method)
        self._prefix = ""

    async def _index(self):
        if self._entries is not None:
            return self._entries
        size = int(self._file.size)
        tail = await _read_blob(self._file, max(size - 65557, 0), None)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0:
            raise StoreError(f"{self._file.name}: not a zip file (no end of central directory)")
        count, cd_size, cd_offset = struct.unpack_from("<HII", tail, at + 10)
        if at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07":  # zip64 locator
            (eocd64,) = struct.unpack_from("<Q", tail, at - 20 + 8)
            rec = await _read_blob(self._file, eocd64, 56)
            if rec[:4] != b"PK\x06\x06":
                raise StoreError(f"{self._file.name}: bad zip64 end of central directory")
            count, cd_size, cd_offset = struct.unpack_from("<QQQ", rec, 32)
        cd = await _read_blob(self._file, cd_offset, cd_size)
        entries, pos = {}, 0
        for _ in range(count):
            if cd[pos:pos + 4] != b"PK\x01\x02":
                raise StoreError(f"{self._file.name}: corrupt zip central directory")
            method = struct.unpack_from("<H", cd, pos + 10)[0]
            csize, usize = struct.unpack_from("<II", cd, pos + 20)
            nlen, elen, clen = struct.unpack_from("<HHH", cd, pos + 28)
            (offset,) = struct.unpack_from("<I", cd, pos + 42)
            name = cd[pos + 46:pos + 46 + nlen].decode("utf-8", "replace")
            extra = cd[pos + 46 + nlen:pos + 46 + nlen + elen]
            usize, csize, offset = _zip64_sizes(extra, usize, csize, offset)
            pos += 46 + nlen + elen + clen
            if name.endswith("/"):
                continue
            try:
                check_key(name)
            except StoreError:
                continue  # entries that would escape the root are not followed
            entries[name] = (offset, csize, usize, method)
        # A zip of a folder "x.zarr/": serve its content at the root
        tops = {n.split("/", 1)[0] for n in entries}
        if len(tops) == 1 and all("/" in n for n in entries):
            top = tops.pop()
            if not any(n in entries for n in ("zarr.json", ".zgroup", ".zarray", "attributes.json")):
                self._prefix = top
        self._entries = entries
        return entries

    async def _member(self, key, start=0, length=None):
        entries = await self._index()
        entry = entries.get(join_key(self._prefix, check_key(key)))
        if entry is None:
            return None
        offset, csize, usize, method = entry
        header = await _read_blob(self._file, offset, 30)
        if header[:4] != b"PK\x03\x04":
            raise StoreError(f"{self._file.name}: corrupt local header for {key!r}")
        nlen, elen = struct.unpack_from("<HH", header, 26)
        data_at = offset + 30 + nlen + elen
        if method == 0:
            if start < 0:
                start = max(usize + start, 0)
                length = None
            end = usize if length is None else min(start + length, usize)
            return await _read_blob(self._file, data_at + start, max(end - start, 0))
        if method == 8:
            raw = await _read_blob(self._file, data_at, csize)
            try:
                d = zlib.decompressobj(-15)
                data = d.decompress(raw, usize + 1)
            except zlib.error as e:
                raise StoreError(f"{self._file.name}: {key!r}: {e}") from e
            return data if (start == 0 and length is None) else slice_range(data, start, length)
        raise StoreError(f"{self._file.name}: {key!r} uses zip compression method {method} (only stored "
                         "and deflate are supported)")

    async def get(self, key):
        return await self._member(key)

    async def size(self, key):
        """The member's stored (compressed) size."""
        entry = (await self._index()).get(join_key(self._prefix, check_key(key)))
        return None if entry is None else int(entry[1])

    async def get_range(self, key, start, length):
        return await self._member(key, start, length)

    async def list(self, prefix=""):
        entries = await self._index()
        return child_names(entries, join_key(self._prefix, prefix))

    def __repr__(self):
        return f"ZipFileStore({self._file.name!r})"


def _zip64_sizes(extra: bytes, usize: int, csize: int, offset: int):
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        if tag == 1:
            vals, at = [], pos + 4
            for v in (usize, csize, offset):
                if v == 0xFFFFFFFF and at + 8 <= pos + 4 + size:
                    vals.append(struct.unpack_from("<Q", extra, at)[0])
                    at += 8
                else:
                    vals.append(v)
            return tuple(vals)
        pos += 4 + size
    return usize, csize, offset


def store_from_source(source):
    """The store for a JS source object as zarrlite.js sends it (see web/protocol.js)."""
    kind = str(source.kind)
    if kind == "url":
        return FetchStore(str(source.url))
    if kind == "files":
        return FileStore(source.files, source.paths)
    if kind == "directory":
        return DirectoryHandleStore(source.handle)
    if kind == "zip":
        return ZipFileStore(source.file)
    raise StoreError(f"unknown source kind {kind!r}")

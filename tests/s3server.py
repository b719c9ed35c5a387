"""A small S3-compatible server on 127.0.0.1 for tests and benchmarks (no internet, no credentials).

Buckets are directories. It answers, as S3 does:
- object GETs, path style (`/bucket/key`) or virtual-host style (`Host: bucket.localhost:port`, the
  bucket in the host name: `virtual_endpoint_url`), with single `Range: bytes=` requests (`a-b`, `a-`,
  `-n`) -> 206 + Content-Range, 404 NoSuchKey otherwise;
- ListObjectsV2 (`GET /bucket?list-type=2&prefix=&delimiter=&max-keys=&continuation-token=`, or
  `GET /?list-type=2...` on the bucket's host) as XML, `page_size` names a page at most (small in tests,
  so that pagination is exercised); its query is read as S3 reads it (s3_query: '+' is not a space);
- a request target in absolute form (`GET http://bucket.localhost:port/key`, as a client sends it to an
  HTTP proxy) for the host it names, so a client that cannot resolve `bucket.localhost` reaches it with
  `http_proxy` set to `endpoint_url`;
- the GCS JSON API's object listing (`/storage/v1/b/bucket/o?prefix=&delimiter=&pageToken=`), so one
  server stands in for both;
- CORS for a page on another origin (preflight, `Range` allowed, `Content-Range` exposed);
- HTTPS instead of HTTP with `certificate=` (a PEM file holding a certificate and its key).
`latency` (seconds) delays every answer, as a distant server would; `connect_latency` (seconds) delays the
first answer on each new connection once more, as the TCP handshake's round trip to a distant server does.
Every request is logged with its method, so tests can count requests (and see that no HEAD was sent).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Content-Range, Content-Length, ETag"}
NO_CACHE = {"Cache-Control": "no-store"}  # every read reaches the server (and its log), in a browser too
VIRTUAL_HOST_SUFFIX = ".localhost"  # Host: BUCKET.localhost names a bucket (RFC 6761: *.localhost is loopback)


@dataclass(frozen=True)
class Entry:
    method: str
    bucket: str | None
    path: str          # the request's path and query (an absolute form's without its scheme and host)
    range: str | None
    status: int
    nbytes: int        # body bytes sent
    host: str = ""     # the host the request named (its Host header, or the authority of an absolute form)


class BucketHandler(BaseHTTPRequestHandler):
    """S3 and the GCS JSON API's listing; tests/azureserver.py answers as Azure Blob Storage on top."""

    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: with Nagle on, the body waits for the client's delayed ACK
    # of the headers (~40 ms on Linux), which would be measured as the reader's time
    disable_nagle_algorithm = True
    server: "BucketHTTPServer"

    def log_message(self, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        if self.server.connect_latency:
            time.sleep(self.server.connect_latency)

    def _host(self) -> str:
        """The host the request names: an absolute form's authority wins over the Host header (RFC 9112)."""
        if self.path.startswith("http://"):
            return urllib.parse.urlsplit(self.path).netloc
        return self.headers.get("Host") or ""

    def _url_path(self) -> str:
        """The request's path and query (the origin form of an absolute-form target)."""
        if self.path.startswith("http://"):
            parts = urllib.parse.urlsplit(self.path)
            return f"{parts.path or '/'}?{parts.query}" if parts.query else parts.path or "/"
        return self.path

    def _target(self):
        """(bucket, object name, query dict) of the request, virtual-host or path style."""
        parts = urllib.parse.urlsplit(self._url_path())
        query = s3_query(parts.query)
        host = self._host().rsplit(":", 1)[0]
        segments = [urllib.parse.unquote(s) for s in parts.path.split("/")]
        if host.endswith(VIRTUAL_HOST_SUFFIX):
            return host[: -len(VIRTUAL_HOST_SUFFIX)], "/".join(segments[1:]), query
        segments = segments[1:]
        if not segments or not segments[0]:
            return None, "", query
        return segments[0], "/".join(segments[1:]), query

    def _send(self, status, body=b"", headers=None, bucket=None):
        if self.server.latency:
            time.sleep(self.server.latency)
        # logged before it is sent: a client that has its answer must find it in the log
        self.server.log_entry(Entry(self.command, bucket, self._url_path(), self.headers.get("Range"), status,
                                    0 if self.command == "HEAD" else len(body), self._host()))
        self.send_response(status)
        for k, v in {**CORS, **NO_CACHE, **(headers or {})}.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status, code, bucket=None):
        body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code></Error>".encode()
        self._send(status, body, {"Content-Type": "application/xml"}, bucket)

    def do_OPTIONS(self):
        self._send(204, b"", {"Access-Control-Allow-Methods": "GET, HEAD",
                              "Access-Control-Allow-Headers": self.headers.get("Access-Control-Request-Headers", "*"),
                              "Access-Control-Max-Age": "600"})

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        with self.server.in_flight():
            self._get()

    def _get(self):
        if self._url_path().startswith("/storage/v1/b/"):
            return self._gcs_list()
        bucket, name, query = self._target()
        root = self.server.buckets.get(bucket)
        if root is None:
            return self._error(404, "NoSuchBucket", bucket)
        if not name and query.get("list-type") == "2":
            return self._s3_list(bucket, query)
        f = object_file(root, name)
        if f is None:
            return self._error(404, "NoSuchKey", bucket)
        self._object(f.read_bytes(), bucket)

    def _object(self, data, bucket):
        rng = self.headers.get("Range")
        if rng is None:
            return self._send(200, data, {"Accept-Ranges": "bytes"}, bucket)
        first, _, last = rng.strip().removeprefix("bytes=").partition("-")
        size = len(data)
        if not (first.isdigit() or last.isdigit()):
            return self._error(400, "InvalidRange", bucket)
        if not first:  # suffix
            start, end = max(size - int(last), 0), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        if start >= size or start > end:
            return self._send(416, b"", {"Content-Range": f"bytes */{size}"}, bucket)
        self._send(206, data[start:end + 1], {"Content-Range": f"bytes {start}-{end}/{size}"}, bucket)

    def _page(self, bucket, prefix, delimiter, after, max_keys):
        """(keys, common prefixes, next marker or None) of one listing page."""
        names = sorted(n for n in self.server.names(bucket) if n.startswith(prefix))
        entries = []
        for n in names:
            cut = n.find(delimiter, len(prefix)) if delimiter else -1
            entry = ("prefix", n[: cut + len(delimiter)]) if cut >= 0 else ("key", n)
            if entry not in entries:
                entries.append(entry)
        entries = [e for e in entries if e[1] > after]
        page, rest = entries[:max_keys], entries[max_keys:]
        keys = [n for kind, n in page if kind == "key"]
        prefixes = [n for kind, n in page if kind == "prefix"]
        return keys, prefixes, (page[-1][1] if rest else None)

    def _s3_list(self, bucket, query):
        if bucket in self.server.unlisted:
            return self._error(403, "AccessDenied", bucket)
        after = bytes.fromhex(query.get("continuation-token", "")).decode()
        size = min(int(query.get("max-keys", "1000")), self.server.page_size)
        keys, prefixes, marker = self._page(bucket, query.get("prefix", ""), query.get("delimiter", ""), after, size)
        xml = ["<?xml version='1.0' encoding='UTF-8'?>",
               "<ListBucketResult xmlns='http://s3.amazonaws.com/doc/2006-03-01/'>",
               f"<Name>{escape(bucket)}</Name><Prefix>{escape(query.get('prefix', ''))}</Prefix>",
               f"<KeyCount>{len(keys) + len(prefixes)}</KeyCount><IsTruncated>{str(marker is not None).lower()}</IsTruncated>"]
        if marker is not None:
            xml.append(f"<NextContinuationToken>{marker.encode().hex()}</NextContinuationToken>")
        xml += [f"<Contents><Key>{escape(k)}</Key><Size>{self.server.size(bucket, k)}</Size></Contents>" for k in keys]
        xml += [f"<CommonPrefixes><Prefix>{escape(p)}</Prefix></CommonPrefixes>" for p in prefixes]
        xml.append("</ListBucketResult>")
        self._send(200, "".join(xml).encode(), {"Content-Type": "application/xml"}, bucket)

    def _gcs_list(self):
        parts = urllib.parse.urlsplit(self._url_path())
        segments = parts.path.split("/")  # "", storage, v1, b, BUCKET, o
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}
        bucket = urllib.parse.unquote(segments[4]) if len(segments) == 6 and segments[5] == "o" else None
        if bucket not in self.server.buckets:
            return self._error(404, "NoSuchBucket", bucket)
        if bucket in self.server.unlisted:
            return self._error(403, "AccessDenied", bucket)
        after = bytes.fromhex(query.get("pageToken", "")).decode()
        keys, prefixes, marker = self._page(bucket, query.get("prefix", ""), query.get("delimiter", ""), after,
                                            self.server.page_size)
        doc = {"kind": "storage#objects", "items": [{"name": k} for k in keys], "prefixes": prefixes}
        if marker is not None:
            doc["nextPageToken"] = marker.encode().hex()
        self._send(200, json.dumps(doc).encode(), {"Content-Type": "application/json"}, bucket)


def s3_query(query: str) -> dict[str, str]:
    """A query string as S3 reads it: percent-decoded, and a '+' is a plus sign, not a space (a client
    sending `prefix=a+b%2F` lists below "a+b/")."""
    pairs = (part.partition("=") for part in query.split("&") if part)
    return {urllib.parse.unquote(k): urllib.parse.unquote(v) for k, _, v in pairs}


def object_file(root: Path, name: str) -> Path | None:
    """The file of object `name` in a bucket directory (None: no such object, or a name leaving it)."""
    parts = [p for p in name.split("/") if p]
    if not parts or any(p in ("..", ".") or "\\" in p or "\x00" in p for p in parts):
        return None
    f = root.joinpath(*parts)
    return f if f.is_file() else None


class BucketHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops the SYNs of a reader that opens 16 connections at once,
    # and each dropped one costs a 1 s retransmission: a stall of the server, not of the reader
    request_queue_size = 128

    def __init__(self, *args):
        super().__init__(*args)
        self.buckets: dict[str, Path] = {}
        self.unlisted: set[str] = set()
        self.page_size = 1000
        self.latency = 0.0
        self.connect_latency = 0.0
        self.log: list[Entry] = []
        self._lock = threading.Lock()
        self.running = self.most_running = 0  # requests being answered now, and the most at once

    @contextlib.contextmanager
    def in_flight(self):
        with self._lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            yield
        finally:
            with self._lock:
                self.running -= 1

    def log_entry(self, entry: Entry):
        with self._lock:
            self.log.append(entry)

    def names(self, bucket):
        root = self.buckets[bucket]
        return [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]

    def size(self, bucket, name):
        return (self.buckets[bucket] / name).stat().st_size


class BucketServer:
    """A loopback server answering requests with `handler` (one thread, started by `with`): buckets are
    directories (`add_bucket`), `log` lists every request (Entry), `page_size` and `latency` may be set."""

    handler = BucketHandler

    def __init__(self, *, page_size: int = 1000, latency: float = 0.0, certificate=None):
        self._httpd = BucketHTTPServer(("127.0.0.1", 0), self.handler)
        self.scheme = "http"
        if certificate is not None:  # a PEM file with the certificate and its key: HTTPS
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certificate)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            self.scheme = "https"
        self._httpd.page_size = page_size
        self._httpd.latency = latency
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"test-{type(self).__name__}",
                                        daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def add_bucket(self, name: str, directory, *, listable: bool = True) -> None:
        self._httpd.buckets[name] = Path(directory)
        if not listable:
            self._httpd.unlisted.add(name)

    page_size = property(lambda self: self._httpd.page_size,
                         lambda self, n: setattr(self._httpd, "page_size", n))
    latency = property(lambda self: self._httpd.latency, lambda self, s: setattr(self._httpd, "latency", s))
    connect_latency = property(lambda self: self._httpd.connect_latency,
                               lambda self, s: setattr(self._httpd, "connect_latency", s))

    @property
    def log(self) -> list[Entry]:
        with self._httpd._lock:
            return list(self._httpd.log)

    @property
    def most_in_flight(self) -> int:
        """The most requests answered at once since the log was cleared."""
        return self._httpd.most_running

    def clear_log(self) -> None:
        with self._httpd._lock:
            self._httpd.log.clear()
            self._httpd.most_running = self._httpd.running

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class S3Server(BucketServer):
    """`with S3Server() as s3: s3.add_bucket("b", directory)`; `s3.endpoint_url` is what `endpoint_url=`
    takes (path style), `s3.virtual_endpoint_url` the one for `addressing_style="virtual"`."""

    @property
    def endpoint_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def virtual_endpoint_url(self) -> str:
        """Bucket B is at http://B.localhost:port (resolved by Chromium; in CPython through a proxy)."""
        return f"{self.scheme}://localhost:{self.port}"

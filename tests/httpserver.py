"""A real threaded HTTP/1.1 server on 127.0.0.1 for store tests.

Serves directories mounted under a name (`/name/key`), honours single `Range: bytes=` requests
(`a-b`, `a-`, `-n`) with 206 + Content-Range, answers 404 for anything missing, and counts requests,
body bytes sent and connections accepted so tests can assert how much a read fetched.
`end_connections()` ends the open connections, as a server's keep-alive time-out ends idle ones.
"""

from __future__ import annotations

import re
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Stats:
    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self.requests = 0
            self.bytes_sent = 0
            self.connections = 0
            self.log: list[tuple[str, str | None, int, int]] = []  # (path, Range header, status, bytes)

    def add(self, path, rng, status, nbytes):
        with self._lock:
            self.requests += 1
            self.bytes_sent += nbytes
            self.log.append((path, rng, status, nbytes))

    def connected(self):
        with self._lock:
            self.connections += 1

    def paths(self):
        with self._lock:
            return [entry[0] for entry in self.log]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        self.server.stats.connected()
        with self.server.lock:
            self.server.connections.add(self.connection)

    def finish(self):
        with self.server.lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def _resolve(self) -> Path | None:
        raw = urllib.parse.urlsplit(self.path).path
        parts = [urllib.parse.unquote(p) for p in raw.split("/") if p]
        if not parts or parts[0] not in self.server.mounts:
            return None
        if any(p in ("..", ".") or "\\" in p or "\x00" in p for p in parts):
            return None
        f = self.server.mounts[parts[0]].joinpath(*parts[1:])
        return f if f.is_file() else None

    def _send(self, status, body=b"", headers=None, head=False):
        # counted before it is sent: a client that has its answer must find it in the log
        self.server.stats.add(self.path, self.headers.get("Range"), status, 0 if head else len(body))
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head=False):
        f = self._resolve()
        if f is None and self.server.missing_page is not None:  # as static hosts with a custom 404 page do
            self._send(200, self.server.missing_page, {"Content-Type": "text/html"}, head)
            return
        if f is None:
            self._send(404, b"not found", head=head)
            return
        data = f.read_bytes()
        rng = self.headers.get("Range")
        if rng is None or self.server.ignore_range:
            self._send(200, data, {"Accept-Ranges": "bytes"}, head)
            return
        m = _RANGE.match(rng.strip())
        if not m or (m.group(1) == "" and m.group(2) == ""):
            self._send(400, b"bad range", head=head)
            return
        size = len(data)
        if m.group(1) == "":  # suffix
            n = int(m.group(2))
            start, end = max(size - n, 0), size - 1
        else:
            start = int(m.group(1))
            end = int(m.group(2)) if m.group(2) else size - 1
            end = min(end, size - 1)
        if start >= size or start > end:
            self._send(416, b"", {"Content-Range": f"bytes */{size}"}, head)
            return
        self._send(206, data[start:end + 1],
                   {"Content-Range": f"bytes {start}-{end}/{size}", "Accept-Ranges": "bytes"}, head)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class RangeHTTPServer:
    def __init__(self):
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.mounts = {}
        self._httpd.stats = Stats()
        self._httpd.ignore_range = False
        self._httpd.missing_page = None
        self._httpd.connections = set()
        self._httpd.lock = threading.Lock()
        self._thread = None

    @property
    def stats(self) -> Stats:
        return self._httpd.stats

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def mount(self, name: str, directory) -> str:
        """Serve `directory` at /name; returns the URL."""
        self._httpd.mounts[name] = Path(directory)
        return f"{self.base_url}/{urllib.parse.quote(name)}"

    def set_ignore_range(self, flag: bool):
        self._httpd.ignore_range = flag

    def end_connections(self):
        """End every open connection (the client, which keeps them, finds out at its next request)."""
        with self._httpd.lock:
            open_now = list(self._httpd.connections)
        for conn in open_now:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def set_missing_page(self, page: bytes | None):
        """Answer a missing file with `page` and status 200 (None: 404, the default)."""
        self._httpd.missing_page = page

    def start(self):
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="test-http", daemon=True)
        self._thread.start()

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

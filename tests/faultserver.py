"""A threaded HTTP/1.1 server on 127.0.0.1 that serves {key: bytes} and injects network faults.

    server = FaultServer({"zarr.json": b"...", "c/0/0": b"..."})
    server.start()
    server.inject("503", match="c/0/0", times=2)   # the next 2 requests for c/0/0 get a 503
    server.inject("stall")                         # every request stalls (until `stall_seconds` or stop)
    server.requests("c/0/0")                       # how many requests for keys containing "c/0/0"
    server.inject("other-range", match="c/0/0", ranges="^bytes=[0-9]")  # only ranges with a start
    FaultServer(files, cors=True)                  # readable from pages of other origins (CORS open)

Faults:
  500 503 429 418 400 401 404 403   that status, with a short body
  reset                     the connection is closed with a TCP RST, no response
  close                     the connection is closed (FIN) before any byte of a response
  truncate                  headers promise the whole body, half of it is sent, the connection closes
  reset-body                headers promise the whole body, half of it is sent, then a TCP RST
  bad-content-range         206 with a Content-Range for other bytes than asked (and a body to match it)
  other-range               206 with as many bytes as asked, from one byte further on (or back), labelled
                            truthfully by its Content-Range
  no-content-range          206 with the bytes asked for, and no Content-Range header
  ignore-range              200 with the whole body, whatever Range asked for
  stall                     nothing is sent for `stall_seconds` (then the connection closes)
Ranges honoured otherwise: `bytes=a-b`, `bytes=a-`, `bytes=-n` (206 + Content-Range; 416 past the end).
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATUSES = ("500", "503", "429", "418", "400", "401", "404", "403")
FAULTS = STATUSES + ("reset", "close", "truncate", "reset-body", "bad-content-range", "other-range",
                     "no-content-range", "ignore-range", "stall")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _Abort(Exception):
    """The handler dropped the connection on purpose."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *args):  # quiet
        pass

    def handle(self):
        try:
            super().handle()
        except (_Abort, OSError, ValueError):
            pass

    def finish(self):
        try:
            super().finish()
        except (OSError, ValueError):
            pass

    def end_headers(self):
        if self.server.owner.cors:
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Expose-Headers", "Content-Range")
        super().end_headers()

    def do_OPTIONS(self):  # a CORS preflight (Range beyond the safelisted forms, custom headers)
        self.send_response(204)
        self.send_header("Access-Control-Allow-Headers", "*")
        self.send_header("Access-Control-Allow-Methods", "GET")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status, body=b"", headers=None, *, length=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _drop(self, rst: bool):
        if rst:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()
        raise _Abort

    def do_GET(self):
        owner = self.server.owner
        key = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        rng = self.headers.get("Range")
        fault = owner._take_fault(key, rng)
        owner._log(key, rng, fault or "ok", dict(self.headers.items()))
        data = owner.files.get(key)
        if fault in STATUSES:
            self._send(int(fault), f"injected {fault}".encode())
            return
        if fault in ("reset", "close"):
            self._drop(rst=fault == "reset")
        if fault == "stall":
            owner._release.wait(owner.stall_seconds)
            self._drop(rst=False)
        if data is None:
            self._send(404, b"not found")
            return
        if fault in ("truncate", "reset-body"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            if fault == "reset-body":
                time.sleep(0.05)  # let the client take the headers and bytes in: an RST discards unread ones
            self._drop(rst=fault == "reset-body")
        if rng is None or fault == "ignore-range":
            self._send(200, data, {"Accept-Ranges": "bytes"})
            return
        m = _RANGE.match(rng.strip())
        if not m or m.group(1) == m.group(2) == "":
            self._send(400, b"bad range")
            return
        size = len(data)
        if m.group(1) == "":
            start, end = max(size - int(m.group(2)), 0), size - 1
        else:
            start = int(m.group(1))
            end = min(int(m.group(2)) if m.group(2) else size - 1, size - 1)
        if start >= size or start > end:
            self._send(416, b"", {"Content-Range": f"bytes */{size}"})
            return
        if fault == "bad-content-range":  # consistent in itself, but not the bytes that were asked for
            start, end = (start + 1, end) if start + 1 <= end else (0, min(end + 1, size - 1))
        if fault == "other-range" and end - start + 1 < size:  # same length, other bytes
            shift = 1 if end + 1 < size else -1
            start, end = start + shift, end + shift
        headers = {} if fault == "no-content-range" else {"Content-Range": f"bytes {start}-{end}/{size}"}
        self._send(206, data[start:end + 1], headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FaultServer:
    def __init__(self, files: dict[str, bytes], stall_seconds: float = 30.0, cors: bool = False):
        self.cors = cors
        self.files = dict(files)
        self.stall_seconds = stall_seconds
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._faults: list[list] = []  # [fault, match, remaining (None: always), Range pattern or None]
        self.log: list[tuple[str, str | None, str]] = []
        self.request_headers: list[dict] = []  # of each request in the log
        self._thread = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def inject(self, fault: str, match: str = "", times: int | None = None, ranges: str | None = None) -> None:
        """Apply `fault` to requests for keys containing `match` (and, given `ranges`, whose Range header
        matches that regular expression): the next `times` of them, or all."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self._faults.append([fault, match, times, None if ranges is None else re.compile(ranges)])

    def clear(self) -> None:
        """No more faults; stalled handlers are let go; the request log starts again."""
        with self._lock:
            self._faults.clear()
            self.log.clear()
            self.request_headers.clear()
            self._release.set()
            self._release = threading.Event()

    def requests(self, match: str = "") -> int:
        with self._lock:
            return sum(1 for key, _, _ in self.log if match in key)

    def header_values(self, name: str) -> list[str]:
        """The values of request header `name`, one per logged request (None where it was not sent)."""
        with self._lock:
            return [next((v for k, v in h.items() if k.lower() == name.lower()), None) for h in self.request_headers]

    def _take_fault(self, key: str, rng: str | None) -> str | None:
        with self._lock:
            for rule in self._faults:
                fault, match, remaining, ranges = rule
                if match in key and remaining != 0 and (ranges is None or ranges.search(rng or "")):
                    if remaining is not None:
                        rule[2] -= 1
                    return fault
        return None

    def _log(self, key, rng, what, headers):
        with self._lock:
            self.log.append((key, rng, what))
            self.request_headers.append(headers)

    def start(self) -> "FaultServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fault-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # stalled handlers return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

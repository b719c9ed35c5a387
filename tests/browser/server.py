"""A threaded static server for the browser tests and bench/browser_bench.py: web/dist/ at /, data
at /data/, a single `Range: bytes=` range honoured (206 + Content-Range), bytes and requests counted,
CORS on or off, and HTTP caching on or off. Under /slow/ the same files answer after `slow_seconds`
(a slow server, for cancellation tests)."""

from __future__ import annotations

import os
import re
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.bytes = {}      # url path -> body bytes sent
            self.requests = []   # (path, Range header or None, status)

    def add(self, path, rng, status, n):
        with self.lock:
            self.bytes[path] = self.bytes.get(path, 0) + n
            self.requests.append((path, rng, status))

    def sent(self, prefix=""):
        with self.lock:
            return sum(n for p, n in self.bytes.items() if p.startswith(prefix))


_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class Handler(SimpleHTTPRequestHandler):
    """Static files from `directory` (web/dist) and, under /data/, from `data_dir`. Range: one range,
    answered 206 with Content-Range. CORS open (so cross-origin tests can turn it off per path)."""

    data_dir: Path = None
    counters: Counters = None
    refused: frozenset = frozenset()   # paths answered 404 as if the files were not there
    missing_page: bytes | None = None  # answer a missing /data/ file with this page and 200 (static hosts do)
    cors = True
    cache = "no-cache"        # Cache-Control of the site's files
    data_cache = "no-cache"   # ... and of the data (the browser bench: no-store, so no repeat is cached)
    slow_seconds = 0.25
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript",
                      ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json"}

    def log_message(self, *args):
        pass

    def translate_path(self, path):
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if clean.startswith("/slow/"):
            clean = clean[len("/slow"):]
        if clean.startswith("/data/"):
            rel = Path(unquote(clean[len("/data/"):]))
            if ".." in rel.parts:
                return str(self.data_dir / "__nope__")
            return str(self.data_dir / rel)
        return super().translate_path(clean)

    def end_headers(self):
        if self.cors:
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Expose-Headers", "Content-Range")
        self.send_header("Cache-Control", self.data_cache if self.path.startswith("/data/") else self.cache)
        super().end_headers()

    def do_OPTIONS(self):
        self.send_response(204)
        self.send_header("Access-Control-Allow-Headers", "Range")
        self.end_headers()

    def do_GET(self):
        path = self.translate_path(self.path)
        rng = self.headers.get("Range")
        if self.path.startswith("/slow/"):
            self.counters.add(self.path, rng, "arrived", 0)
            time.sleep(self.slow_seconds)
        if os.path.isdir(path) or not os.path.isfile(path) or self.path.split("?", 1)[0] in self.refused:
            if os.path.isdir(path) and not self.path.startswith("/data/"):
                return super().do_GET()
            if self.missing_page is not None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(self.missing_page)))
                self.end_headers()
                self.wfile.write(self.missing_page)
                self.counters.add(self.path, rng, 200, len(self.missing_page))
                return
            self.send_error(404)
            self.counters.add(self.path, rng, 404, 0)
            return
        size = os.path.getsize(path)
        start, end, status = 0, size - 1, 200
        m = _RANGE.match(rng.strip()) if rng else None
        if m and (m.group(1) or m.group(2)):
            if m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)) if m.group(2) else size - 1, size - 1)
            else:
                start = max(size - int(m.group(2)), 0)
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.counters.add(self.path, rng, 416, 0)
                return
            status = 206
        with open(path, "rb") as f:  # only the bytes asked for: a benchmark must not measure this server
            f.seek(start)
            body = f.read(max(end + 1 - start, 0))
        self.send_response(status)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{start + len(body) - 1}/{size}")
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (an aborted fetch)
            return
        self.counters.add(self.path, rng, status, len(body))


def start_server(directory, data_dir, cors=True, cache="no-cache", refused=(), missing_page=None,
                 data_cache="no-cache"):
    """Serve `directory` at / and `data_dir` at /data/ on 127.0.0.1 (a free port) in a thread; the
    paths in `refused` answer 404; with `missing_page`, a missing file under /data/ answers that page
    with status 200."""
    counters = Counters()
    handler = type("H", (Handler,), {"data_dir": Path(data_dir), "counters": counters, "cors": cors,
                                     "cache": cache, "data_cache": data_cache, "refused": frozenset(refused),
                                     "missing_page": missing_page})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(directory)))
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    class Server:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        data = Path(data_dir)

    Server.counters = counters
    Server.httpd = httpd
    return Server

"""A static file server on 127.0.0.1 with Range support: the built viewer site, plus a local source."""

from __future__ import annotations

import http.server
import os
import re
import sys
import threading
import urllib.parse
import webbrowser
from functools import partial

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler plus single byte ranges, CORS, and extra mounted folders."""

    mounts: dict[str, str] = {}

    def log_message(self, format, *args):  # quiet: the CLI prints the URL, not every request
        pass

    def end_headers(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", "Content-Range, Content-Length")
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def translate_path(self, path):
        clean = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
        for prefix, folder in self.mounts.items():
            if clean == prefix or clean.startswith(prefix + "/"):
                rest = clean[len(prefix):].lstrip("/")
                parts = [p for p in rest.split("/") if p not in ("", ".", "..")]
                return os.path.join(folder, *parts)
        return super().translate_path(path)

    def send_head(self):
        spec = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not spec or not os.path.isfile(path):
            return super().send_head()
        m = _RANGE.match(spec.strip())
        size = os.path.getsize(path)
        if not m or (not m.group(1) and not m.group(2)):
            return super().send_head()
        if m.group(1):
            start = int(m.group(1))
            end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
        else:
            start, end = max(size - int(m.group(2)), 0), size - 1
        if start >= size or start > end:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        f = open(path, "rb")
        f.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        return _Limited(f, end - start + 1)


class _Limited:
    def __init__(self, f, n):
        self.f, self.n = f, n

    def read(self, size=-1):
        if self.n <= 0:
            return b""
        data = self.f.read(self.n if size < 0 else min(size, self.n))
        self.n -= len(data)
        return data

    def close(self):
        self.f.close()


def dist_dir() -> str | None:
    """The built static site: $ZARRLITE_DIST, or web/dist of a source checkout."""
    env = os.environ.get("ZARRLITE_DIST")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    candidate = os.path.normpath(os.path.join(here, "..", "..", "web", "dist"))
    return candidate if os.path.isdir(candidate) else None


def start_server(root: str, mounts: dict[str, str] | None = None, port: int = 0):
    handler = type("Handler", (RangeHandler,), {"mounts": dict(mounts or {})})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), partial(handler, directory=root))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve_viewer(source: str | None, port: int = 0, open_browser: bool = True) -> int:
    root = dist_dir()
    if root is None:
        print("zarrlite view: the viewer is not built (run ./build.sh, or set ZARRLITE_DIST)", file=sys.stderr)
        return 2
    mounts, query = {}, ""
    if not source and os.path.isdir(os.path.join(root, "sample", "cells.ome.zarr")):
        query = "?source=" + urllib.parse.quote("../sample/cells.ome.zarr", safe="")
    elif source and source.startswith(("http://", "https://")):
        query = "?source=" + urllib.parse.quote(source, safe="")
    elif source:
        name = os.path.basename(os.path.abspath(source).rstrip("/"))
        mounts["/data/" + name] = os.path.abspath(source)
        query = "?source=" + urllib.parse.quote(f"/data/{name}", safe="")
    server = start_server(root, mounts, port)
    page = "viewer/" if os.path.isdir(os.path.join(root, "viewer")) else ""
    url = f"http://127.0.0.1:{server.server_address[1]}/{page}{query}"
    print(f"zarrlite viewer at {url}  (Ctrl-C to stop)", flush=True)
    if open_browser:
        webbrowser.open(url)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()
    return 0

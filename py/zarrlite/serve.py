"""A static file server on 127.0.0.1 with Range support: the built viewer site, plus a local source."""

from __future__ import annotations

import http.server
import io
import os
import re
import sys
import threading
import urllib.parse
import webbrowser
from functools import partial

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler plus single byte ranges, CORS, extra mounted folders, and `exact`: URL
    paths (unquoted) -> a local file or bytes, the only things served below `reserved` (a reference
    file's targets: serve_refs.py)."""

    mounts: dict[str, str] = {}
    exact: dict[str, str | bytes] = {}
    reserved: str | None = None

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
        clean = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if clean in self.exact or (self.reserved and clean.startswith(self.reserved)):
            resource = self.exact.get(clean)
            if isinstance(resource, bytes):
                return self._send_ranged(io.BytesIO(resource), len(resource), "application/json")
            if resource is None or not os.path.isfile(resource):
                self.send_error(404, "not a file the reference file names")
                return None
            return self._send_ranged(open(resource, "rb"), os.path.getsize(resource), self.guess_type(resource))
        path = self.translate_path(self.path)
        if not self.headers.get("Range") or not os.path.isfile(path):
            return super().send_head()
        return self._send_ranged(open(path, "rb"), os.path.getsize(path), self.guess_type(path))

    def _send_ranged(self, f, size: int, content_type: str):
        """The whole of `f` (200), or the one byte range the request asks for (206, or 416)."""
        m = _RANGE.match((self.headers.get("Range") or "").strip())
        if not m or (not m.group(1) and not m.group(2)):
            start, end, status = 0, size - 1, 200
        elif m.group(1):
            start, status = int(m.group(1)), 206
            end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
        else:
            start, end, status = max(size - int(m.group(2)), 0), size - 1, 206
        if status == 206 and (start >= size or start > end):
            f.close()
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        f.seek(start)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(max(end - start + 1, 0)))
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


def start_server(root: str, mounts: dict[str, str] | None = None, port: int = 0,
                 exact: dict[str, str | bytes] | None = None, reserved: str | None = None):
    """A threaded server on 127.0.0.1 for `root`, `mounts` (URL prefix -> folder or file) and `exact`
    (URL path -> file or bytes; nothing else below `reserved`)."""
    handler = type("Handler", (RangeHandler,), {"mounts": dict(mounts or {}), "exact": dict(exact or {}),
                                                "reserved": reserved})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), partial(handler, directory=root))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def source_server(root: str, source: str | None, port: int = 0, allow=()):
    """(the server, the page's `?source=` query) for a SOURCE of `zarrlite view`: none (the sample), a
    URL, a local folder or .zip (mounted at /data/<name>), or a local kerchunk reference file (its
    targets served as serve_refs.py says; RefusedTargetsError before anything is served)."""
    from .serve_refs import PREFIX, served_references
    from .stores.refs_spec import is_url

    mounts, exact, query = {}, {}, ""
    if not source and os.path.isdir(os.path.join(root, "sample", "cells.ome.zarr")):
        query = "?source=" + urllib.parse.quote("../sample/cells.ome.zarr", safe="")
    elif source and is_url(source):
        query = "?source=" + urllib.parse.quote(source, safe="")
    elif source:
        refs = served_references(source, allow) if os.path.isfile(source) else None
        if refs is not None:
            for missing in refs.missing:
                print(f"zarrlite view: {source} names {missing}, which does not exist", file=sys.stderr)
            exact = {**refs.files, refs.url_path: refs.document}
            query = "?source=" + urllib.parse.quote(refs.url_path, safe="")
        else:
            name = os.path.basename(os.path.abspath(source).rstrip("/"))
            mounts["/data/" + name] = os.path.abspath(source)
            query = "?source=" + urllib.parse.quote(f"/data/{name}", safe="")
    return start_server(root, mounts, port, exact, PREFIX), query


def serve_viewer(source: str | None, port: int = 0, open_browser: bool = True, allow=()) -> int:
    root = dist_dir()
    if root is None:
        print("zarrlite view: the viewer is not built (run ./build.sh, or set ZARRLITE_DIST)", file=sys.stderr)
        return 2
    server, query = source_server(root, source, port, allow)
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

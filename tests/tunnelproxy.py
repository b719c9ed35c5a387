"""A CONNECT-only HTTP proxy on 127.0.0.1 for tests: what an `https_proxy` is to a client.

`CONNECT host:port` to a loopback name (127.0.0.1, localhost, *.localhost, which RFC 6761 reserves for
loopback) opens a tunnel to 127.0.0.1:port and pipes bytes both ways; any other host is refused with
403, so nothing leaves the machine. `targets` lists the CONNECT targets, in order.
"""

from __future__ import annotations

import select
import socket
import socketserver
import threading


class _Tunnel(socketserver.BaseRequestHandler):
    server: "_ProxyServer"

    def handle(self):
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 8192:
            data = self.request.recv(4096)
            if not data:
                return
            head += data
        method, target, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
        host, _, port = target.rpartition(":")
        with self.server.lock:
            self.server.targets.append(target)
        if method != "CONNECT" or not port.isdigit() or not (
                host in ("127.0.0.1", "localhost") or host.endswith(".localhost")):
            self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            ends = [self.request, upstream]
            while True:
                ready, _, _ = select.select(ends, [], [], 30)
                if not ready:
                    return
                for end in ready:
                    data = end.recv(65536)
                    if not data:
                        return
                    (upstream if end is self.request else self.request).sendall(data)


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Tunnel)
        self.targets: list[str] = []
        self.lock = threading.Lock()


class TunnelProxy:
    """`with TunnelProxy() as proxy:` set `https_proxy` to `proxy.url`; `proxy.targets` says where to."""

    def __init__(self):
        self._server = _ProxyServer()
        self._thread = threading.Thread(target=self._server.serve_forever, name="test-tunnel", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def targets(self) -> list[str]:
        with self._server.lock:
            return list(self._server.targets)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

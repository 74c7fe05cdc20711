"""A small web site on loopback for the fetcher's tests: pages, images, redirects, and the
ways a stranger's server misbehaves (slow, dripping, huge, compressed bombs, 404)."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[["_Handler"], None]


class _Handler(BaseHTTPRequestHandler):
    site: LocalSite

    def do_GET(self):
        self.site.requests.append((self.path, dict(self.headers)))
        route = self.site.routes.get(self.path.split("?", 1)[0])
        if route is None:
            self.send_error(404, "Not Found")
            return
        try:
            route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the fetcher hung up on purpose (a cap or a deadline)

    def log_message(self, format, *args):  # keeps the test output quiet
        pass

    def reply(self, body: bytes, content_type: str, status: int = 200, headers=None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str, status: int = 302) -> None:
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


class LocalSite:
    """`with LocalSite() as site:` serves `site.routes` on http://127.0.0.1:PORT."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict]] = []
        handler = type("Handler", (_Handler,), {"site": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def page(self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8"):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = lambda handler: handler.reply(data, content_type)

    def __enter__(self) -> LocalSite:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def slow(seconds: float, body: bytes = b"<p>late</p>") -> Route:
    def route(handler: _Handler) -> None:
        time.sleep(seconds)
        handler.reply(body, "text/html")

    return route


def drip(total: int, every: float) -> Route:
    """Headers at once, then one byte at a time: each read is quick, the whole is not."""

    def route(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        for _ in range(total):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(every)

    return route


def endless(chunk: int = 64 * 1024, limit: int = 50 * 1024 * 1024) -> Route:
    """A body with no Content-Length that goes on (up to `limit`, so the test always ends)."""

    def route(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Connection", "close")
        handler.end_headers()
        block = b"<p>" + b"a" * (chunk - 7) + b"</p>\n"
        for _ in range(limit // chunk):
            handler.wfile.write(block)

    return route


def gzip_bomb(unpacked: int) -> Route:
    body = gzip.compress(b"\x00" * unpacked, compresslevel=9)

    def route(handler: _Handler) -> None:
        handler.reply(body, "text/html", headers={"Content-Encoding": "gzip"})

    return route

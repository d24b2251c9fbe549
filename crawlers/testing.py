"""A local HTTP server for tests of anything that fetches: fixture files plus scripted misbehaviour.

Shipped in the package (not hidden in tests/) so every suite that crawls can use it::

    with FixtureServer(Path("tests/crawlers/fixtures")) as server:
        server.route("/busy", status=429, headers={"Retry-After": "120"})
        server.route("/slow", body=b"x" * 100, trickle_s=0.2)
        fetcher.fetch(source, server.url("/feeds/rss20.xml"))

Links in fixture files are written as ``http://yuqing.test/...`` and served as the server's own
address. It listens on 127.0.0.1 only, on a free port; sources pointed at it must say ``internal: true``.
Files are served from ``root`` by path; a :meth:`route` overrides or adds a path. Every request
is recorded in :attr:`requests` (path and headers) so tests can check what a client sent.

:meth:`fail_at_random` makes a share of the requests under a path fail the ways real servers do
(503, a connection closed before any answer, a body cut short). Which request fails depends on
the seed, the path and how many times that path was asked for, not on the order in which
threads arrive, so a run is the same every time.
"""

from __future__ import annotations

import mimetypes
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["FixtureServer", "Route", "news_page", "news_feed", "serve_news", "news_sources_yaml"]

_TYPES = {".xml": "application/xml", ".rss": "application/rss+xml", ".atom": "application/atom+xml",
          ".html": "text/html", ".htm": "text/html", ".txt": "text/plain"}


@dataclass
class Route:
    """A scripted answer. ``etag``/``last_modified`` make the route answer 304 to a matching
    conditional GET; ``trickle_s`` sends the body one byte at a time with that pause; ``declare_length`` False omits
    Content-Length so a client must count the bytes itself."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    trickle_s: float = 0.0
    declare_length: bool = True  # False: no Content-Length, the body ends when the server closes
    trickle_headers: bool = False  # trickle the status line and headers too
    gate: threading.Event | None = None  # answer only once the test sets it (at most 30 s)
    hits: int = 0


class FixtureServer:
    """Threaded HTTP/1.1 server on 127.0.0.1; use as a context manager or call start/stop."""

    #: Fixture files write their own site's address as this; it is served as the real origin, so
    #: links inside feeds and pages point back at the running server.
    PLACEHOLDER = b"http://yuqing.test"

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else None
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._flaky: tuple[str, float, int] | None = None  # (path prefix, share, seed)
        self._asked: dict[str, int] = {}
        #: how many requests :meth:`fail_at_random` failed, by way of failing
        self.failed: dict[str, int] = {"503": 0, "drop": 0, "cut": 0}

    # -- configuration -----------------------------------------------------------------------

    def route(self, path: str, body: bytes | str = b"", status: int = 200, **kwargs) -> Route:
        """Answer ``path`` (with its query string, if any) as scripted; returns the route."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        route = Route(status=status, body=data, **kwargs)
        self.routes[path] = route
        return route

    def fail_at_random(self, share: float, seed: int, prefix: str = "/") -> None:
        """Fail about ``share`` of the requests whose path starts with ``prefix`` (see the
        module docstring); ``share`` 0 stops it."""
        self._flaky = (prefix, share, seed) if share > 0 else None

    def _flake(self, path: str) -> str | None:
        """How this request fails, or None."""
        if self._flaky is None or not path.startswith(self._flaky[0]):
            return None
        _prefix, share, seed = self._flaky
        with self._lock:
            nth = self._asked[path] = self._asked.get(path, 0) + 1
            draw = random.Random(f"{seed}:{path}:{nth}")
            if draw.random() >= share:
                return None
            way = draw.choice(("503", "drop", "cut"))
            self.failed[way] += 1
        return way

    def redirect(self, path: str, to: str, status: int = 302) -> Route:
        return self.route(path, status=status, headers={"Location": to})

    def url(self, path: str = "/") -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    @property
    def origin(self) -> str:
        return self.url("")

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for p, _ in self.requests if p == path)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "FixtureServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: without this, Nagle's algorithm and the
            # client's delayed ACK add 40 ms to every response
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server._answer(self)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:
                # a client that gave up mid-response is what size and deadline tests provoke
                if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
                    super().handle_error(request, client_address)

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="fixture-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FixtureServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- answering ---------------------------------------------------------------------------

    def _find(self, path: str) -> Route | None:
        if path in self.routes:
            return self.routes[path]
        bare = urlsplit(path).path
        if bare in self.routes:
            return self.routes[bare]
        if self.root is not None:
            file = (self.root / bare.lstrip("/")).resolve()
            if file.is_file() and self.root.resolve() in file.parents:
                kind = _TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or \
                    "application/octet-stream"
                body = file.read_bytes().replace(self.PLACEHOLDER, self.origin.encode())
                return Route(body=body, headers={"Content-Type": kind})
        return None

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self.requests.append((handler.path, headers))
        flake = self._flake(handler.path)
        if flake == "drop":  # no answer at all: the client sees the connection closed
            handler.close_connection = True
            return
        route = self._find(handler.path)
        if flake == "503":
            route = Route(status=503, body=b"busy", headers={"Content-Type": "text/plain"})
        elif flake == "cut" and route is not None:
            route = Route(status=route.status, body=route.body, headers=dict(route.headers),
                          etag=route.etag, last_modified=route.last_modified)
        if route is None:
            route = Route(status=404, body=b"not found", headers={"Content-Type": "text/plain"})
        route.hits += 1
        if route.gate is not None:
            route.gate.wait(30)
        status, body = route.status, route.body
        if (route.etag and headers.get("if-none-match") == route.etag) or (
                route.last_modified and headers.get("if-modified-since") == route.last_modified):
            status, body = 304, b""
        try:
            if route.trickle_headers:
                head = (f"HTTP/1.1 {status} OK\r\nContent-Length: {len(body)}\r\n"
                        + "".join(f"{k}: {v}\r\n" for k, v in route.headers.items()) + "\r\n")
                for byte in head.encode("latin-1") + body:
                    handler.wfile.write(bytes([byte]))
                    handler.wfile.flush()
                    time.sleep(route.trickle_s or 0.05)
                return
            handler.send_response(status)
            for name, value in route.headers.items():
                handler.send_header(name, value)
            if route.etag:
                handler.send_header("ETag", route.etag)
            if route.last_modified:
                handler.send_header("Last-Modified", route.last_modified)
            if route.declare_length:
                handler.send_header("Content-Length", str(len(body)))
            else:
                handler.send_header("Connection", "close")
                handler.close_connection = True
            handler.end_headers()
            if flake == "cut" and body:  # Content-Length promised, half sent, then closed
                handler.wfile.write(body[: len(body) // 2])
                handler.wfile.flush()
                handler.close_connection = True
            elif route.trickle_s:
                for i in range(len(body)):
                    handler.wfile.write(body[i:i + 1])
                    handler.wfile.flush()
                    time.sleep(route.trickle_s)
            else:
                handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (size limit, deadline): that is what such tests check


# -- a small news site: feeds of full-text sources and their article pages ----------------------

def news_page(source: int, item: int) -> str:
    """Article ``item`` of site ``source``: a title in <h1>, the text in div.content."""
    return (f"<html><head><title>第{source}站 第{item}条</title></head><body>"
            f"<h1>示范县第{source}站通报第{item}起违反中央八项规定精神问题</h1>"
            f"<div class='content'><p>近日，示范县纪委监委通报第{item}起典型问题，"
            f"涉及第{source}站所在乡镇的公款吃喝和违规收受礼品。</p>"
            "<p>县纪委监委要求各级党组织以案为鉴、以案促改。</p></div></body></html>")


def news_feed(base: str, source: int, items: int) -> str:
    """RSS 2.0 of site ``source`` with ``items`` entries linking to ``base``/a/s<source>/<i>.html."""
    entries = "".join(
        f"<item><title>示范县第{source}站通报第{i}起违反中央八项规定精神问题</title>"
        f"<link>{base}/a/s{source}/{i}.html</link><guid>{base}/a/s{source}/{i}.html</guid>"
        f"<description>第{i}起问题摘要</description>"
        f"<pubDate>Thu, 05 Mar 2026 10:{i % 60:02d}:00 +0800</pubDate></item>"
        for i in range(items))
    return (f"<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel>"
            f"<title>第{source}站</title><link>{base}/</link>{entries}</channel></rss>")


def serve_news(server: FixtureServer, sources: int, items: int) -> list[str]:
    """Routes ``/feeds/s<k>.xml`` (with an ETag, so a second round gets 304) and their pages on
    ``server``; returns the pages' URLs."""
    urls = []
    for s in range(sources):
        server.route(f"/feeds/s{s}.xml", news_feed(server.origin, s, items), etag=f'"s{s}-v1"',
                     headers={"Content-Type": "application/rss+xml"})
        for i in range(items):
            server.route(f"/a/s{s}/{i}.html", news_page(s, i), headers={"Content-Type": "text/html"})
            urls.append(server.url(f"/a/s{s}/{i}.html"))
    return urls


def news_sources_yaml(server: FixtureServer, sources: int) -> str:
    """sources.yaml for :func:`serve_news`: ids ``site-<k>``, full text, internal, fast."""
    return "sources:\n" + "".join(f"""  - id: site-{s}
    name: 第{s}站
    type: rss
    url: {server.url(f'/feeds/s{s}.xml')}
    internal: true
    fetch_full_text: true
    rate_limit_per_minute: 600
    timeout_s: 5
    extraction:
      title: h1
      body: div.content
""" for s in range(sources))

"""The console's request bodies (docs/security.md §2 and §5): every body has a cap, checked before
it is read, so that no one (not even a visitor who has not logged in) makes the console hold a
body of their choosing in memory. Against the real console (uvicorn) on 127.0.0.1, over raw
sockets: a declared Content-Length is sent without the body it promises, and a chunked body is
sent a chunk at a time until it passes the cap; neither test builds a large body in memory."""

from __future__ import annotations

import socket
from datetime import datetime, timezone

import httpx
import pytest

from alerting.accounts import add_user
from alerting.clock import ManualClock
from alerting.config import AlertingConfig
from alerting.service import AlertService
from alerting.store import open_store
from yuqing.web import ConsoleOptions, create_app
from yuqing.web.limits import MAX_BODY, MAX_HANDIN_FORM
from yuqing.web.testing import ConsoleServer

PASSWORD = "correct horse 9"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bodies")
    service = AlertService(open_store(f"sqlite:///{tmp / 'alerts.sqlite3'}"), AlertingConfig(),
                           clock=ManualClock(datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)), channels={})
    add_user(service.store, "xc", "staff", "宣传部", PASSWORD, service.config.offices, service.clock.now(), "test")
    with ConsoleServer(create_app(service, ConsoleOptions(briefings=tmp / "briefings"))) as running:
        yield running
    service.store.close()


def _connect(server) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    # a console that reads the whole declared body would wait for it: the timeout fails the test
    return socket.create_connection((host, int(port)), timeout=10)


def _answer(sock: socket.socket) -> tuple[int, str]:
    """The status and body of the response (the console closes or the body ends)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(head.split(b" ")[1]), rest.decode("utf-8", "replace")


def _declared(server, path: str, content_type: str, length: int) -> tuple[int, str]:
    """POST ``path`` declaring ``length`` bytes and sending none of them."""
    with _connect(server) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: console\r\nContent-Type: {content_type}\r\n"
                     f"Content-Length: {length}\r\n\r\n".encode())
        return _answer(sock)


def _chunked(server, path: str, content_type: str, total: int, cookie: str = "") -> tuple[int, str]:
    """POST ``path`` as a chunked body of ``total`` bytes, 16 KB at a time; stops sending when
    the console has answered (it need not read the rest)."""
    chunk = b"a" * 16384
    with _connect(server) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: console\r\nContent-Type: {content_type}\r\n"
                     f"Cookie: {cookie}\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        sent = 0
        try:
            while sent < total:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered and closed before the end: what a cap does
        return _answer(sock)


@pytest.mark.parametrize("path, content_type", [("/api/login", JSON), ("/login", FORM),
                                                ("/api/alerts/x/judge", JSON), ("/intake", FORM)])
def test_a_declared_length_over_the_cap_is_refused_unread(server, path, content_type):
    status, text = _declared(server, path, content_type, 200 * 1024 * 1024)
    assert status == 413, text
    assert "过大" in text or "too large" in text


@pytest.mark.parametrize("path, content_type", [("/api/login", JSON), ("/login", FORM)])
def test_a_chunked_body_is_refused_once_it_passes_the_cap(server, path, content_type):
    status, text = _chunked(server, path, content_type, MAX_BODY + 64 * 1024)
    assert status == 413, text
    assert "过大" in text or "too large" in text


def test_the_api_says_what_the_cap_is(server):
    status, text = _declared(server, "/api/login", JSON, MAX_BODY + 1)
    assert status == 413 and f"at most {MAX_BODY} bytes" in text


def test_a_body_under_the_cap_is_read_as_before(server):
    status, text = _declared(server, "/api/login", JSON, 0)
    assert status == 422, text  # read (empty) and refused as bad input, not as too large
    # a hand-in carries the text of an item: its form may pass the ordinary cap. Read whole, it
    # is then refused for its missing CSRF token (403), which is checked after reading
    login = httpx.post(f"{server.url}/api/login", json={"name": "xc", "password": PASSWORD})
    cookie = "; ".join(f"{name}={value}" for name, value in login.cookies.items())
    status, text = _chunked(server, "/intake", FORM, MAX_BODY + 64 * 1024, cookie)
    assert status == 403 and "CSRF" in text
    status, text = _chunked(server, "/intake", FORM, MAX_HANDIN_FORM + 64 * 1024, cookie)
    assert status == 413 and "过大" in text

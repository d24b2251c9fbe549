"""Real local receivers for tests of anything that sends notifications (shipped in the package so
the outbox's tests can use them too). Both listen on 127.0.0.1 on a free port::

    with SmtpReceiver() as smtp:                       # aiosmtpd; needs the aiosmtpd package
        channel = build_channel(load_channel_config(smtp.channel_config("mail", to=["a@x.cn"])))
        channel.send(note)
        [msg] = smtp.messages                          # email.message.EmailMessage, decoded

    with WebhookReceiver() as hook:                    # answers 200 {"errcode": 0, "errmsg": "ok"}
        hook.answer(500, "busy", times=2)              # the next two requests fail
        hook.answer(200, {"errcode": 45009}, times=1)  # then one vendor refusal
        ...; hook.requests[0].json, hook.requests[0].query["sign"]

:class:`SilentServer` accepts connections and never says a word, to test timeouts.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["Received", "SilentServer", "SmtpReceiver", "WebhookReceiver", "closed_port"]


class SmtpReceiver:
    """An SMTP server (aiosmtpd, plain, no TLS) collecting every accepted message.

    ``messages`` are parsed with ``email.policy.default`` (headers decoded, ``get_content()``
    gives the text); ``raw`` holds the same messages as the bytes on the wire; ``envelopes`` are
    the (MAIL FROM, RCPT TO list) pairs. ``login=(user,
    password)`` makes the server demand AUTH; :meth:`refuse` and :meth:`fail_next` script replies.
    """

    def __init__(self, login: tuple[str, str] | None = None):
        self.login = login
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._refused: dict[str, str] = {}
        self._failures: list[str] = []
        self._lock = threading.Lock()
        self._controller = None
        self.host = "127.0.0.1"
        self.port = 0

    def refuse(self, address: str, reply: str = "550 5.1.1 no such mailbox") -> None:
        """Answer RCPT TO for ``address`` with ``reply`` from now on."""
        self._refused[address.lower()] = reply

    def fail_next(self, reply: str = "451 4.3.0 try again later", times: int = 1) -> None:
        """Answer the DATA of the next ``times`` messages with ``reply`` (message not kept)."""
        with self._lock:
            self._failures.extend([reply] * times)

    def channel_config(self, name: str = "mail", **fields: Any) -> dict[str, Any]:
        """Settings of an e-mail channel aimed at this server (``kind: email``, ``security:
        none``, the login if one is required); ``fields`` override or add keys."""
        data: dict[str, Any] = {"name": name, "kind": "email", "host": self.host,
                                "port": self.port, "security": "none",
                                "sender": "yuqing@example.org", "to": ["office@example.org"]}
        if self.login:
            data.update(username=self.login[0], password=self.login[1])
        return {**data, **fields}

    def wait(self, count: int = 1, timeout_s: float = 5.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.messages)

    def start(self) -> "SmtpReceiver":
        # deferred: aiosmtpd is a test dependency ('.[dev]'), absent where yuqing runs
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        receiver = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
                reply = receiver._refused.get(address.lower())
                if reply:
                    return reply
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                with receiver._lock:
                    if receiver._failures:
                        return receiver._failures.pop(0)
                    parsed = email.message_from_bytes(envelope.original_content,
                                                      policy=email.policy.default)
                    receiver.messages.append(parsed)
                    receiver.raw.append(envelope.original_content)
                    receiver.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                return "250 OK"

        def authenticate(server, session, envelope, mechanism, data):
            ok = self.login is not None and (data.login.decode(), data.password.decode()) == \
                self.login
            # handled=False: aiosmtpd then sends the 535 itself (True would leave the client waiting)
            return AuthResult(success=ok, handled=False)

        class _Controller(Controller):
            def _trigger_server(self):
                # port 0 means "any free port": read the one the OS gave before the readiness
                # probe connects to it (aiosmtpd would probe port 0)
                self.port = self.server.sockets[0].getsockname()[1]
                super()._trigger_server()

        extra: dict[str, Any] = {}
        if self.login:
            # a receiver on loopback has no use for TLS; aiosmtpd warns about AUTH without it
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS",
                                    UserWarning)
            extra = dict(authenticator=authenticate, auth_required=True, auth_require_tls=False)
        # server_hostname spares aiosmtpd a reverse DNS lookup of this machine
        self._controller = _Controller(Handler(), hostname="127.0.0.1", port=0,
                                       server_hostname="receiver.test", **extra)
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "SmtpReceiver":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass(frozen=True)
class Received:
    """One request the webhook receiver got. ``query`` maps names to their (decoded) values;
    ``headers`` have lower-case names; ``json`` is the parsed body (None when not JSON)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    json: Any = None


@dataclass
class _Answer:
    status: int
    body: bytes
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


class WebhookReceiver:
    """A threaded HTTP server recording every request and answering as scripted.

    By default every request gets ``status`` with ``body`` (a dict is sent as JSON; the default
    is the DingTalk/WeCom success answer). :meth:`answer` queues a different answer for the next
    ``times`` requests, optionally after ``delay_s`` seconds, to provoke failures and timeouts.
    """

    def __init__(self, status: int = 200, body: Any = None):
        self.default = _Answer(status, _encode({"errcode": 0, "errmsg": "ok"} if body is None
                                               else body))
        self.requests: list[Received] = []
        self._queue: list[_Answer] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def answer(self, status: int = 200, body: Any = b"", times: int = 1,
               delay_s: float = 0.0) -> None:
        with self._lock:
            self._queue.extend(_Answer(status, _encode(body), delay_s) for _ in range(times))

    def url(self, path: str = "/") -> str:
        assert self._server is not None, "start the receiver first"
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    @property
    def base_url(self) -> str:
        return self.url("")

    def wait(self, count: int = 1, timeout_s: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.requests)

    def start(self) -> "WebhookReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                receiver._handle(self)

            do_PUT = do_GET = do_POST  # noqa: N815

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                # a client that timed out and hung up is what timeout tests provoke
                if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
                    super().handle_error(request, client_address)

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,),
                         name="webhook-receiver", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "WebhookReceiver":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        try:
            parsed = json.loads(body.decode("utf-8")) if body else None
        except ValueError:
            parsed = None
        parts = urlsplit(handler.path)
        with self._lock:
            self.requests.append(Received(
                method=handler.command, path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in handler.headers.items()},
                body=body, json=parsed))
            answer = self._queue.pop(0) if self._queue else self.default
        if answer.delay_s:
            time.sleep(answer.delay_s)
        try:
            handler.send_response(answer.status)
            for name, value in answer.headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(answer.body)))
            handler.end_headers()
            handler.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting: that is what a timeout test checks


def _encode(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never answers: a server that hangs."""

    def __init__(self):
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> "SilentServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]

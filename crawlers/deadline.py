"""A total deadline on every socket operation of a request, headers included.

httpx's timeouts apply to each read: a server that sends one byte a second never trips them. The
fetcher checks its deadline between body chunks, but the status line and headers are read inside
httpcore. :func:`deadline_transport` gives httpx a transport whose sockets cap every read, write,
connect and TLS handshake at the time left before the deadline of the request on this thread
(set with :func:`deadline`), so a trickle anywhere in the response ends as a timeout.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Callable, Iterator

import httpcore
import httpx

__all__ = ["deadline", "deadline_transport", "ConnectCheck"]

#: called with the host asked for and the stream just connected, before anything is written on
#: it; raises to refuse the connection (``crawlers.fetch`` checks the peer's address there)
ConnectCheck = Callable[[str, httpcore.NetworkStream], None]

_local = threading.local()


@contextlib.contextmanager
def deadline(at: float) -> Iterator[None]:
    """Requests made by this thread inside the block must finish by ``at`` (time.monotonic)."""
    previous = getattr(_local, "at", None)
    _local.at = at
    try:
        yield
    finally:
        _local.at = previous


def _cap(timeout: float | None) -> float | None:
    at = getattr(_local, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("total deadline passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _cap(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _cap(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _cap(timeout)))

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend, on_connect: ConnectCheck | None):
        self._inner = inner
        self._on_connect = on_connect

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        stream = _Stream(self._inner.connect_tcp(host, port, _cap(timeout), local_address,
                                                 socket_options))
        if self._on_connect is not None:
            try:
                self._on_connect(host, stream)
            except BaseException:
                stream.close()
                raise
        return stream

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return _Stream(self._inner.connect_unix_socket(path, _cap(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_transport(on_connect: ConnectCheck | None = None,
                       limits: httpx.Limits | None = None) -> httpx.HTTPTransport:
    """httpx's own transport with deadline-aware sockets; ``on_connect`` sees every new
    connection before the request is written on it.

    httpx has no public hook for the network backend; its pool keeps it in ``_network_backend``
    (httpcore 1.x). Should that ever change, the transport still works, with the body-only
    deadline the fetcher enforces itself and the fetcher's check of the peer after the response
    (``crawlers.fetch``): ``tests/security/test_fetch_guard.py`` fails first if it does.
    """
    transport = httpx.HTTPTransport(limits=limits) if limits is not None else httpx.HTTPTransport()
    pool = getattr(transport, "_pool", None)
    inner = getattr(pool, "_network_backend", None)
    if inner is not None:
        pool._network_backend = _Backend(inner, on_connect)
    return transport

"""Which URLs yuqing may fetch: http(s) only, to public addresses only (unless a source is internal).

The check runs on every hop: before connecting (the host name resolved here, every address it
resolves to must be public) and again on the address actually connected to, which catches a DNS
answer that changed in between (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Callable
from urllib.parse import urlsplit

from crawlers.base import FetchError, UnsafeURLError

__all__ = ["Resolver", "system_resolver", "check_url", "check_address", "is_public"]

#: host, port -> the IP addresses a connection may go to
Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``getaddrinfo`` gives for ``host`` (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (not private, loopback, link-local,
    shared, multicast, reserved or unspecified). IPv4-mapped IPv6 is judged as the IPv4 inside."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(source_id: str, url: str, internal: bool, resolve: Resolver = system_resolver) -> None:
    """Raise :class:`UnsafeURLError` unless ``url`` is http(s) and its host resolves only to
    public addresses (any address when ``internal``); :class:`FetchError` ``dns`` when it does
    not resolve."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURLError(source_id, url, "bad_scheme",
                             "only http:// and https:// URLs with a host are fetched")
    if internal:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(parts.hostname, port)
    except (OSError, UnicodeError) as exc:
        raise FetchError(source_id, url, "dns", f"host {parts.hostname!r} does not resolve ({exc}); "
                         "check the URL") from None
    for address in addresses:
        check_address(source_id, url, address, internal)


def check_address(source_id: str, url: str, address: str, internal: bool) -> None:
    """Raise :class:`UnsafeURLError` when ``address`` is not public and the source not internal."""
    if internal or is_public(address):
        return
    raise UnsafeURLError(source_id, url, "unsafe_address",
                         f"{address} is a private, loopback or link-local address; set "
                         "'internal: true' on the source only if it really is an internal site")

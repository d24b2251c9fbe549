"""Which URLs yuqing may fetch: valid http(s) URLs only, to public addresses only.

An ``internal: true`` source may reach private addresses, but only at the hosts of its own URLs
(:func:`internal_hosts`): a redirect or a link from an internal site to any other host is judged
like any public one, so an intranet page that redirects to ``169.254.169.254`` is refused.

The check runs on every hop, in two places:

* before connecting (:func:`check_url`): the URL's form, and every address its host resolves to;
* on the connected socket (:func:`check_address`), before a byte of the request is written, with
  the address the socket really reached: a DNS answer that changed in between (DNS rebinding)
  is refused there. ``crawlers.fetch`` does it for httpx, ``crawlers.spider`` for Scrapy.

"Public" (:func:`is_public`) is decided with :mod:`ipaddress` and a table of our own rather than
by Python's ``is_global`` alone (which changed between 3.11 patch releases): IPv6 forms that
carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, NAT64
``64:ff9b::/96``, 6to4 ``2002::/16``) are judged by the IPv4 address inside, and site-local,
local-use NAT64, Teredo, ORCHID, documentation and discard ranges are never public.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Callable, Iterable
from urllib.parse import urlsplit

from crawlers.base import FetchError, UnsafeURLError

__all__ = ["Resolver", "system_resolver", "check_url", "check_address", "is_public", "url_problem",
           "internal_hosts", "may_connect"]

#: host, port -> the IP addresses a connection may go to
Resolver = Callable[[str, int], list[str]]

# Never public, whatever Python's ipaddress says in a given release.
_NEVER_PUBLIC = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "224.0.0.0/3",
    "fec0::/10",        # site-local (deprecated, still routed inside some networks)
    "64:ff9b:1::/48",   # local-use NAT64: translates into the operator's own networks
    "2001::/32",        # Teredo: the IPv4 end is hidden (obfuscated) in the address
    "2001:10::/28", "2001:20::/28",  # ORCHID
    "2001:db8::/32", "100::/64", "ff00::/8",
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPATIBLE = ipaddress.ip_network("::/96")

# Characters no URL of ours may carry: control characters (a header injection or an
# httpx.InvalidURL crash later) and white space (write %20).
_NOT_IN_URL = re.compile(r"[\x00-\x20\x7f-\x9f]")


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``getaddrinfo`` gives for ``host`` (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, when it is one of the forms that carry one."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _COMPATIBLE and int(ip) > 1):  # ::, ::1 are not IPv4-compatible
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    """True for a globally routable unicast address; see the module docstring. An IPv6 scope
    (``fe80::1%eth0``) is ignored; something that is not an address is not public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return is_public(str(inner))
    if any(ip in net for net in _NEVER_PUBLIC if net.version == ip.version):
        return False
    return ip.is_global and not ip.is_multicast


def internal_hosts(internal: bool, urls: Iterable[str]) -> frozenset[str]:
    """The hosts at which a source may reach private addresses: its own URLs' hosts when it is
    ``internal``, none otherwise."""
    if not internal:
        return frozenset()
    return frozenset(h for h in (_host(u) for u in urls) if h)


def _host(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def url_problem(url: str) -> str | None:
    """Why ``url`` is not a URL yuqing can fetch (scheme, host, port, characters), or None."""
    if _NOT_IN_URL.search(url):
        return "contains a control character or white space; remove it, or write a space as %20"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return "has an invalid port or host"
    if parts.scheme not in ("http", "https"):
        return "is not an http(s) URL; write it as https://host/path"
    if not parts.hostname:
        return "has no host name; write it as https://host/path"
    return None


def may_connect(host: str | None, address: str, allowed_private: frozenset[str]) -> bool:
    """True when a connection for ``host`` may go to ``address``."""
    host = (host or "").rstrip(".").lower()
    return is_public(address) or (bool(host) and host in allowed_private)


def check_url(source_id: str, url: str, allowed_private: frozenset[str] = frozenset(),
              resolve: Resolver = system_resolver) -> None:
    """Raise :class:`UnsafeURLError` unless ``url`` is a valid http(s) URL whose host resolves only
    to public addresses (any address for a host in ``allowed_private``); :class:`FetchError`
    ``dns`` when it does not resolve."""
    problem = url_problem(url)
    if problem is not None:
        reason = "bad_scheme" if "http(s)" in problem else "bad_url"
        raise UnsafeURLError(source_id, url, reason, problem)
    parts = urlsplit(url)
    host = _host(url)
    if host in allowed_private:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(parts.hostname, port)
    except (OSError, UnicodeError) as exc:
        raise FetchError(source_id, url, "dns", f"host {parts.hostname!r} does not resolve ({exc}); "
                         "check the URL") from None
    for address in addresses:
        check_address(source_id, url, address, allowed_private)


def check_address(source_id: str, url: str, address: str,
                  allowed_private: frozenset[str] = frozenset()) -> None:
    """Raise :class:`UnsafeURLError` when a connection for ``url`` may not go to ``address``."""
    if may_connect(_host(url), address, allowed_private):
        return
    if allowed_private:
        hint = (f"'internal: true' allows private addresses only at the source's own hosts "
                f"({', '.join(sorted(allowed_private))})")
    else:
        hint = ("set 'internal: true' on the source only if it really is an internal site")
    raise UnsafeURLError(source_id, url, "unsafe_address",
                         f"{address} is a private, loopback, link-local or otherwise non-public "
                         f"address; {hint}")

"""HTTP fetching for every crawler: safe, bounded, polite, conditional, and kept as evidence.

:meth:`Fetcher.fetch` takes a source (its limits, headers and flags) and one URL, and returns a
:class:`Fetched` (status 200, or 304 when a conditional GET found nothing new) or raises
:class:`~crawlers.base.FetchError` with a reason from a fixed set. On the way it

* refuses anything but valid http(s) URLs, and non-public addresses (``crawlers.safety``) before
  connecting and again on the socket just connected, before the request is written on it, on
  every redirect hop (an ``internal`` source may reach private addresses at its own hosts only);
* follows at most ``max_redirects`` redirects itself, so each hop is checked;
* honours robots.txt (cached per host for ``robots_ttl_s``, and kept in a :class:`RobotsCache`
  when given one, so that the next process does not fetch it again) unless the source says
  ``robots: false``;
* waits for the host's politeness gap and the source's rate limit;
* streams the body and aborts past ``max_bytes`` or past the source's total ``deadline_s``;
  a gzip or deflate body is inflated here, step by step, so that what it expands to is refused
  once it passes ``max_bytes`` without ever being held in memory (a gzip bomb);
  (a server trickling one byte a second, in its headers or its body, hits the deadline, not just
  the per-read timeout: ``crawlers.deadline``);
* reports 429/503 with their Retry-After, and anti-bot challenges (521, cookie-setting script
  pages) as ``blocked`` - never circumvented;
* keeps a snapshot of every body it returns (a WARC record), addressed by its SHA-256.

feedparser and Scrapy never fetch operator URLs themselves: feeds are fetched here and the bytes
parsed; the spider runs its own downloader behind :class:`crawlers.spider.SafetyMiddleware`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from crawlers.base import BlockedError, FetchError
from crawlers.deadline import deadline, deadline_transport
from crawlers.politeness import Politeness, parse_retry_after
from crawlers.safety import Resolver, check_address, check_url, system_resolver
from crawlers.snapshots import SnapshotStore

__all__ = ["Fetched", "Fetcher", "FetchLimits", "RobotsCache", "USER_AGENT", "looks_like_challenge"]

log = logging.getLogger(__name__)

USER_AGENT = "Mozilla/5.0 (compatible; yuqing/0.1; +public-opinion monitoring)"
_ROBOTS_TTL_S = 3600.0


class RobotsCache(Protocol):
    """Where robots.txt bodies outlive the process (``crawlers.state.StateStore`` is one)."""

    def robots(self, origin: str) -> tuple[float, str | None] | None: ...

    def keep_robots(self, origin: str, body: str | None, fetched_at: float) -> None: ...


class FetchLimits(Protocol):
    """What the fetcher needs of a source (``crawlers.sources.Source`` has all of it)."""

    id: str
    headers: dict[str, str]
    #: hosts at which private addresses may be reached (an internal source's own hosts)
    internal_hosts: frozenset[str]
    robots: bool
    #: None: the fetcher's default (``crawl.rate_limit_per_minute`` in the settings)
    rate_limit_per_minute: float | None
    timeout_s: float
    deadline_s: float
    max_bytes: int


@dataclass(frozen=True)
class Fetched:
    """One successful response. ``status`` is 200 (body read) or 304 (``body`` empty)."""

    requested: str
    url: str
    status: int
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    content_hash: str | None = None
    snapshot: str | None = None
    elapsed_s: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


# Markers of the anti-bot products Chinese government sites use (加速乐 __jsl_clearance, 云锁,
# 安全狗, 创宇盾 wzws, 瑞数 with its 412/202 script pages). Fixed strings, not a solver.
_CHALLENGE_MARKERS = re.compile(
    rb"__jsl_clearance|yunsuo_session_verify|wzws_cid|_waf_|safedog|security_verify|"
    rb"\$_ts\s*=|arg1\s*=\s*'", re.I)
_COOKIE_SCRIPT = re.compile(rb"<script[^>]*>.{0,4000}document\.cookie\s*=", re.I | re.S)
_TAGS = re.compile(rb"<script.*?</script>|<style.*?</style>|<[^>]+>", re.I | re.S)


def looks_like_challenge(status: int, body: bytes) -> bool:
    """True for an anti-bot challenge: status 521, or a small page whose only content is a script
    setting a cookie (or a known product's marker), with hardly any visible text."""
    if status == 521:
        return True
    if len(body) > 32_000:
        return False
    if not (_CHALLENGE_MARKERS.search(body) or _COOKIE_SCRIPT.search(body)):
        return False
    visible = _TAGS.sub(b"", body).strip()
    return len(visible) < 200


class _TooLarge(Exception):
    """More bytes than the caller's limit (inside :class:`_Inflater`)."""


class _Inflater:
    """Undoes one Content-Encoding (none, gzip, deflate) chunk by chunk, never producing more
    than the limit it is given plus one byte; raises ValueError for another encoding and
    :class:`_TooLarge` past the limit."""

    def __init__(self, encoding: str):
        name = encoding.strip().lower()
        if name not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise ValueError(encoding)
        self._deflate = name == "deflate"  # its decompressor is chosen by the first bytes
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if "gzip" in name else None

    def feed(self, data: bytes, left: int) -> list[bytes]:
        if self._deflate and self._inflate is None and data:
            # "deflate" is zlib-wrapped by the standard, raw by some servers: the header tells
            zlib_header = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._inflate = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        if self._inflate is None:
            if len(data) > left:
                raise _TooLarge()
            return [data]
        out = []
        while data:
            chunk = self._inflate.decompress(data, max(left, 0) + 1)
            if len(chunk) > left:
                raise _TooLarge()
            left -= len(chunk)
            out.append(chunk)
            data = self._inflate.unconsumed_tail
        return out


class Fetcher:
    """Fetches URLs for sources; one per process, shared by threads.

    ``snapshots`` None keeps no evidence (``sources test``); ``resolver`` and ``transport`` are
    seams for tests. ``close`` releases the connection pool.

    ``threads`` is how many threads share the fetcher: the pool keeps that many connections
    alive and opens twice as many at most. A pool smaller than its threads hands a connection
    that one thread is closing to another (httpcore's ``ReadError: Bad file descriptor``).
    """

    def __init__(self, snapshots: SnapshotStore | None = None, politeness: Politeness | None = None,
                 resolver: Resolver = system_resolver, transport: httpx.BaseTransport | None = None,
                 max_redirects: int = 5, user_agent: str = USER_AGENT, *, threads: int = 8,
                 robots_cache: RobotsCache | None = None, robots_ttl_s: float = _ROBOTS_TTL_S,
                 default_rate_per_minute: float = 30.0):
        self.snapshots = snapshots
        self.politeness = politeness or Politeness()
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self.default_rate_per_minute = default_rate_per_minute
        self._resolve = resolver
        self._hop_of = threading.local()  # the hop this thread is making, for _check_connected
        limits = httpx.Limits(max_connections=2 * max(threads, 1),
                              max_keepalive_connections=max(threads, 1))
        self._client = httpx.Client(follow_redirects=False, trust_env=False, limits=limits,
                                    transport=transport or deadline_transport(self._check_connected,
                                                                              limits),
                                    headers={"User-Agent": user_agent,
                                             # only what _Inflater undoes with a bound
                                             "Accept-Encoding": "gzip, deflate"})
        self._robots: dict[str, tuple[float, RobotFileParser | None]] = {}
        self._robots_lock = threading.Lock()
        self._robots_cache = robots_cache
        self._robots_ttl_s = robots_ttl_s

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def fetch(self, source: FetchLimits, url: str, *, etag: str | None = None,
              last_modified: str | None = None) -> Fetched:
        """GET ``url`` for ``source``; see the module docstring. Raises FetchError."""
        headers = dict(source.headers)
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._get(source, url, headers, keep=True, robots=source.robots)

    # -- one request, redirects followed hop by hop ------------------------------------------

    def _get(self, source: FetchLimits, url: str, headers: dict[str, str], keep: bool,
             robots: bool = False, source_rate: bool = True) -> Fetched:
        spent = 0.0  # time on the network; waiting for our own politeness slot does not count
        current = url
        for _hop in range(self.max_redirects + 1):
            if robots:  # every hop: a redirect may lead where robots.txt says no
                self._check_robots(source, current)
            status, response_headers, body, location, took = self._hop(
                source, current, headers, source.deadline_s - spent, source_rate)
            spent += took
            if location is None:
                return self._result(source, url, current, status, response_headers, body, keep,
                                    spent)
            current = urljoin(current, location)
        raise FetchError(source.id, url, "too_many_redirects",
                         f"more than {self.max_redirects} redirects (last to {current}); "
                         "put the final URL in the source")

    def _hop(self, source: FetchLimits, url: str, headers: dict[str, str], remaining: float,
             source_rate: bool = True) -> tuple[int, dict[str, str], bytes, str | None, float]:
        """One request: ``(status, headers, body, redirect location or None, seconds taken)``;
        ``source_rate`` False waits for the host's gap only."""
        check_url(source.id, url, source.internal_hosts, self._resolve)
        host = urlsplit(url).hostname or ""
        self.politeness.wait(host, source.id if source_rate else None,
                             source.rate_limit_per_minute or self.default_rate_per_minute)
        started = time.monotonic()
        deadline_at = started + remaining
        if remaining <= 0:
            raise FetchError(source.id, url, "deadline", f"no time left of {source.deadline_s:g}s")
        timeout = httpx.Timeout(min(source.timeout_s, remaining))
        self._hop_of.current = (source, url)
        try:
            with deadline(deadline_at), \
                    self._client.stream("GET", url, headers=headers, timeout=timeout) as response:
                # again here: a pooled connection was checked for the hop that opened it
                self._check_peer(source, url, response)
                if response.is_redirect and "location" in response.headers:
                    return (response.status_code, {}, b"", response.headers["location"],
                            time.monotonic() - started)
                body = self._read(source, url, response, deadline_at)
                return (response.status_code, {k.lower(): v for k, v in response.headers.items()},
                        body, None, time.monotonic() - started)
        except httpx.TimeoutException as exc:
            reason = "deadline" if time.monotonic() >= deadline_at - 0.05 else "timeout"
            raise FetchError(source.id, url, reason,
                             f"{type(exc).__name__} after {source.timeout_s:g}s; the server is slow "
                             "or unreachable") from None
        except httpx.ConnectError as exc:
            raise FetchError(source.id, url, "connect", f"cannot connect: {exc}") from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise FetchError(source.id, url, "connect", f"{type(exc).__name__}: {exc}") from None
        except httpx.InvalidURL as exc:  # url_problem() should have caught it: never a traceback
            raise FetchError(source.id, url, "bad_url", f"not a valid URL: {exc}") from None
        finally:
            self._hop_of.current = None

    def _check_connected(self, host: str, stream) -> None:
        """The transport's hook: the socket just connected, before the request is written."""
        current = getattr(self._hop_of, "current", None)
        if current is None:  # only this fetcher's hops use the client; refuse anything else
            raise FetchError("-", host, "unsafe_address", "a connection outside a fetch")
        source, url = current
        peer = stream.get_extra_info("server_addr")
        if peer:
            check_address(source.id, url, str(peer[0]), source.internal_hosts)

    def _check_peer(self, source: FetchLimits, url: str, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer:
            check_address(source.id, url, str(peer[0]), source.internal_hosts)

    def _read(self, source: FetchLimits, url: str, response: httpx.Response, deadline: float) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > source.max_bytes:
            raise FetchError(source.id, url, "too_large",
                             f"Content-Length {declared} is over max_bytes {source.max_bytes}")
        encoding = response.headers.get("content-encoding", "")
        try:
            inflater = _Inflater(encoding)
        except ValueError:
            raise FetchError(source.id, url, "parse", f"Content-Encoding {encoding!r} was not "
                             "asked for (only gzip and deflate are)") from None
        chunks, size = [], 0
        try:
            # raw bytes, inflated here with a bound: what a gzip bomb expands to is counted (and
            # refused) before it exists, where iter_bytes() would inflate a whole chunk first
            for raw in response.iter_raw():
                for chunk in inflater.feed(raw, source.max_bytes - size):
                    size += len(chunk)
                    chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise FetchError(source.id, url, "deadline",
                                     f"response not complete after deadline_s "
                                     f"{source.deadline_s:g}s ({size} bytes so far)")
        except _TooLarge:
            raise FetchError(source.id, url, "too_large",
                             f"body passed max_bytes {source.max_bytes}; raise it on the "
                             "source if the page really is that large") from None
        except zlib.error as exc:
            raise FetchError(source.id, url, "parse",
                             f"body is not valid {encoding} ({exc})") from None
        return b"".join(chunks)

    def _result(self, source: FetchLimits, requested: str, url: str, status: int,
                headers: dict[str, str], body: bytes, keep: bool, elapsed: float) -> Fetched:
        if looks_like_challenge(status, body):
            raise BlockedError(source.id, url, "blocked",
                               f"HTTP {status} anti-bot challenge (a script that sets a cookie); "
                               "yuqing does not solve these: ask the site for access or disable "
                               "the source", status=status)
        if status == 304:
            return Fetched(requested, url, 304, headers, b"", elapsed_s=elapsed)
        if status in (429, 503) or status >= 500:
            retry = parse_retry_after(headers.get("retry-after"))
            reason = "rate_limited" if status == 429 else "unavailable"
            wait = f"; retry after {retry:g}s" if retry is not None else ""
            raise FetchError(source.id, url, reason, f"HTTP {status}{wait}", retry_after=retry,
                             status=status)
        if status >= 400 or status < 200 or status >= 300:
            raise FetchError(source.id, url, "http_error",
                             f"HTTP {status}; check that the URL still exists", status=status)
        digest = hashlib.sha256(body).hexdigest()
        snapshot = self.snapshots.put(body, url) if keep and self.snapshots is not None else None
        return Fetched(requested, url, status, headers, body, digest, snapshot, elapsed)

    # -- robots.txt --------------------------------------------------------------------------

    def _check_robots(self, source: FetchLimits, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._robots_lock:
            cached = self._robots.get(origin)
        if cached is None or cached[0] < time.monotonic():
            rules, age = self._kept_robots(origin)
            if age is None:
                rules, age = self._load_robots(source, origin), 0.0
            with self._robots_lock:
                self._robots[origin] = (time.monotonic() + self._robots_ttl_s - age, rules)
        else:
            rules = cached[1]
        if rules is not None and not rules.can_fetch(self.user_agent, url):
            raise FetchError(source.id, url, "robots",
                             f"{origin}/robots.txt disallows this URL; ask the site, or set "
                             "'robots: false' on the source if the commission may crawl it anyway")

    def _kept_robots(self, origin: str) -> tuple[RobotFileParser | None, float | None]:
        """The rules the cache holds for ``origin`` and their age, or ``(None, None)`` when it
        holds none younger than the TTL."""
        kept = self._robots_cache.robots(origin) if self._robots_cache is not None else None
        if kept is None:
            return None, None
        age = max(time.time() - kept[0], 0.0)
        if age >= self._robots_ttl_s:
            return None, None
        return self._parse_robots(kept[1]), age

    @staticmethod
    def _parse_robots(body: str | None) -> RobotFileParser | None:
        if body is None:
            return None
        rules = RobotFileParser()
        rules.parse(body.splitlines())
        return rules

    def _load_robots(self, source: FetchLimits, origin: str) -> RobotFileParser | None:
        """The parsed robots.txt, or None (everything allowed) when there is none (4xx).
        Other failures propagate: a site that cannot serve robots.txt cannot serve the page."""
        try:
            # the host's gap applies, the source's rate does not: robots.txt is the host's
            fetched = self._get(source, origin + "/robots.txt", dict(source.headers), keep=False,
                                source_rate=False)
            body: str | None = fetched.body.decode("utf-8", "replace")
        except FetchError as exc:
            if exc.reason != "http_error":
                raise
            body = None
        if self._robots_cache is not None:
            self._robots_cache.keep_robots(origin, body, time.time())
        return self._parse_robots(body)

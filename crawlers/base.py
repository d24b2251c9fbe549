"""What the crawlers share: the fetch error, its fixed reasons, and how each reason counts for health.

The errors are a branch of the one tree drawn in :mod:`pipeline.errors`::

    YuqingError
    └── FetchError                one URL of one source could not be fetched; ``reason`` is fixed-set
        ├── UnsafeURLError        refused before any byte was sent (scheme, bad URL, private address)
        └── BlockedError          the site answered with an anti-bot challenge: reported, never solved

``reason`` is one of :data:`REASONS` so that logs, metrics and the state store keep a low
cardinality; the message carries the detail (source id, URL, what to do).
"""

from __future__ import annotations

from pipeline.errors import YuqingError

__all__ = ["FetchError", "UnsafeURLError", "BlockedError", "REASONS", "SOFT_REASONS"]

#: Every reason a fetch can fail for.
REASONS = (
    "bad_scheme",         # not http(s)
    "bad_url",            # not a URL that can be sent: control characters, white space, bad port
    "unsafe_address",     # resolves to a private, loopback, link-local ... address
    "dns",                # the host name does not resolve
    "connect",            # connection refused or reset
    "timeout",            # a connect or read timeout
    "deadline",           # the whole response took longer than the source's deadline_s
    "too_large",          # the body passed max_bytes
    "too_many_redirects",
    "robots",             # robots.txt disallows the URL
    "rate_limited",       # 429
    "unavailable",        # 503 (often maintenance) and other 5xx
    "http_error",         # another 4xx: wrong URL or removed page
    "blocked",            # anti-bot challenge (e.g. 521 with a JS cookie script)
    "parse",              # fetched but nothing could be read from it
    "empty",              # a feed with no entries at all: an error page in a feed's shell, or dead
)

#: Reasons that usually pass by themselves; the others need an operator (health ``failing_hard``
#: once they repeat).
SOFT_REASONS = frozenset({"dns", "connect", "timeout", "deadline", "rate_limited", "unavailable",
                          "empty"})


class FetchError(YuqingError):
    """A URL of a source could not be fetched.

    ``reason`` is one of :data:`REASONS`; ``retry_after`` is the server's Retry-After in seconds
    when it sent one (429/503), which the scheduler honours before polling the source again.
    """

    def __init__(self, source_id: str, url: str, reason: str, detail: str,
                 retry_after: float | None = None, status: int | None = None):
        assert reason in REASONS, reason
        self.source_id = source_id
        self.url = url
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after
        self.status = status
        super().__init__(f"{source_id}: {url}: {reason}: {detail}")


class UnsafeURLError(FetchError):
    """Refused before sending anything: only http(s) to public addresses, unless ``internal``."""


class BlockedError(FetchError):
    """The site served an anti-bot challenge. yuqing never solves one: the operator asks the
    site for access or drops the source."""

"""RSSHub, the self-hosted feed gateway for platforms without feeds (微博, 抖音, 知乎, B站, 微信公众号,
人民网领导留言板): route shapes, feed URLs, and what its error answers mean.

A source of ``type: rsshub`` names a ``route`` (``/weibo/user/1195230310``); the instance's base URL
is set once per sources file (``rsshub: {url: ...}``). :func:`check_route` is what ``yuqing sources
validate`` runs on every route; :func:`feed_url` composes the address the poller fetches.

RSSHub answers a failure with an HTML page and a status: 404 when the route does not exist on the
instance (or was removed), 403 when the instance refuses (an access key is required, or the route
is disabled), 503 when the platform refused RSSHub, the route needs configuration on the instance
(cookies, tokens), or the same request is still in progress. :func:`explain` turns the fetch error
into a message that says which, so that ``yuqing sources list`` shows the reason as the source's
health; a feed with no items at all is reported too, never taken as "no news".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from crawlers.base import FetchError

__all__ = ["RouteShape", "ROUTE_SHAPES", "check_route", "feed_url", "instance_of", "explain"]


@dataclass(frozen=True)
class RouteShape:
    """A route family we know: its pattern, an example and what the parameter is."""

    prefix: str
    pattern: re.Pattern
    example: str
    meaning: str


ROUTE_SHAPES = (
    RouteShape("/weibo/user/", re.compile(r"^/weibo/user/\d{5,12}(?:/[^/]+)?$"), "/weibo/user/1195230310",
               "a 微博 account's posts; the number is in the account's address (weibo.com/u/NUMBER)"),
    RouteShape("/weibo/keyword/", re.compile(r"^/weibo/keyword/[^/]+(?:/[^/]+)?$"), "/weibo/keyword/清河县",
               "微博 posts with a keyword"),
    RouteShape("/zhihu/question/", re.compile(r"^/zhihu/question/\d+(?:/[a-z]+)?$"), "/zhihu/question/59895982",
               "answers to a 知乎 question; the number is in the question's address"),
    RouteShape("/zhihu/people/", re.compile(r"^/zhihu/people/(?:activities|answers|posts)/[\w-]+$"),
               "/zhihu/people/activities/example-id", "a 知乎 user's activity, answers or posts"),
    RouteShape("/bilibili/user/", re.compile(r"^/bilibili/user/(?:video|dynamic|article)/\d+(?:/[^/]+)?$"),
               "/bilibili/user/video/2267573", "a B站 uploader's videos, posts or articles (uid)"),
    RouteShape("/douyin/user/", re.compile(r"^/douyin/user/[\w.-]+(?:/[^/]+)?$"), "/douyin/user/MS4wLjABAAAA",
               "a 抖音 account's videos (the id after /user/ in its share link)"),
    RouteShape("/wechat/mp/homepage/", re.compile(r"^/wechat/mp/homepage/[\w=-]+/\d+(?:/\d+)?$"),
               "/wechat/mp/homepage/MzA3MDM3NjE5NQ==/16", "a 微信公众号's homepage menu (biz and hid)"),
    RouteShape("/people/liuyan/", re.compile(r"^/people/liuyan/\d+(?:/\d+)?$"), "/people/liuyan/539/1",
               "人民网领导留言板 messages for one area (its number) and state"),
)
_SEGMENT = re.compile(r"^[^\s/?#]+$")


def check_route(route: str) -> str:
    """``route`` when it has the shape of an RSSHub route, else ValueError saying what to write.

    Every route is ``/namespace/path`` without scheme or host; a route of a family we know
    (:data:`ROUTE_SHAPES`) must also have that family's parameters.
    """
    text = route.strip()
    if "://" in text or text.startswith("//"):
        raise ValueError(f"{route!r} is a URL; write only the route (e.g. /weibo/user/1195230310) "
                         "and the instance once, as rsshub.url at the top of the file")
    if not text.startswith("/"):
        raise ValueError(f"{route!r}: a route starts with '/' (e.g. /weibo/user/1195230310)")
    path, _, query = text.partition("?")
    segments = path.strip("/").split("/")
    if len(segments) < 2 or not all(_SEGMENT.match(s) for s in segments) or ".." in segments:
        raise ValueError(f"{route!r} is not a route: write /namespace/path with no spaces or empty "
                         "parts, as in the RSSHub documentation")
    if query and not all(re.match(r"^[\w.-]+=[^&\s]*$", pair) for pair in query.split("&")):
        raise ValueError(f"{route!r}: parameters after '?' are name=value pairs joined by '&'")
    for shape in ROUTE_SHAPES:
        if (path + "/").startswith(shape.prefix) and not shape.pattern.match(path.rstrip("/")):
            raise ValueError(f"{route!r} does not have the shape of {shape.prefix}…: {shape.meaning}; "
                             f"e.g. {shape.example}")
    return text


_SAFE = "/?=&%+,;:@-._~"


def feed_url(instance: str, route: str, access_key: str | None = None) -> str:
    """The address of ``route`` on the instance at ``instance``, with the access key if set."""
    path = quote(route.strip(), safe=_SAFE)
    url = instance.rstrip("/") + path
    if access_key:
        url += ("&" if "?" in url else "?") + "key=" + quote(access_key, safe="")
    return url


def instance_of(url: str, route: str) -> str:
    """The instance part of a :func:`feed_url` (what to show: the access key stays out)."""
    at = url.find(quote(route.strip().split("?")[0], safe=_SAFE))
    return url[:at] if at > 0 else url.split("?")[0]


def explain(exc: FetchError, route: str) -> FetchError:
    """The fetch error of an RSSHub feed with a message that says what RSSHub meant.

    The reason, status and Retry-After stay as they were (they decide the health and the backoff).
    """
    status = exc.status
    where = urlsplit(exc.url)
    page = f"{where.scheme}://{where.netloc}{where.path}"
    if status == 404:
        detail = (f"RSSHub has no route {route} (HTTP 404): the route does not exist on this "
                  "instance or was removed; check it against the instance's documentation")
    elif status == 403:
        detail = (f"RSSHub refused {route} (HTTP 403): the instance wants an access key "
                  "(set rsshub.access_key) or has disabled this route")
    elif status == 429:
        detail = f"RSSHub is rate-limiting {route} (HTTP 429): poll less often"
    elif status is not None and status >= 500:
        detail = (f"RSSHub could not read {route} from the platform (HTTP {status}): the platform "
                  "refused RSSHub, the route needs configuration on the instance (cookies, tokens), "
                  f"or a request is still in progress; open {page} to read RSSHub's message")
    elif exc.reason in ("connect", "dns", "timeout", "deadline"):
        detail = f"the RSSHub instance at {where.netloc} does not answer ({exc.detail}); is it running?"
    else:
        return exc
    return FetchError(exc.source_id, exc.url, exc.reason, detail, retry_after=exc.retry_after,
                      status=status)

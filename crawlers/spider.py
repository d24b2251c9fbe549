"""One generic, configuration-driven Scrapy spider for ``html`` sources, and how the service runs it.

    list page ──list_links──▶ next list page (at most max_pages)
        └──▶ article pages not seen before ──extract_page──▶ item ──PublishArticles──▶ articles.raw

The spider reads the same :class:`~crawlers.sources.Source` as the pollers and uses the same page
functions (``crawlers.pages``), so ``yuqing sources test`` shows what it will find. Scrapy's
AutoThrottle, retries, download timeout and maximum size are on, robots.txt as the source says.
The address guard of ``crawlers.safety`` holds here as on the httpx path, in three places:
:class:`SafetyMiddleware` refuses a request whose host resolves to a non-public address (also
after redirects, which Scrapy sends through the middlewares again); :class:`GuardedResolver`,
the resolver Twisted connects with, hands out only addresses that pass, so a DNS answer that
changes between the two (DNS rebinding) never gets a connection; and the address the response
really came from (``response.ip_address``) is checked before the page is read. Anti-bot
challenges are reported as ``blocked``. Proxies from the environment are not used (as httpx does
not): the connected address must be the site's own to be checked.

Twisted's reactor cannot be restarted inside a process, so :class:`ScrapyRunner` runs each
spider round in a subprocess (``python -m crawlers.spider``): a spider that crashes or hangs is
killed and recorded against its source, and never stops the crawl service or other sources. The
subprocess publishes through the item pipeline, flushes, marks the entries seen, and reports
what it did as JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import DNSLookupError
from twisted.internet.error import TimeoutError as TwistedTimeout
from twisted.internet.interfaces import IHostnameResolver, IResolutionReceiver
from zope.interface import implementer

from crawlers.base import BlockedError, FetchError, UnsafeURLError
from crawlers.fetch import USER_AGENT, looks_like_challenge
from crawlers.normalize.dates import after_fetch
from crawlers.pages import article_problem, decode_page, extract_page, list_links
from crawlers.poll import PollResult, RetryPolicy
from crawlers.safety import check_address, check_url, may_connect
from crawlers.snapshots import SnapshotStore
from crawlers.sources import DEFAULT_RATE, Source
from crawlers.state import StateStore
from pipeline import bus as topics
from pipeline.backends import open_bus
from pipeline.bus import Bus
from pipeline.config import BusSettings, Settings
from pipeline.records import Article, encode

__all__ = ["GenericSpider", "PublishArticles", "SafetyMiddleware", "SnapshotMiddleware",
           "GuardedResolver", "ScrapyRunner", "BusSpec", "scrapy_settings"]

log = logging.getLogger(__name__)


class GenericSpider(scrapy.Spider):
    """Crawls one ``html`` source: list pages (bounded) to article pages not seen before.

    ``state`` (a :class:`~crawlers.state.StateStore`, or None) says which article URLs were
    published before, and keeps the article pages that failed for a retry (as
    :class:`~crawlers.poll.PollSource` does: a wait that doubles, given up after
    ``retry.max_attempts``); the round asks again for those whose wait is over, listed or not.
    Items are plain dicts with the fields of :meth:`Article.create` plus ``entry_id``;
    :class:`PublishArticles` appends what it published to ``published``.
    """

    name = "yuqing"

    def __init__(self, source: Source, state=None, bus=None, snapshots=None, now: datetime | None = None,
                 retry: RetryPolicy = RetryPolicy(), **kwargs):
        super().__init__(**kwargs)
        self.source = source
        self.now = now or datetime.now(timezone.utc)
        self.retry = retry
        self.page_failures = 0
        self.gave_up: list[str] = []
        self.state = state
        self.bus = bus
        self.snapshots = snapshots
        self.scheduled: set[str] = set()
        self.published: list[str] = []
        self.taken = 0
        self.list_pages_ok = 0
        self.failures: list[tuple[str, str]] = []  # (reason, message)
        self.warnings: list[str] = []
        self.refused: list[str] = []  # pages read but not publishable (pages.article_problem)

    async def start(self):  # Scrapy >= 2.13
        for request in self.start_requests():
            yield request

    def start_requests(self):  # Scrapy < 2.13 calls this one directly
        for url in self.source.start_urls:
            yield scrapy.Request(url, callback=self.parse_list, errback=self.list_failed,
                                 cb_kwargs={"page": 1}, dont_filter=True)
        for kept in self.state.due_pending(self.source.id, self.now) if self.state is not None else []:
            link = kept.entry.get("link") or kept.entry_id
            if link not in self.scheduled:
                self.scheduled.add(link)
                yield scrapy.Request(link, callback=self.parse_article, errback=self.article_failed)

    def _text(self, response) -> tuple[str, str]:
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        return decode_page(response.body, content_type, self.source.encoding)

    def parse_list(self, response, page: int):
        self.list_pages_ok += 1
        text, _ = self._text(response)
        links, next_url = list_links(text, response.url, self.source.extraction)
        fresh = self.state.unseen(self.source.id, links) if self.state is not None else links
        if self.state is not None and fresh:  # pages kept for a retry come back on their own schedule
            waiting = self.state.pending_ids(self.source.id)
            fresh = [link for link in fresh if link not in waiting]
        for link in fresh:
            if link in self.scheduled or self.taken >= self.source.max_items:
                continue
            self.scheduled.add(link)
            self.taken += 1
            yield scrapy.Request(link, callback=self.parse_article, errback=self.article_failed)
        if next_url and page < self.source.max_pages:
            yield scrapy.Request(next_url, callback=self.parse_list, errback=self.list_failed,
                                 cb_kwargs={"page": page + 1})

    def parse_article(self, response):
        text, encoding = self._text(response)
        page = extract_page(text, response.url, self.source.extraction)
        problem = article_problem(page.title, page.content, from_page=True)
        if problem is not None:
            message = f"{problem[0]}: {self.source.id}: {response.url}: {problem[1]}"
            self.warnings.append(message)
            self.refused.append(message)
            return
        published = page.published
        if future := after_fetch(published, self.now):
            self.warnings.append(f"published_future: {self.source.id}: {response.url}: {future}")
            published = None
        yield {"entry_id": response.request.url, "url": response.url, "title": page.title,
               "content": page.content, "published": published, "author": page.author,
               "encoding": encoding, "spread": page.spread}

    @staticmethod
    def _reason(failure) -> tuple[str, str]:
        exc = failure.value
        if isinstance(exc, _Refused):
            return exc.reason, exc.message
        if isinstance(exc, DNSLookupError):
            host = urlsplit(failure.request.url).hostname or ""
            refused = GuardedResolver.refused.get(host)
            return ("unsafe_address", refused) if refused else ("dns", f"{host}: {exc}")
        if isinstance(exc, HttpError):
            status = exc.response.status
            reason = "rate_limited" if status == 429 else "unavailable" if status >= 500 else \
                "http_error"
            return reason, f"HTTP {status}"
        if isinstance(exc, TwistedTimeout) or "timeout" in type(exc).__name__.lower():
            return "timeout", f"{type(exc).__name__}"
        return "connect", f"{type(exc).__name__}: {exc}"

    def list_failed(self, failure):
        reason, message = self._reason(failure)
        self.failures.append((reason, f"{failure.request.url}: {message}"))

    def article_failed(self, failure):
        reason, message = self._reason(failure)
        link = failure.request.url
        self.warnings.append(f"page_failed: {self.source.id}: {link}: {reason}: {message}")
        self.page_failures += 1
        if self.state is None:  # a dry run keeps nothing
            return
        kept = self.state.defer(self.source.id, link, {"kind": "page", "link": link, "read_page": True},
                                f"{reason}: {message}", self.now, max_attempts=self.retry.max_attempts,
                                first_wait_s=self.retry.first_wait_s)
        if kept.gave_up_at is not None:
            self.gave_up.append(f"page_given_up: {self.source.id}: {link}: {kept.attempts} attempts "
                                f"failed, the last with {reason}: {message}; open the page to check it, "
                                "the entry is not tried again")


class _Refused(IgnoreRequest):
    """A request refused by :class:`SafetyMiddleware`, with its fetch reason."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


class SafetyMiddleware:
    """Downloader middleware: only valid http(s) URLs to public addresses (private ones at an
    internal source's own hosts), checked on every request, redirects included, and again on
    the address each response came from; anti-bot challenges reported as ``blocked`` instead of
    parsed."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        spider = self.crawler.spider
        try:
            check_url(spider.source.id, request.url, spider.source.internal_hosts)
        except FetchError as exc:
            raise _Refused(exc.reason, exc.detail) from None
        return None

    def process_response(self, request, response, spider=None):
        source = self.crawler.spider.source
        if response.ip_address is not None:  # the connected socket's peer
            try:
                check_address(source.id, response.url, str(response.ip_address),
                              source.internal_hosts)
            except FetchError as exc:
                raise _Refused(exc.reason, exc.detail) from None
        if looks_like_challenge(response.status, response.body):
            raise _Refused("blocked", f"HTTP {response.status} anti-bot challenge; yuqing does "
                           "not solve these: ask the site for access or disable the source")
        return response


@implementer(IResolutionReceiver)
class _CheckedAnswer:
    """Collects the addresses of one lookup and passes them on only if every one may be
    connected to (as ``crawlers.safety.check_url`` requires of all of them)."""

    def __init__(self, receiver, host: str, allowed_private: frozenset[str]):
        self.receiver = receiver
        self.host = host
        self.allowed_private = allowed_private
        self.addresses: list = []

    def resolutionBegan(self, resolution) -> None:  # noqa: N802 - Twisted's interface
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address) -> None:  # noqa: N802
        self.addresses.append(address)

    def resolutionComplete(self) -> None:  # noqa: N802
        bad = [a.host for a in self.addresses
               if not may_connect(self.host, a.host, self.allowed_private)]
        if bad:
            GuardedResolver.refused[self.host.rstrip(".").lower()] = (
                f"{self.host} now resolves to {', '.join(bad)}, a non-public address (DNS "
                "rebinding?); refused before connecting")
        else:
            for address in self.addresses:
                self.receiver.addressResolved(address)
        self.receiver.resolutionComplete()


@implementer(IHostnameResolver)
class GuardedResolver:
    """The resolver Twisted connects with (``TWISTED_DNS_RESOLVER``): the reactor's own, whose
    answers are handed on only when every address may be connected to for that host (the
    ``YUQING_INTERNAL_HOSTS`` setting lists an internal source's own hosts). A refused lookup
    fails as DNSLookupError; why is kept in :attr:`refused` by host, for the spider's report
    (one spider runs per process, so the class keeps it)."""

    refused: dict[str, str] = {}

    def __init__(self, reactor, allowed_private: frozenset[str]):
        self.reactor = reactor
        self.original = reactor.nameResolver
        self.allowed_private = allowed_private

    @classmethod
    def from_crawler(cls, crawler, reactor):
        return cls(reactor, frozenset(crawler.settings.getlist("YUQING_INTERNAL_HOSTS")))

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def resolveHostName(self, resolutionReceiver, hostName, portNumber=0,  # noqa: N802,N803
                        addressTypes=None, transportSemantics="TCP"):  # noqa: N803
        answer = _CheckedAnswer(resolutionReceiver, hostName, self.allowed_private)
        return self.original.resolveHostName(answer, hostName, portNumber, addressTypes,
                                             transportSemantics)


class SnapshotMiddleware:
    """Downloader middleware: evidence of every page the spider read, as the pollers keep it
    (a gzip snapshot addressed by content, and the fetch in the state store's log)."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response, spider=None):
        spider = self.crawler.spider
        if spider.snapshots is not None and response.status == 200 and \
                not response.url.endswith("/robots.txt"):
            digest = spider.snapshots.put(response.body, response.url)
            if spider.state is not None:
                spider.state.record_fetch(spider.source.id, response.url, digest,
                                          datetime.now().astimezone())
        return response


class PublishArticles:
    """Item pipeline: each item becomes an :class:`Article` published to ``articles.raw``
    (keyed by ``article.key()``); at the end the bus is flushed and only then the entries are
    marked seen. The bus is the spider's ``bus`` (Scrapy copies its settings, and a client
    with open connections cannot be copied); off (``NotConfigured``) unless ``YUQING_PUBLISH``."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.pending: list[str] = []

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("YUQING_PUBLISH"):
            raise NotConfigured("YUQING_PUBLISH is off: nothing to publish to")
        return cls(crawler)

    def process_item(self, item, spider=None):
        spider = self.crawler.spider
        article = Article.create(source_id=spider.source.id, url=item["url"], title=item["title"],
                                 content=item["content"], published=item["published"],
                                 author=item["author"], encoding=item["encoding"],
                                 spread=item.get("spread"))
        spider.bus.publish(topics.RAW, encode(article), key=article.key())
        self.pending.append(item["entry_id"])
        return item

    def close_spider(self, spider=None):
        spider = self.crawler.spider
        spider.bus.flush()  # raises BackendUnavailable: then nothing is marked seen
        if spider.state is not None and self.pending:
            spider.state.mark_seen(spider.source.id, self.pending, datetime.now().astimezone())
        spider.published.extend(self.pending)
        self.pending = []


def scrapy_settings(source: Source, default_rate: float = DEFAULT_RATE, **extra) -> dict:
    """Scrapy settings for one source: polite, bounded, robots as the source says; a source that
    sets no rate gets ``default_rate`` requests a minute (``crawl.rate_limit_per_minute``)."""
    delay = 60.0 / (source.rate_limit_per_minute or default_rate)
    return {
        "USER_AGENT": USER_AGENT,
        "ROBOTSTXT_OBEY": source.robots,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": delay,
        "DOWNLOAD_DELAY": delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "DOWNLOAD_TIMEOUT": source.timeout_s,
        "DOWNLOAD_MAXSIZE": source.max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "REDIRECT_MAX_TIMES": 5,
        "DEFAULT_REQUEST_HEADERS": {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
                                    **source.headers},
        # on the way back SafetyMiddleware sees a response before SnapshotMiddleware keeps it:
        # a page from a refused address or a challenge is not kept as evidence of anything
        "DOWNLOADER_MIDDLEWARES": {SnapshotMiddleware: 50, SafetyMiddleware: 60},
        "TWISTED_DNS_RESOLVER": GuardedResolver,
        "YUQING_INTERNAL_HOSTS": sorted(source.internal_hosts),
        # the connected address must be the site's own to be checked (httpx: trust_env=False)
        "HTTPPROXY_ENABLED": False,
        "ITEM_PIPELINES": {PublishArticles: 300},
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "CLOSESPIDER_TIMEOUT": max(source.deadline_s * (source.max_pages + 2), 120),
        **extra,
    }


# -- the subprocess ----------------------------------------------------------------------------

@dataclass(frozen=True)
class BusSpec:
    """How a subprocess opens the same bus: ``sqlite:///PATH`` or ``kafka://...`` and a prefix."""

    url: str
    partitions: int = 3
    prefix: str = ""

    @classmethod
    def of(cls, bus) -> "BusSpec":
        if hasattr(bus, "path"):
            return cls(f"sqlite:///{Path(bus.path).resolve()}", bus.partitions, bus.prefix)
        return cls(bus.url, 3, bus.prefix)

    def open(self) -> Bus:
        return open_bus(Settings(bus=BusSettings(url=self.url, partitions=self.partitions,
                                                 topic_prefix=self.prefix)))


class ScrapyRunner:
    """Runs one round of an ``html`` source with Scrapy in a subprocess; see the module docstring.

    :meth:`run` returns a :class:`PollResult` whose articles are already published (``published``)
    or raises :class:`FetchError` when no list page could be read (``blocked`` as BlockedError).
    """

    def __init__(self, bus: BusSpec, state_path: str | Path, snapshots: str | Path | None = None,
                 timeout_s: float = 900.0, default_rate: float = DEFAULT_RATE,
                 retry: RetryPolicy = RetryPolicy()):
        self.bus = bus
        self.retry = retry
        self.default_rate = default_rate
        self.state_path = Path(state_path)
        self.snapshots = Path(snapshots) if snapshots is not None else None
        self.timeout_s = timeout_s

    def run(self, source: Source, now: datetime) -> PollResult:
        with tempfile.TemporaryDirectory(prefix="yuqing-spider-") as tmp:
            job = Path(tmp) / "job.json"
            report = Path(tmp) / "report.json"
            job.write_text(json.dumps({"source": source.model_dump(mode="json"),
                                       "bus": self.bus.__dict__, "state": str(self.state_path),
                                       "snapshots": str(self.snapshots) if self.snapshots else None,
                                       "default_rate": self.default_rate, "now": now.isoformat(),
                                       "retry": [self.retry.max_attempts, self.retry.first_wait_s]}),
                           encoding="utf-8")
            try:
                done = subprocess.run([sys.executable, "-m", "crawlers.spider", str(job), str(report)],
                                      capture_output=True, text=True, timeout=self.timeout_s,
                                      env={**os.environ, "PYTHONUNBUFFERED": "1"})
            except subprocess.TimeoutExpired:
                raise FetchError(source.id, source.start_urls[0], "deadline",
                                 f"spider still running after {self.timeout_s:g}s; killed") from None
            if done.returncode != 0 or not report.exists():
                tail = (done.stderr or "").strip().splitlines()[-3:]
                raise FetchError(source.id, source.start_urls[0], "parse",
                                 f"spider exited with {done.returncode}: {' | '.join(tail)}")
            outcome = json.loads(report.read_text(encoding="utf-8"))
        if outcome["list_pages_ok"] == 0:
            reason, message = (outcome["failures"] or [("parse", "no list page was read")])[0]
            error = BlockedError if reason == "blocked" else \
                UnsafeURLError if reason in ("unsafe_address", "bad_scheme", "bad_url") else FetchError
            raise error(source.id, source.start_urls[0], reason, message)
        if outcome["refused"] and not outcome["published"]:  # as PollSource does
            raise FetchError(source.id, source.start_urls[0], "parse",
                             f"all {len(outcome['refused'])} new articles were refused, e.g. "
                             f"{outcome['refused'][0]}")
        return PollResult(source.id, "ok", warnings=outcome["warnings"], published=outcome["published"],
                          page_failures=outcome["page_failures"], gave_up=outcome["gave_up"])


def _crawl(job_path: Path, report_path: Path) -> None:
    """The subprocess: one round of one source, then a JSON report."""
    job = json.loads(job_path.read_text(encoding="utf-8"))
    source = Source.model_validate(job["source"])
    bus = BusSpec(**job["bus"]).open()
    state = StateStore(job["state"])
    try:
        process = CrawlerProcess(scrapy_settings(source, job.get("default_rate", DEFAULT_RATE), YUQING_PUBLISH=True),
                                 install_root_handler=False)
        crawler = process.create_crawler(GenericSpider)
        snapshots = SnapshotStore(job["snapshots"]) if job.get("snapshots") else None
        max_attempts, first_wait_s = job["retry"]
        process.crawl(crawler, source=source, state=state, bus=bus, snapshots=snapshots,
                      now=datetime.fromisoformat(job["now"]), retry=RetryPolicy(max_attempts, first_wait_s))
        process.start()
        spider = crawler.spider
        report = {"published": len(spider.published), "list_pages_ok": spider.list_pages_ok,
                  "failures": spider.failures, "warnings": spider.warnings,
                  "refused": spider.refused, "page_failures": spider.page_failures,
                  "gave_up": spider.gave_up}
    finally:
        state.close()
        bus.close()
    report_path.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers.spider",
                                     description="one Scrapy round of one html source (internal)")
    parser.add_argument("job")
    parser.add_argument("report")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _crawl(Path(args.job), Path(args.report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

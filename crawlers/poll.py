"""Poll one source once: fetch, parse, keep what is new, build Articles. Publishes nothing.

:class:`PollSource` is the stage the crawl service runs for ``rss``, ``rsshub`` and ``sitemap`` sources
(``html`` sources go to the Scrapy spider in the service, but are polled here too by
``yuqing sources test`` so an operator sees the same result without starting Scrapy).

The caller publishes the returned candidates, flushes the bus, and only then marks their entry
ids seen (:meth:`crawlers.state.StateStore.mark_seen`) and records the round: a crash in between
publishes them again, which the content-hash ids make harmless.

Only the fetch of the feed/list/sitemap itself raises :class:`~crawlers.base.FetchError` (the
source failed this round); a failing article page is a warning and its entry stays unseen, so it
is tried again next round. So is an article that must not be published
(:func:`crawlers.pages.article_problem`: no text, garbled text, a link that is not http(s)); and
when every new article of a round is refused so, the round fails with ``parse``: the source's
health shows the problem until an operator fixes the source (its encoding, its selectors). An
``rsshub`` source is a feed whose failures are explained in RSSHub's terms
(:func:`crawlers.rsshub.explain`), so that its health says what RSSHub meant.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

from crawlers.base import FetchError
from crawlers.extract.signals import spread_of_text
from crawlers.feeds import parse_feed, parse_sitemap
from crawlers.fetch import Fetched, Fetcher
from crawlers.pages import PageArticle, article_problem, decode_page, extract_page, list_links
from crawlers.rsshub import explain
from crawlers.sources import Source
from crawlers.state import StateStore, Validators
from pipeline.records import FILE_URN, Article, article_url_problem

__all__ = ["Candidate", "PollResult", "PollSource"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """An article not published before, with the entry id to mark seen once it is."""

    entry_id: str
    article: Article


@dataclass
class PollResult:
    """One round of one source. ``status``: ``ok``, ``not_modified`` (304) or ``unchanged``
    (same body as last time). ``warnings`` name the URL and what went wrong."""

    source_id: str
    status: str
    candidates: list[Candidate] = field(default_factory=list)
    validators: Validators | None = None
    warnings: list[str] = field(default_factory=list)
    fetches: list[tuple[str, str]] = field(default_factory=list)  # (url, snapshot)
    published: int = 0  # articles a runner (the Scrapy spider) already published itself
    refused: list[str] = field(default_factory=list)  # articles not published, and why


class PollSource:
    """Polls sources with one fetcher; ``state`` None (``sources test``) treats everything as new."""

    def __init__(self, fetcher: Fetcher, state: StateStore | None = None):
        self.fetcher = fetcher
        self.state = state

    def run(self, source: Source, now: datetime | None = None) -> PollResult:
        now = now or datetime.now(timezone.utc)
        if source.type in ("rss", "rsshub"):
            return self._feed(source, now)
        if source.type == "sitemap":
            return self._sitemap(source, now)
        return self._html(source, now)

    # -- shared steps ------------------------------------------------------------------------

    def _fetch(self, source: Source, url: str, result: PollResult, conditional: bool = False
               ) -> Fetched:
        v = self.state.validators(source.id) if (self.state and conditional) else Validators()
        fetched = self.fetcher.fetch(source, url, etag=v.etag, last_modified=v.last_modified)
        if fetched.snapshot:
            result.fetches.append((fetched.url, fetched.snapshot))
        if conditional:
            result.validators = Validators(fetched.etag, fetched.last_modified,
                                           fetched.content_hash)
            if fetched.not_modified:
                result.status = "not_modified"
            elif v.content_hash and fetched.content_hash == v.content_hash:
                result.status = "unchanged"
        return fetched

    def _new(self, source: Source, ids: list[str]) -> list[str]:
        fresh = self.state.unseen(source.id, ids) if self.state else list(dict.fromkeys(ids))
        return fresh[: source.max_items]

    def _page(self, source: Source, url: str, result: PollResult
              ) -> tuple[PageArticle, str, dict[str, int]] | None:
        """An article page read, its encoding and the spread counters it shows, or None with a
        warning (the entry is retried next round)."""
        try:
            fetched = self._fetch(source, url, result)
            text, encoding = decode_page(fetched.body, fetched.content_type, source.encoding)
            page = extract_page(text, fetched.url, source.extraction)
            return page, encoding, page.spread
        except FetchError as exc:
            self._warn(result, "page_failed", source, url, f"{exc.reason}: {exc.detail}")
        except Exception as exc:  # an extractor bug on one page must not lose the round
            self._warn(result, "page_unreadable", source, url, f"{type(exc).__name__}: {exc}")
        return None

    @staticmethod
    def _warn(result: PollResult, event: str, source: Source, url: str, detail: str) -> None:
        message = f"{event}: {source.id}: {url}: {detail}"
        log.warning(message)
        result.warnings.append(message)

    @staticmethod
    def _article(source: Source, entry_id: str, url: str, page: PageArticle, encoding: str | None,
                 now: datetime, result: PollResult, spread: dict[str, int] | None = None
                 ) -> Candidate | None:
        problem = article_problem(page.title, page.content, from_page=page.method != "feed")
        bad_link = article_url_problem(url) or \
            ("is not an http(s) URL" if url.startswith(FILE_URN) else None)
        if problem is None and bad_link:
            problem = "link_refused", f"the link {bad_link}; only http(s) links are kept"
        if problem is not None:
            event, detail = problem
            PollSource._warn(result, event, source, url, detail)
            result.refused.append(f"{event}: {url}: {detail}")
            return None
        article = Article.create(source_id=source.id, url=url, title=page.title,
                                 content=page.content, published=page.published, fetched=now,
                                 author=page.author, encoding=encoding, spread=spread)
        return Candidate(entry_id, article)

    @staticmethod
    def _nothing_publishable(source: Source, url: str, result: PollResult) -> PollResult:
        """The result, or FetchError ``parse`` when every new article was refused."""
        if result.refused and not result.candidates:
            raise FetchError(source.id, url, "parse",
                             f"all {len(result.refused)} new articles were refused, e.g. "
                             f"{result.refused[0]}")
        return result

    # -- rss / atom / rss 1.0 ----------------------------------------------------------------

    def _feed(self, source: Source, now: datetime) -> PollResult:
        result = PollResult(source.id, "ok")
        single = len(source.start_urls) == 1
        hub = source.type == "rsshub"
        for url in source.start_urls:
            try:
                fetched = self._fetch(source, url, result, conditional=single)
            except FetchError as exc:
                raise explain(exc, source.route or "") if hub else exc from None
            if result.status != "ok":
                continue
            feed = parse_feed(fetched.body, fetched.url, fetched.content_type, source.encoding)
            if feed.problem:
                self._warn(result, "feed_malformed", source, url,
                           f"{feed.problem}; {len(feed.entries)} entries read anyway")
            if not feed.entries and feed.problem:
                raise FetchError(source.id, url, "parse", f"nothing readable: {feed.problem}" + (
                    "; RSSHub answered with something that is not a feed: is rsshub.url the "
                    "instance's address?" if hub else ""))
            if not feed.entries:
                # some servers answer errors inside a valid feed shell: that is not "no news"
                raise FetchError(source.id, url, "empty", (
                    f"RSSHub gave a feed with no items for {source.route}: the account shows nothing "
                    "public, or the platform gave RSSHub nothing; open the route on the instance"
                ) if hub else "the feed has no entries at all; if this lasts, the feed is dead or moved")
            by_id = {e.entry_id: e for e in feed.entries}
            for entry_id in self._new(source, list(by_id)):
                entry = by_id[entry_id]
                page, encoding = PageArticle(entry.title, entry.content, entry.published,
                                             entry.author, "feed"), feed.encoding
                spread = spread_of_text(entry.content)
                if source.fetch_full_text and entry.link:
                    read = self._page(source, entry.link, result)
                    if read is None:
                        continue
                    full, encoding, spread = read
                    page = PageArticle(entry.title or full.title,
                                       full.content if len(full.content) > len(entry.content)
                                       else entry.content,
                                       entry.published or full.published,
                                       entry.author or full.author, full.method)
                candidate = self._article(source, entry_id, entry.link or fetched.url, page,
                                          encoding, now, result, spread)
                if candidate:
                    result.candidates.append(candidate)
        return self._nothing_publishable(source, source.start_urls[0], result)

    # -- news sitemaps -----------------------------------------------------------------------

    def _sitemap(self, source: Source, now: datetime) -> PollResult:
        result = PollResult(source.id, "ok")
        entries = []
        queue = list(source.start_urls)
        budget = source.max_pages
        while queue and budget > 0:
            url = queue.pop(0)
            budget -= 1
            # never conditional: a sitemap index often stays the same while the sitemaps it lists
            # change; the seen entries keep the round cheap
            fetched = self._fetch(source, url, result)
            parsed = parse_sitemap(fetched.body, fetched.url, source.max_bytes)
            if parsed.problem:
                raise FetchError(source.id, url, "parse", f"sitemap unreadable: {parsed.problem}")
            queue.extend(parsed.sitemaps)
            entries.extend(parsed.entries)
        epoch = datetime.min.replace(tzinfo=timezone.utc)
        entries.sort(key=lambda e: e.published or e.lastmod or epoch, reverse=True)
        by_url = {e.url: e for e in entries}
        for url in self._new(source, list(by_url)):
            entry = by_url[url]
            read = self._page(source, url, result)
            if read is None:
                continue
            page, encoding, spread = read
            page = PageArticle(page.title or entry.title or "", page.content,
                               page.published or entry.published or entry.lastmod, page.author,
                               page.method)
            candidate = self._article(source, url, url, page, encoding, now, result, spread)
            if candidate:
                result.candidates.append(candidate)
        return self._nothing_publishable(source, source.start_urls[0], result)

    # -- html list pages ---------------------------------------------------------------------

    def _html(self, source: Source, now: datetime) -> PollResult:
        result = PollResult(source.id, "ok")
        links: list[str] = []
        for start in source.start_urls:
            url: str | None = start
            for _ in range(source.max_pages):
                if url is None:
                    break
                fetched = self._fetch(source, url, result)
                text, _encoding = decode_page(fetched.body, fetched.content_type, source.encoding)
                found, url = list_links(text, fetched.url, source.extraction)
                links.extend(found)
        for link in self._new(source, links):
            read = self._page(source, link, result)
            if read is None:
                continue
            candidate = self._article(source, link, link, read[0], read[1], now, result, read[2])
            if candidate:
                result.candidates.append(candidate)
        return self._nothing_publishable(source, source.start_urls[0], result)

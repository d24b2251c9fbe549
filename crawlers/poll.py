"""Poll one source once: fetch, parse, keep what is new, build Articles. Publishes nothing.

:class:`PollSource` is the stage the crawl service runs for ``rss``, ``rsshub`` and ``sitemap`` sources
(``html`` sources go to the Scrapy spider in the service, but are polled here too by
``yuqing sources test`` so an operator sees the same result without starting Scrapy).

The caller publishes the returned candidates, flushes the bus, and only then marks their entry
ids seen (:meth:`crawlers.state.StateStore.mark_seen`) and records the round: a crash in between
publishes them again, which the content-hash ids make harmless.

Given an ``emit`` callable, each article is handed to it as soon as it is read (the crawl
service publishes it, flushes and marks it seen at once) instead of waiting in the result for the
end of the source's round.

Only the fetch of the feed/list/sitemap itself raises :class:`~crawlers.base.FetchError` (the
source failed this round); of a source's several feeds or sitemaps (``urls:``, a sitemap
index's children), one that fails is a warning, and the round fails only when none of them gave
anything. A failing article page is a warning, and its entry is kept pending in
the state store with what the feed said of it (:meth:`crawlers.state.StateStore.defer`): it is
tried again on the next rounds even when the feed answers 304, with a doubling wait, until
``RetryPolicy.max_attempts`` failures give it up (counted in ``PollResult.gave_up``). An article
that must not be published stays unseen and is tried again when the list shows it again
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
from typing import Callable

from crawlers.base import FetchError
from crawlers.extract.signals import spread_of_text
from crawlers.feeds import parse_feed, parse_sitemap
from crawlers.fetch import Fetched, Fetcher
from crawlers.normalize.dates import after_fetch
from crawlers.pages import PageArticle, article_problem, decode_page, extract_page, list_links
from crawlers.rsshub import explain
from crawlers.sources import Source
from crawlers.state import StateStore, Validators
from pipeline.records import FILE_URN, Article, article_url_problem

__all__ = ["Candidate", "PollResult", "PollSource", "RetryPolicy", "Emit"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """An article not published before, with the entry id to mark seen once it is."""

    entry_id: str
    article: Article


#: Takes an article as soon as it is read; returns once it is published and marked seen.
Emit = Callable[[Candidate], None]


@dataclass(frozen=True)
class RetryPolicy:
    """How an entry whose page failed is retried: after ``first_wait_s``, then twice as long
    each time, given up at the ``max_attempts``-th failure."""

    max_attempts: int = 6
    first_wait_s: float = 120.0


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
    published: int = 0  # articles already published (through ``emit``, or by the Scrapy spider)
    refused: list[str] = field(default_factory=list)  # articles not published, and why
    page_failures: int = 0  # article pages that failed this round (kept pending)
    gave_up: list[str] = field(default_factory=list)  # entries given up this round, and why
    retried: int = 0  # pending entries tried again this round


class PollSource:
    """Polls sources with one fetcher; ``state`` None (``sources test``) treats everything as new."""

    def __init__(self, fetcher: Fetcher, state: StateStore | None = None,
                 retry: RetryPolicy = RetryPolicy()):
        self.fetcher = fetcher
        self.state = state
        self.retry = retry

    def run(self, source: Source, now: datetime | None = None, emit: Emit | None = None
            ) -> PollResult:
        """One round; without ``emit`` the articles are returned in ``candidates``."""
        now = now or datetime.now(timezone.utc)
        result = PollResult(source.id, "ok")
        if source.type in ("rss", "rsshub"):
            self._feed(source, now, result, emit)
        elif source.type == "sitemap":
            self._sitemap(source, now, result, emit)
        else:
            self._html(source, now, result, emit)
        # after the feed or list (whatever it answered, 304 included): a site that is down
        # fails there, and its pending pages keep their attempts for when it is back
        self._retry_pending(source, now, result, emit)
        return self._nothing_publishable(source, source.start_urls[0], result)

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
        if self.state is not None and fresh:
            waiting = self.state.pending_ids(source.id)  # retried on their own schedule
            fresh = [i for i in fresh if i not in waiting]
        return fresh[: source.max_items]

    def _page(self, source: Source, url: str, result: PollResult
              ) -> tuple[PageArticle, str, dict[str, int]] | str:
        """An article page read, its encoding and the spread counters it shows; or, when it
        failed, why (with a warning)."""
        try:
            fetched = self._fetch(source, url, result)
            text, encoding = decode_page(fetched.body, fetched.content_type, source.encoding)
            page = extract_page(text, fetched.url, source.extraction)
            return page, encoding, page.spread
        except FetchError as exc:
            why = f"{exc.reason}: {exc.detail}"
            self._warn(result, "page_failed", source, url, why)
        except Exception as exc:  # an extractor bug on one page must not lose the round
            why = f"{type(exc).__name__}: {exc}"
            self._warn(result, "page_unreadable", source, url, why)
        return why

    def _entry(self, source: Source, entry_id: str, entry: dict, now: datetime,
               result: PollResult, emit: Emit | None) -> None:
        """Read one entry (a dict, as kept pending): its page when it has one to read, merged
        with what the feed or list said; a failed page is deferred in the state store."""
        published = datetime.fromisoformat(entry["published"]) if entry.get("published") else None
        page = PageArticle(entry.get("title") or "", entry.get("content") or "", published,
                           entry.get("author"), "feed")
        encoding, spread = entry.get("encoding"), spread_of_text(page.content)
        if entry.get("read_page"):
            read = self._page(source, entry["link"], result)
            if isinstance(read, str):
                self._defer(source, entry_id, entry, read, now, result)
                return
            full, encoding, spread = read
            if entry["kind"] == "feed":  # the feed's own fields first, the page fills gaps
                page = PageArticle(page.title or full.title,
                                   full.content if len(full.content) > len(page.content)
                                   else page.content,
                                   page.published or full.published, page.author or full.author,
                                   full.method)
            else:  # a list or sitemap only hints at title and date: the page decides
                page = PageArticle(full.title or page.title, full.content,
                                   full.published or page.published, full.author, full.method)
        candidate = self._article(source, entry_id, entry["link"], page, encoding, now, result,
                                  spread)
        if candidate is None:
            return
        if emit is None:
            result.candidates.append(candidate)
        else:
            emit(candidate)
            result.published += 1

    def _defer(self, source: Source, entry_id: str, entry: dict, why: str, now: datetime,
               result: PollResult) -> None:
        result.page_failures += 1
        if self.state is None:  # a dry run keeps nothing
            return
        kept = self.state.defer(source.id, entry_id, entry, why, now,
                                max_attempts=self.retry.max_attempts,
                                first_wait_s=self.retry.first_wait_s)
        if kept.gave_up_at is not None:
            message = (f"page_given_up: {source.id}: {entry['link']}: {kept.attempts} attempts "
                       f"failed, the last with {why}; open the page to check it, the entry "
                       "is not tried again")
            log.warning(message)
            result.gave_up.append(message)

    def _retry_pending(self, source: Source, now: datetime, result: PollResult,
                       emit: Emit | None) -> None:
        if self.state is None:
            return
        for kept in self.state.due_pending(source.id, now):
            result.retried += 1
            self._entry(source, kept.entry_id, kept.entry, now, result, emit)

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
        published = page.published
        if future := after_fetch(published, now):
            PollSource._warn(result, "published_future", source, url, future)
            published = None
        article = Article.create(source_id=source.id, url=url, title=page.title,
                                 content=page.content, published=published, fetched=now,
                                 author=page.author, encoding=encoding, spread=spread)
        return Candidate(entry_id, article)

    @staticmethod
    def _nothing_publishable(source: Source, url: str, result: PollResult) -> PollResult:
        """The result, or FetchError ``parse`` when every new article was refused."""
        if result.refused and not result.candidates and not result.published:
            raise FetchError(source.id, url, "parse",
                             f"all {len(result.refused)} new articles were refused, e.g. "
                             f"{result.refused[0]}")
        return result

    # -- rss / atom / rss 1.0 ----------------------------------------------------------------

    def _feed(self, source: Source, now: datetime, result: PollResult, emit: Emit | None) -> None:
        """Every feed of the source; one that fails is a warning while another was read, and the
        round fails (with the first failure) only when every one of them failed."""
        if len(source.start_urls) == 1:
            self._one_feed(source, source.start_urls[0], now, result, emit)
            return
        failures: list[FetchError] = []
        for url in source.start_urls:
            try:
                self._one_feed(source, url, now, result, emit)
            except FetchError as exc:
                failures.append(exc)
                self._warn(result, "feed_failed", source, url,
                           f"{exc.reason}: {exc.detail}; the source's other feeds are still read")
        if len(failures) == len(source.start_urls):
            raise failures[0]

    def _one_feed(self, source: Source, url: str, now: datetime, result: PollResult,
                  emit: Emit | None) -> None:
        single = len(source.start_urls) == 1
        hub = source.type == "rsshub"
        try:
            fetched = self._fetch(source, url, result, conditional=single)
        except FetchError as exc:
            raise explain(exc, source.route or "") if hub else exc from None
        if result.status != "ok":
            return
        feed = parse_feed(fetched.body, fetched.url, fetched.content_type, source.encoding)
        if feed.problem:
            self._warn(result, "feed_malformed", source, url,
                       f"{feed.problem}; {len(feed.entries)} entries read anyway")
        for why in feed.skipped:
            self._warn(result, "feed_item_unreadable", source, url, why)
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
            e = by_id[entry_id]
            if e.problem:  # only for new items: a seen one is not read again
                self._warn(result, "feed_item_odd", source, url,
                           f"item {e.link or entry_id!r}: {e.problem}")
            self._entry(source, entry_id, {
                "kind": "feed", "link": e.link or fetched.url, "title": e.title,
                "content": e.content, "author": e.author, "encoding": feed.encoding,
                "published": e.published.isoformat() if e.published else None,
                "read_page": bool(source.fetch_full_text and e.link)}, now, result, emit)

    # -- news sitemaps -----------------------------------------------------------------------

    def _sitemap(self, source: Source, now: datetime, result: PollResult, emit: Emit | None
                 ) -> None:
        """The source's sitemaps and the child sitemaps they list. One that fails (a child
        sitemap gone, one URL of several unreadable) is a warning while the others give
        articles; the round fails (with the first failure) when they gave none."""
        entries = []
        failures: list[FetchError] = []
        queue = list(source.start_urls)
        budget = source.max_pages
        while queue and budget > 0:
            url = queue.pop(0)
            budget -= 1
            try:
                # never conditional: a sitemap index often stays the same while the sitemaps it
                # lists change; the seen entries keep the round cheap
                fetched = self._fetch(source, url, result)
                parsed = parse_sitemap(fetched.body, fetched.url, source.max_bytes)
                if parsed.problem:
                    raise FetchError(source.id, url, "parse",
                                     f"sitemap unreadable: {parsed.problem}")
            except FetchError as exc:
                failures.append(exc)
                self._warn(result, "sitemap_failed", source, url,
                           f"{exc.reason}: {exc.detail}; the source's other sitemaps are still read")
                continue
            queue.extend(parsed.sitemaps)
            entries.extend(parsed.entries)
        if failures and not entries:
            raise failures[0]
        epoch = datetime.min.replace(tzinfo=timezone.utc)
        entries.sort(key=lambda e: e.published or e.lastmod or epoch, reverse=True)
        by_url = {e.url: e for e in entries}
        for url in self._new(source, list(by_url)):
            e = by_url[url]
            when = e.published or e.lastmod
            self._entry(source, url, {"kind": "page", "link": url, "title": e.title or "",
                                      "published": when.isoformat() if when else None,
                                      "read_page": True}, now, result, emit)

    # -- html list pages ---------------------------------------------------------------------

    def _html(self, source: Source, now: datetime, result: PollResult, emit: Emit | None) -> None:
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
            self._entry(source, link, {"kind": "page", "link": link, "read_page": True}, now,
                        result, emit)

"""The crawl service behind ``yuqing crawl``: poll every source on its schedule, publish what is new.

    sources.yaml ──(watched)──▶ schedule ──due──▶ worker threads: PollSource (rss, sitemap, html)
                                                  or the Scrapy spider (html, in a subprocess)
                                                        │ each article as soon as it is read
                                                        ▼
                           bus.publish(articles.raw) → flush → state.mark_seen
                                                        ... then record the round

* **Schedule**: each source is due every ``interval``; after a failure it waits
  ``backoff_delay`` (exponential with jitter) or the server's Retry-After, whichever is longer.
  The due time is stored, so a restart honours it.
* **Isolation**: every source runs in its own task; whatever one raises is recorded against that
  source (``sources list`` shows it) and the others go on.
* **Reload**: the sources file (or folder) is checked for changes every few seconds; a valid edit
  takes effect at once, an invalid one is logged with every problem and the last valid
  configuration keeps running.
* **Scale-out**: ``shard=(i, n)`` keeps only the sources whose stable hash of the id is ``i``
  modulo ``n``: several crawl processes (machines) never fetch the same source.
* **At-least-once**: entries are marked seen only after the bus flushed them; a crash in between
  publishes them again, and the content-hash ids make that harmless. An article page that failed
  stays pending and is retried on later rounds (``crawlers.poll``); nothing is dropped quietly:
  :class:`RoundOutcome` counts failed pages and given-up entries.
* **Fan-out**: a round orders its sources so that consecutive ones are on different hosts
  (:func:`fan_out`): the workers do not queue behind one host's politeness gap while the others
  are idle.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Protocol
from urllib.parse import urlsplit

from crawlers.base import FetchError
from crawlers.fetch import Fetcher
from crawlers.poll import Candidate, PollResult, PollSource, RetryPolicy
from crawlers.politeness import backoff_delay
from crawlers.sources import Source, SourceSet, load_sources, source_files
from crawlers.state import StateStore, health
from pipeline import bus as topics
from pipeline.bus import Bus
from pipeline.errors import ConfigError
from pipeline.records import encode

__all__ = ["CrawlService", "SourceWatcher", "in_shard", "parse_shard", "RoundOutcome", "HtmlRunner",
           "fan_out", "host_of"]

log = logging.getLogger(__name__)


def in_shard(source_id: str, shard: tuple[int, int]) -> bool:
    """True when ``source_id`` belongs to shard ``(index, count)``: a stable hash (not Python's
    per-process ``hash``), so every process agrees whatever its start order."""
    index, count = shard
    digest = hashlib.sha256(source_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count == index


def host_of(source: Source) -> str:
    """The host a source's round starts at (its first URL's)."""
    return urlsplit(source.start_urls[0]).hostname or "" if source.start_urls else ""


def fan_out(sources: list[Source]) -> list[Source]:
    """``sources`` reordered round-robin over their hosts (the first source of every host, then
    the second ...), each host's own sources kept in order."""
    by_host: dict[str, list[Source]] = {}
    for source in sources:
        by_host.setdefault(host_of(source), []).append(source)
    queues = list(by_host.values())
    ordered: list[Source] = []
    for depth in range(max((len(q) for q in queues), default=0)):
        ordered.extend(q[depth] for q in queues if depth < len(q))
    return ordered


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> ``(I, N)`` with 0 <= I < N; ValueError with what to write otherwise."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard {text!r}: write I/N, e.g. 0/3 for the first of three") from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"--shard {text!r}: I must be in 0..N-1")
    return index, count


class SourceWatcher:
    """Loads the sources and notices edits (the list of files, their times and contents).

    ``current`` is the last valid :class:`SourceSet`. :meth:`check` reloads after a change and
    returns True when a new valid configuration was taken; an invalid edit is logged with every
    problem and ``current`` stays as it was. The first load raises ConfigError instead.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._stamp = self._fingerprint()
        self.current: SourceSet = load_sources(self.path)
        self.last_problems: list[str] = []

    def _fingerprint(self) -> tuple:
        # the content's hash too: an edit within the file system's mtime resolution that keeps
        # the size (interval: 1d -> 1s) must not go unnoticed
        try:
            return tuple((str(f), f.stat().st_mtime_ns, hashlib.sha256(f.read_bytes()).hexdigest())
                         for f in source_files(self.path))
        except (ConfigError, OSError):
            return ()

    def check(self) -> bool:
        stamp = self._fingerprint()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            loaded = load_sources(self.path)
        except ConfigError as exc:
            self.last_problems = exc.problems
            log.error("sources_invalid: %s: the last valid configuration keeps running; fix:\n%s",
                      self.path, "\n".join(exc.problems))
            return False
        self.current, self.last_problems = loaded, []
        log.info("sources_reloaded: %s: %s", self.path, loaded.summary())
        return True


class HtmlRunner(Protocol):
    """Runs ``html`` sources another way than :class:`PollSource` (the Scrapy spider)."""

    def run(self, source: Source, now: datetime) -> PollResult: ...


@dataclass
class RoundOutcome:
    """One source's round: ``published`` articles, or the ``error`` it failed with;
    ``page_failures`` article pages that failed (kept pending for a retry), ``gave_up`` entries
    given up after their last attempt."""

    source_id: str
    status: str
    published: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    page_failures: int = 0
    gave_up: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Anything lost or put off this round: the source, a page, an entry given up."""
        return bool(self.error or self.page_failures or self.gave_up)


class CrawlService:
    """Schedules and runs the sources of one shard; see the module docstring.

    ``run_once`` polls every enabled source of the shard now and returns their outcomes;
    ``run_forever`` keeps going until ``stop`` is set. ``on_outcome`` sees every source's
    outcome as it ends (a progress bar, the console's live health); ``on_article`` every article
    published.
    """

    def __init__(self, watcher: SourceWatcher, bus: Bus, state: StateStore, fetcher: Fetcher, *,
                 shard: tuple[int, int] = (0, 1), workers: int = 8,
                 html_runner: HtmlRunner | None = None, retry: RetryPolicy = RetryPolicy(),
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.watcher = watcher
        self.bus = bus
        self.state = state
        self.poller = PollSource(fetcher, state, retry)
        self.on_outcome: Callable[[RoundOutcome], None] | None = None
        self.on_article: Callable[[str], None] | None = None
        self.shard = shard
        self.workers = workers
        self.html_runner = html_runner
        self.clock = clock
        self._publish_lock = threading.Lock()  # bus clients are not documented as thread-safe
        self._health: dict[str, str] = {}
        # next due time per source, read from the state store once and then kept here, so a
        # tick over thousands of sources costs no queries
        self._due: dict[str, datetime | None] = {}

    def sources(self) -> list[Source]:
        """The enabled sources of this shard, in the configuration's order."""
        return [s for s in self.watcher.current.enabled if in_shard(s.id, self.shard)]

    # -- one source --------------------------------------------------------------------------

    def poll(self, source: Source) -> RoundOutcome:
        """Run one round of ``source``: never raises, every failure is recorded against it."""
        now = self.clock()
        try:
            if source.type == "html" and self.html_runner is not None:
                result = self.html_runner.run(source, now)
            else:
                result = self.poller.run(source, now, emit=lambda c: self._emit(source, c, now))
            published = self._publish(result.candidates) + result.published
            self.state.mark_seen(source.id, [c.entry_id for c in result.candidates], now)
            for url, snapshot in result.fetches:
                self.state.record_fetch(source.id, url, snapshot, now)
            due = now + timedelta(seconds=source.interval)
            self.state.record_success(source.id, now, status=result.status, new_items=published,
                                      validators=result.validators, next_due_at=due)
            self._due[source.id] = due
            outcome = RoundOutcome(source.id, result.status, published, warnings=result.warnings,
                                   page_failures=result.page_failures, gave_up=result.gave_up)
        except FetchError as exc:
            outcome = self._failed(source, now, exc.reason, str(exc), exc.retry_after)
        except Exception as exc:  # a bug on one source must not stop the others
            log.exception("source_crashed: %s", source.id)
            outcome = self._failed(source, now, "parse", f"{source.id}: {type(exc).__name__}: {exc}",
                                   None)
        self._report_health(source)
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        return outcome

    def _emit(self, source: Source, candidate: Candidate, now: datetime) -> None:
        """Publish one article now, flushed, then mark it seen: the classifier need not wait
        for the rest of the source's round."""
        with self._publish_lock:
            self.bus.publish(topics.RAW, encode(candidate.article), key=candidate.article.key())
            self.bus.flush()
        self.state.mark_seen(source.id, [candidate.entry_id], now)
        if self.on_article is not None:
            self.on_article(source.id)

    def _publish(self, candidates: list[Candidate]) -> int:
        if not candidates:
            return 0
        with self._publish_lock:
            for c in candidates:
                self.bus.publish(topics.RAW, encode(c.article), key=c.article.key())
            self.bus.flush()
        return len(candidates)

    def _failed(self, source: Source, now: datetime, reason: str, message: str,
                retry_after: float | None) -> RoundOutcome:
        previous = self.state.state(source.id)
        errors = (previous.error_count if previous else 0) + 1
        wait = max(backoff_delay(errors, source.interval), retry_after or 0.0)
        self.state.record_failure(source.id, now, reason=reason, message=message,
                                  next_due_at=now + timedelta(seconds=wait))
        self._due[source.id] = now + timedelta(seconds=wait)
        log.warning("source_failed: %s (attempt %d; next in %.0fs)", message, errors, wait)
        return RoundOutcome(source.id, reason, error=message)

    def _report_health(self, source: Source) -> None:
        word = health(self.state.state(source.id), source.quiet_after, self.clock())
        before = self._health.get(source.id)
        self._health[source.id] = word
        if word != before and word != "ok" and (before is not None or word != "unknown"):
            log.warning("source_health: %s is %s (was %s); see 'yuqing sources list'",
                        source.id, word, before or "new")

    def _stored_due(self, source: Source) -> datetime | None:
        """When ``source`` is due by the state store; after a success, by its current interval
        (the operator may have just shortened it)."""
        state = self.state.state(source.id)
        if state is None:
            return None
        due = state.next_due_at
        if state.error_count == 0 and state.last_fetch_at is not None:
            by_interval = state.last_fetch_at + timedelta(seconds=source.interval)
            due = min(due, by_interval) if due else by_interval
        return due

    # -- many sources ------------------------------------------------------------------------

    def run_once(self) -> list[RoundOutcome]:
        """Every enabled source of the shard, once, in parallel; returns their outcomes."""
        with ThreadPoolExecutor(self.workers, thread_name_prefix="crawl") as pool:
            outcomes = {o.source_id: o for o in pool.map(self.poll, fan_out(self.sources()))}
        return [outcomes[s.id] for s in self.sources() if s.id in outcomes]

    def run_forever(self, stop: threading.Event, reload_every_s: float = 5.0,
                    tick_s: float = 1.0) -> None:
        """Poll sources as they fall due until ``stop`` is set; reloads edited sources."""
        in_flight: dict[str, Future] = {}
        last_check = time.monotonic()
        log.info("crawl_started: %d sources in shard %d/%d: %s", len(self.sources()),
                 self.shard[0], self.shard[1], ", ".join(s.id for s in self.sources()))
        with ThreadPoolExecutor(self.workers, thread_name_prefix="crawl") as pool:
            while not stop.is_set():
                if time.monotonic() - last_check >= reload_every_s:
                    last_check = time.monotonic()
                    if self.watcher.check():
                        self._due.clear()  # an edited interval counts from the last fetch
                now = self.clock()
                for source in fan_out(self.sources()):
                    running = in_flight.get(source.id)
                    if running is not None and not running.done():
                        continue
                    if source.id not in self._due:
                        self._due[source.id] = self._stored_due(source)
                    due = self._due[source.id]
                    if due is None or due <= now:
                        in_flight[source.id] = pool.submit(self.poll, source)
                stop.wait(tick_s)

"""The wiring: what ``yuqing.yaml`` describes, built once — the backends, the classifier, the alert
service, the crawler, and the stream's steps between their topics.

    crawlers ──▶ articles.raw ──classify──▶ articles.scored ──index──▶ the index (analysts)
                                                             └─alert───▶ alerts ──intake──▶ the alert store

:data:`STEPS` is the one place that says which step reads which topic and how it is built; the
command line (``yuqing worker``, ``yuqing run``, ``yuqing demo``), the benchmarks and the flow tests
all take their steps from it. The libraries beneath (``pipeline``, ``crawlers``, ``classifiers``,
``alerting``) know nothing of this module.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator

from alerting import audit
from alerting.access import Actor
from alerting.anchors import AnchorJob
from alerting.clock import Clock
from alerting.config import load_alerting_config
from alerting.intake import intake_step
from alerting.reports import BriefingJob
from alerting.service import AlertService
from alerting.store import Store, open_store
from alerting.store.models import Alert
from alerting.timekeeper import Ticker
from classifiers import registry
from classifiers.feedback import Correction, FeedbackStore
from classifiers.rules import load_rules
from classifiers.scorer import ModelScorer
from classifiers.stage import Scorer, classify_step
from classifiers.stories import StoryClusters
from crawlers.fetch import Fetcher
from crawlers.poll import RetryPolicy
from crawlers.politeness import Politeness
from crawlers.service import CrawlService, HtmlRunner, SourceWatcher
from crawlers.sources import source_names
from crawlers.snapshots import SnapshotStore
from crawlers.state import StateStore
from pipeline import bus as topics
from pipeline.backends import open_bus, open_index
from pipeline.bus import Bus
from pipeline.config import Settings
from pipeline.flow import Step, StepCount, Worker, alert_step, drain, index_step
from pipeline.index import Index

__all__ = ["Application", "StepSpec", "STEPS", "open_service", "open_alert_store", "training_feedback"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepSpec:
    """One stream step: its name (logs, metrics, dead letters, the default consumer group), the
    topic it reads, what it writes, and how the application builds it."""

    name: str
    reads: str
    writes: str
    build: Callable[["Application", StepCount], Step]


STEPS: dict[str, StepSpec] = {spec.name: spec for spec in (
    StepSpec("classify", topics.RAW, topics.SCORED,
             lambda app, count: classify_step(app.bus, app.scorer, count,
                                              app.stories if app.cluster_stories else None)),
    StepSpec("index", topics.SCORED, "the index",
             lambda app, count: index_step(app.bus, app.index, count)),
    StepSpec("alert", topics.SCORED, topics.ALERTS,
             lambda app, count: alert_step(app.bus, count, app.min_level)),
    StepSpec("intake", topics.ALERTS, "the alert store",
             lambda app, count: intake_step(app.bus, app.service, count)),
)}


def training_feedback(settings: Settings):
    """A dismissal hook that stores each article of a false alarm as a correction (误报) for the
    classifier's next training run; articles no longer in the index are skipped with a warning."""

    def hook(alert: Alert, article_ids: list[str], reason: str, actor: Actor) -> None:
        index = open_index(settings)
        try:
            articles = [index.get(article_id) for article_id in article_ids[:20]]
        finally:
            index.close()
        settings.paths.data_dir.mkdir(parents=True, exist_ok=True)
        store = FeedbackStore(settings.paths.data_dir / "feedback.sqlite3")
        try:
            for article_id, article in zip(article_ids, articles):
                if article is None:
                    log.warning("dismiss %s: article %s is not in the index; not kept for training",
                                alert.id, article_id)
                    continue
                store.add(Correction(article.id, "false_alarm", article.title, article.content, 0, "",
                                     sensitive=False, note=f"排除误报 {alert.id}：{reason}",
                                     analyst=actor.name))
        finally:
            store.close()

    return hook


def open_alert_store(settings: Settings) -> Store:
    """The alert store of ``settings`` with the audit log's key: from ``YUQING_AUDIT_KEY``, else
    the key file (``store.audit_key_file``), which is made on first use, in force from the next
    entry (entries written before it keep plain SHA-256)."""
    store = open_store(settings.store.url)
    try:
        secret = settings.store.audit_key.get_secret_value() if settings.store.audit_key else None
        key = audit.load_key(settings.store.audit_key_file, secret)
        if key is None:
            with store.session() as session:
                seq, _ = audit.head(session)
            key = audit.create_key(settings.store.audit_key_file, since=seq + 1)
            log.warning("audit_key_made path=%s since=%d: keep it readable by the service account "
                        "only, and back it up apart from the database", settings.store.audit_key_file,
                        seq + 1)
    except BaseException:
        store.close()
        raise
    store.use_audit_key(key)
    return store


def open_service(settings: Settings, clock: Clock | None = None, channels=None) -> AlertService:
    """The alert service on the store and ``alerting.yaml`` of ``settings``, with the feedback hook."""
    config = load_alerting_config(settings.alerting.file)
    store = open_alert_store(settings)
    return AlertService(store, config, clock=clock, channels=channels,
                        on_dismiss=training_feedback(settings))


class Application:
    """The parts of one yuqing process, each built from ``settings`` when first used and closed by
    :meth:`close`. Tests and benchmarks may hand in their own ``bus``, ``index``, ``scorer``,
    ``stories`` or ``service``; those are closed by whoever made them.

    ``model``/``rules``/``no_rules`` choose the classifier (default: the current model with the
    shipped schemes); ``min_level`` is the lowest level the alert step queues; without
    ``cluster_stories`` the classify step scores every article as a story of its own (the
    benchmarks measure what clustering costs that way).
    """

    def __init__(self, settings: Settings, *, model: str | None = None, rules: Path | None = None,
                 no_rules: bool = False, min_level: int = 1, cluster_stories: bool = True,
                 bus: Bus | None = None,
                 index: Index | None = None, scorer: Scorer | None = None,
                 stories: StoryClusters | None = None, service: AlertService | None = None,
                 clock: Clock | None = None):
        self.settings = settings
        self.model = model
        self.rules = rules
        self.no_rules = no_rules
        self.min_level = min_level
        self.cluster_stories = cluster_stories
        self.clock = clock
        given = {"bus": bus, "index": index, "scorer": scorer, "stories": stories, "service": service}
        for name, part in given.items():
            if part is not None:
                self.__dict__[name] = part  # what cached_property would have built
        self._owned: list[str] = []

    @property
    def data_dir(self) -> Path:
        data = self.settings.paths.data_dir
        data.mkdir(parents=True, exist_ok=True)
        return data

    # ---- the parts -----------------------------------------------------------------------------

    @cached_property
    def bus(self) -> Bus:
        self._owned.append("bus")
        return open_bus(self.settings)

    @cached_property
    def index(self) -> Index:
        self._owned.append("index")
        return open_index(self.settings)

    @cached_property
    def scorer(self) -> Scorer:
        model = registry.load(self.model, self.settings.paths.data_dir)
        return ModelScorer(model, None if self.no_rules else load_rules(self.rules))

    @cached_property
    def stories(self) -> StoryClusters:
        self._owned.append("stories")
        return StoryClusters(self.data_dir / "stories.sqlite3")

    @cached_property
    def service(self) -> AlertService:
        self._owned.append("service")
        return open_service(self.settings, clock=self.clock)

    def close(self) -> None:
        """Close what this application opened, newest first."""
        for name in reversed(self._owned):
            part = self.__dict__.pop(name)
            if name == "service":
                part.store.close()
            else:
                part.close()
        self._owned.clear()

    def __enter__(self) -> "Application":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- the stream ----------------------------------------------------------------------------

    def worker(self, name: str, count: StepCount, *, group: str | None = None, batch_size: int = 500,
               idle_s: float = 1.0) -> Worker:
        """The worker of step ``name`` (:data:`STEPS`), in consumer group ``group`` (default: the
        step's name)."""
        spec = STEPS[name]
        return Worker(self.bus, spec.reads, group or spec.name, spec.build(self, count),
                      batch_size=batch_size, idle_s=idle_s, name=spec.name)

    def drain(self, name: str, idle_s: float = 1.0, max_batches: int | None = None,
              group: str | None = None) -> StepCount:
        """Run step ``name`` until no record arrives for ``idle_s``; returns what it did."""
        spec = STEPS[name]
        count = StepCount()
        drain(self.bus, spec.reads, group or spec.name, spec.build(self, count), spec.name, idle_s,
              max_batches)
        return count

    def ticker(self, interval_s: float = 5.0, sources: Path | None = None) -> Ticker:
        """The clocks (reminders, escalations, deliveries) and the scheduled briefings, which name
        the sources as the crawl ``sources`` file (or folder) names them."""
        anchors = self.settings.store.audit_anchors
        briefings = BriefingJob(self.service.store, self.service.config, lambda: open_index(self.settings),
                                self.data_dir / "briefings", anchors=anchors,
                                source_names=lambda: source_names(sources))
        return Ticker(self.service, interval_s, jobs=[briefings, AnchorJob(self.service.store, anchors)])

    # ---- crawling ------------------------------------------------------------------------------

    @contextmanager
    def crawl_service(self, sources: SourceWatcher, *, host_delay: float | None = None,
                      workers: int | None = None, shard: tuple[int, int] = (0, 1),
                      html_runner: HtmlRunner | None = None,
                      state_file: str = "crawl_state.sqlite3") -> Iterator[CrawlService]:
        """The crawl service over ``sources``, publishing to this application's bus; its state
        (health, what was seen, pending pages, robots.txt) and the page snapshots live in the
        data folder. ``host_delay`` and ``workers`` override ``crawl`` in the settings."""
        crawl = self.settings.crawl
        workers = workers or crawl.workers
        state = StateStore(self.data_dir / state_file)
        try:
            with Fetcher(SnapshotStore(self.data_dir / "snapshots"),
                         Politeness(crawl.host_delay_s if host_delay is None else host_delay),
                         threads=workers, robots_cache=state, robots_ttl_s=crawl.robots_ttl_s,
                         default_rate_per_minute=crawl.rate_limit_per_minute) as fetcher:
                yield CrawlService(sources, self.bus, state, fetcher, shard=shard, workers=workers,
                                   html_runner=html_runner,
                                   retry=RetryPolicy(crawl.page_attempts, crawl.page_retry_s))
        finally:
            state.close()

    def crawl_thread(self, sources: SourceWatcher, stop: threading.Event) -> threading.Thread:
        """The crawl service on a thread of its own, until ``stop`` is set (``yuqing run``)."""

        def crawl() -> None:
            with self.crawl_service(sources) as service:
                service.run_forever(stop)

        return threading.Thread(target=crawl, name="yuqing-crawl", daemon=True)


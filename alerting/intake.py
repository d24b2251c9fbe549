"""The stream's last stage: records of the alert queue become alerts, one per story.

:class:`Intake` takes a scored article: below level 1 nothing happens; the first article of a
story opens its alert (level, office and urgency from :func:`alerting.routing.route`, the
upward-report clocks started, the offices told); a later one joins it, and may raise its level
(its own level, the spread rules, the urgency flags). The spread rules hold over any window: the
story is raised when any window of a rule's length holds its number of the story's articles,
whatever order they arrived in (a late article, seen before others already taken in, counts where
it belongs). A watched name that many stories mention at once is a volume spike
(:mod:`alerting.volume`): one volume alert holds it while it lasts, whichever of its names (a
county's, a town's) found it; a spike that one story explains is that story's spread, not a
volume alert. Ingesting is idempotent: an article already counted for its story changes nothing.

:func:`intake_step` is the stream step over the ``alerts`` topic: a batch in one transaction, a
record that cannot be read or taken in dead-lettered alone; when the database cannot be reached
the batch is not committed and the worker backs off (ingest is idempotent, so redelivery is
harmless).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from alerting import audit, messages
from alerting.access import SYSTEM
from alerting.clock import Clock
from alerting.config import AlertingConfig
from alerting.drills import is_drill
from alerting.locality import clocked, locate, more_local
from alerting.notifier import Notifier
from alerting.routing import (
    Proposal, Reason, Routed, engagement_level, propose, route, spread_level, story_engagement,
)
from alerting.store import Store
from alerting.store.models import Alert, AlertArticle, VolumeSpike
from alerting.timekeeper import Timekeeper
from alerting.volume import Spike, observe
from pipeline import metrics
from pipeline.bus import Bus, Message
from pipeline.errors import BackendUnavailable, Quarantine
from pipeline.flow import Step, StepCount, dead_letter, handle_batch, reason_of
from pipeline.records import ScoredArticle, decode

__all__ = ["Intake", "intake_step", "SOURCE_ID_MAX"]

log = logging.getLogger(__name__)

#: the width of the source columns (alert_articles.source_id, alerts.first_source)
SOURCE_ID_MAX = 200


class Intake:
    """Scored articles into alerts; see the module docstring."""

    def __init__(self, store: Store, config: AlertingConfig, clock: Clock, notifier: Notifier,
                 timekeeper: Timekeeper):
        self.store = store
        self.config = config
        self.clock = clock
        self.notifier = notifier
        self.timekeeper = timekeeper

    def ingest(self, article: ScoredArticle) -> str | None:
        """Open or update the alert of ``article``'s story; returns its id (None below level 1)."""
        (outcome,) = self.ingest_many([article])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def ingest_many(self, articles: list[ScoredArticle]) -> list[str | None | Exception]:
        """:meth:`ingest` for a batch in one transaction (one commit, which is most of the cost).

        Each article runs in a savepoint: one that fails is rolled back alone and its exception
        is returned in its place, so the caller can set it aside while the others are kept. A
        database that cannot be reached raises (OperationalError): the whole batch is retried.
        """
        now = self.clock.now()
        outcomes: list[str | None | Exception] = []
        with self.store.session() as session:
            for article in articles:
                outcomes.append(self._in_savepoint(session, article, now))
        return outcomes

    def _in_savepoint(self, session: Session, article: ScoredArticle, now: datetime) -> str | None | Exception:
        """One article of a batch in its own savepoint; its exception is returned, not raised.

        Tried twice when the second try may succeed: two intake workers (the alerts topic is keyed
        by article, so one story's reposts reach several) may open the same new story's alert at
        once; the one that inserts second fails on the alert's key once the first commits, and
        its second try finds that alert and joins it instead of dead-lettering the article.
        """
        outcome = self._once(session, article, now)
        if isinstance(outcome, IntegrityError):
            outcome = self._once(session, article, now)
        return outcome

    def _once(self, session: Session, article: ScoredArticle, now: datetime) -> str | None | Exception:
        try:
            with session.begin_nested():
                return self._ingest_one(session, article, now)
        except OperationalError:
            raise
        except Exception as exc:  # noqa: BLE001 - handed back to the caller, per article
            return exc

    def hand_in(self, article: ScoredArticle, proposal: Proposal, actor) -> str | None:
        """An item an office found (报送), scored by the classifier like any other, with the
        office's proposed level beside the model's (:func:`alerting.routing.propose`): it enters
        the same queue. Returns the alert's id; None when neither the model nor the office gives
        it a level (nothing to report). The hand-in is in the audit log under ``actor``."""
        now = self.clock.now()
        with self.store.session() as session:
            alert_id = self._ingest_one(session, article, now, proposal)
            if alert_id is not None:
                audit.append(session, now, actor.name, "hand_in", alert_id, None,
                             {"office": proposal.office, "proposed": proposal.level, "reason": proposal.reason,
                              "model_level": article.level, "article": article.id, "title": article.title,
                              "source": article.source_id})
        return alert_id

    def ingest_in(self, session: Session, article: ScoredArticle, now: datetime) -> str | None:
        """:meth:`ingest` inside the caller's transaction (for an action that records more with it)."""
        return self._ingest_one(session, article, now)

    def _ingest_one(self, session: Session, article: ScoredArticle, now: datetime,
                    proposal: Proposal | None = None) -> str | None:
        if len(article.source_id) > SOURCE_ID_MAX:
            raise Quarantine(f"source id of {len(article.source_id)} characters (at most {SOURCE_ID_MAX}): "
                             f"{article.source_id[:40]}...; fix the source's id in sources.yaml")
        routed = route(article, self.config)
        if proposal is not None:
            routed = propose(routed, proposal)
        if routed.level < 1:
            return None
        story_key = article.story_id or f"article:{article.id}"
        alert = session.execute(select(Alert).where(Alert.story_key == story_key).with_for_update()
                                ).scalar_one_or_none()
        if alert is None:
            engaged = engagement_level(self.config.engagement, story_engagement([article.spread]))
            if engaged and engaged[0] > routed.level:  # a post that arrives already far travelled
                routed = replace(routed, level=engaged[0], reasons=[*routed.reasons, engaged[1]])
            alert = self._open(session, story_key, "content", article, routed, now)
        elif session.get(AlertArticle, (alert.id, article.id)) is not None:
            return alert.id
        else:
            self._grow(session, alert, article, routed, now)
        if is_drill(alert):  # a drill's invented text never counts toward a real name's volume
            return alert.id
        for spike in observe(session, self.config.volume, article.id, story_key,
                             f"{article.title}\n{article.content}", article.fetched):
            self._volume_alert(session, spike, article, now)
        return alert.id

    @staticmethod
    def alert_id(story_key: str) -> str:
        """The alert's id: stable for its story, short enough to type (``Y3F0A…``)."""
        return "Y" + hashlib.sha1(story_key.encode("utf-8")).hexdigest()[:9].upper()

    def _attach(self, session: Session, alert: Alert, article: ScoredArticle, now: datetime) -> None:
        self._hold(session, alert, AlertArticle(
            alert_id=alert.id, article_id=article.id, source_id=article.source_id, url=article.url,
            title=article.title, level=article.level, published=article.published, seen_at=article.fetched,
            spread=dict(article.spread)), now)

    def _hold(self, session: Session, alert: Alert, row: AlertArticle, now: datetime) -> None:
        """Add an article's row to the alert (a new row, or a copy of the one another alert has)."""
        if row.alert_id != alert.id:
            row = AlertArticle(alert_id=alert.id, article_id=row.article_id, source_id=row.source_id, url=row.url,
                               title=row.title, level=row.level, published=row.published, seen_at=row.seen_at,
                               spread=dict(row.spread or {}))
        session.add(row)
        alert.articles += 1
        if row.spread:  # the story's reach, kept as it grows rather than summed again each time
            alert.reach = story_engagement([alert.reach or {}, row.spread])
        if row.source_id not in alert.sources:
            alert.sources = [*alert.sources, row.source_id]
        alert.last_seen = max(alert.last_seen, row.seen_at)
        if row.seen_at < alert.first_seen:
            # an article fetched before the one the alert opened with, taken in late (its partition
            # lagged): the story was found then, and the clocks that run from finding it move up
            was = alert.first_seen
            alert.first_seen, alert.first_source = row.seen_at, row.source_id
            self.timekeeper.found_earlier(session, alert, was, now)
        alert.updated_at = now
        session.flush()

    def _open(self, session: Session, story_key: str, trigger: str, article: ScoredArticle,
              routed: Routed, now: datetime, title: str | None = None, also: list[AlertArticle] = ()) -> Alert:
        alert = Alert(id=self.alert_id(story_key), story_key=story_key, trigger=trigger,
                      title=title or article.title or article.content[:40], url=article.url,
                      summary=article.content[:200], first_source=article.first_source or article.source_id,
                      first_seen=article.fetched, last_seen=article.fetched, level=routed.level,
                      level_reasons=[str(r) for r in routed.reasons], office=routed.office, state="new",
                      emergency=routed.emergency, overall=routed.overall, relevance=article.relevance,
                      # a volume alert is about a name the county watches: its own by definition
                      locality="local" if trigger == "volume" else self._locate(article),
                      sensitivity=article.sensitivity, articles=0, sources=[],
                      matched_rules=list(article.matched_rules), explanation=list(article.explanation),
                      warned_offices=[], created_at=now, updated_at=now)
        session.add(alert)
        session.flush()
        self._attach(session, alert, article, now)
        for row in also:  # before the offices are told, so the message counts them
            self._hold(session, alert, row, now)
        started = self.timekeeper.start(session, alert, now)
        metrics.ALERTS_OPENED.labels(trigger, str(alert.level)).inc()
        audit.append(session, now, SYSTEM.name, "open", alert.id, None,
                     {**audit.snapshot(alert), "trigger": trigger, "reasons": alert.level_reasons,
                      "article": article.id, "deadlines": {d.key: d.due_at for d in started}})
        subject, body = messages.opened(alert, started, self.config.console_url)
        # 重大 items go to the coordinating group's head at once too: the 1-hour clock is theirs as well
        self.notifier.notify(session, alert, f"open:{alert.id}", subject, body, now, leader=alert.level >= 3)
        return alert

    def _grow(self, session: Session, alert: Alert, article: ScoredArticle, routed: Routed,
              now: datetime) -> None:
        self._attach(session, alert, article, now)
        if alert.state in ("closed", "dismissed"):
            # a finished alert keeps the level it was finished with (its articles still count);
            # changing it without a decision would be a change the audit log does not explain
            return
        old = alert.level
        why: list[Reason] = []
        if routed.level > alert.level:
            alert.level = routed.level
            why += routed.reasons
        rules = [r for r in self.config.spread if r.raise_to > alert.level]
        spread = None
        if rules:  # the story's articles in every window that holds this one, earlier and later
            at, widest = article.fetched, max(r.within for r in rules)
            times = session.execute(select(AlertArticle.seen_at).where(
                AlertArticle.alert_id == alert.id, AlertArticle.seen_at.between(at - widest, at + widest))
                .order_by(AlertArticle.seen_at)).scalars().all()
            spread = spread_level(rules, times, at)
        if spread and spread[0] > alert.level:
            alert.level = spread[0]
            why.append(spread[1])
        engaged = self._engagement(alert)
        if engaged and engaged[0] > alert.level:
            alert.level = engaged[0]
            why.append(engaged[1])
        for flag in ("emergency", "overall"):
            if getattr(routed, flag) and not getattr(alert, flag):
                setattr(alert, flag, True)
                why.append(routed.reason(flag))
        self._raised(session, alert, old, why, now)
        self._relocate(session, alert, article, now)

    def _locate(self, article: ScoredArticle) -> str:
        return locate(f"{article.title}\n{article.content}", self.config.jurisdiction)

    def _relocate(self, session: Session, alert: Alert, article: ScoredArticle, now: datetime) -> None:
        """A story is as local as its most local article: one naming the county makes it the
        commission's own, and its clocks start then, as after a raise."""
        if alert.locality == "local":
            return
        found = more_local(alert.locality, self._locate(article))
        if found == alert.locality:
            return
        jurisdiction, before = self.config.jurisdiction, alert.locality
        alert.locality = found
        audit.append(session, now, SYSTEM.name, "locate", alert.id, {"locality": before}, {"locality": found})
        if not clocked(before, jurisdiction) and clocked(found, jurisdiction):
            started = self.timekeeper.start(session, alert, now, raised_at=now)
            if started:
                subject, body = messages.opened(alert, started, self.config.console_url)
                self.notifier.notify(session, alert, f"locate:{alert.id}:{found}", subject, body, now,
                                     leader=alert.level >= 3)

    def _engagement(self, alert: Alert) -> tuple[int, Reason] | None:
        """The level the engagement rules give the alert's articles together (its ``reach``);
        None when no rule holds above its level."""
        rules = [r for r in self.config.engagement if r.raise_to > alert.level]
        return engagement_level(rules, alert.reach or {}) if rules else None

    def _raised(self, session: Session, alert: Alert, old: int, why: list[Reason], now: datetime) -> None:
        """Record, time and announce what ``why`` changed on ``alert`` (its level was ``old``)."""
        if why:
            # a reason the alert already gives ("模型判定:一般" of every article) says nothing new
            words = [w for w in dict.fromkeys(str(r) for r in why) if w not in alert.level_reasons]
            alert.level_reasons = [*alert.level_reasons, *words]
            before = {**audit.snapshot(alert), "level": old}
            started = self.timekeeper.start(session, alert, now, raised_at=now)
            audit.append(session, now, SYSTEM.name, "raise", alert.id, before,
                         {**audit.snapshot(alert), "reasons": words, "articles": alert.articles})
            if alert.level > old:
                subject, body = messages.raised(alert, old, "；".join(words), started, self.config.console_url)
                self.notifier.notify(session, alert, f"raise:{alert.id}:{alert.level}", subject, body, now,
                                     leader=alert.level >= 3)
            elif started:
                subject, body = messages.opened(alert, started, self.config.console_url)
                self.notifier.notify(session, alert, f"flag:{alert.id}:{alert.emergency}:{alert.overall}",
                                     subject, body, now)

    def _volume_alert(self, session: Session, spike: Spike, article: ScoredArticle, now: datetime) -> None:
        """The volume alert that holds ``spike``: the one already holding most of its articles
        (opened for this name, or for another name found in the same articles), else a new one;
        it gets the spike's articles it does not hold yet, as their stories' alerts hold them."""
        held = session.execute(
            select(AlertArticle.alert_id, func.count()).join(Alert, Alert.id == AlertArticle.alert_id)
            .where(Alert.trigger == "volume", AlertArticle.article_id.in_(spike.article_ids))
            .group_by(AlertArticle.alert_id).order_by(func.count().desc(), AlertArticle.alert_id)).first()
        if held is not None and 2 * held[1] >= len(spike.article_ids):
            alert = session.get(Alert, held[0])
        else:  # (or the one this very window opened, should it hold too few of it by now)
            alert = session.execute(select(Alert).where(Alert.story_key == spike.story_key)).scalar_one_or_none()
        holds = set() if alert is None else set(session.execute(select(AlertArticle.article_id).where(
            AlertArticle.alert_id == alert.id, AlertArticle.article_id.in_(spike.article_ids))).scalars())
        rows: dict[str, AlertArticle] = {}
        missing = [i for i in spike.article_ids if i not in holds and i != article.id]
        if missing:
            for row in session.execute(select(AlertArticle).where(AlertArticle.article_id.in_(missing))).scalars():
                rows.setdefault(row.article_id, row)
        also = [rows[i] for i in missing if i in rows]
        settings = self.config.volume
        if alert is None:
            routed = Routed(level=settings.level, office=settings.office, reasons=[
                Reason("volume", _volume_reason(spike.name, spike.count, spike.stories, spike.usual, settings.window))])
            engaged = engagement_level(self.config.engagement,
                                       story_engagement([article.spread, *(row.spread for row in also)]))
            if engaged and engaged[0] > routed.level:
                routed = replace(routed, level=engaged[0], reasons=[*routed.reasons, engaged[1]])
            alert = self._open(session, spike.story_key, "volume", article, routed, now,
                               title=_volume_title([spike.name], spike.count, settings.window), also=also)
        else:
            if article.id not in holds:
                self._attach(session, alert, article, now)
            for row in also:
                self._hold(session, alert, row, now)
        self._note_spike(session, alert, spike)
        if alert.state not in ("closed", "dismissed"):
            # the spike's reach: its articles' reposts and reads, as a story's own raise it
            old, engaged = alert.level, self._engagement(alert)
            if engaged and engaged[0] > old:
                alert.level = engaged[0]
                self._raised(session, alert, old, [engaged[1]], now)

    def _note_spike(self, session: Session, alert: Alert, spike: Spike) -> None:
        """Keep the alert's names with their fullest windows, and its title and reasons current."""
        noted = session.get(VolumeSpike, (alert.id, spike.name))
        if noted is None:
            session.add(VolumeSpike(alert_id=alert.id, name=spike.name, peak=spike.count, stories=spike.stories,
                                    usual=spike.usual))
        elif spike.count > noted.peak:
            noted.peak, noted.stories, noted.usual = spike.count, spike.stories, spike.usual
        session.flush()
        spikes = session.execute(select(VolumeSpike).where(VolumeSpike.alert_id == alert.id)
                                 .order_by(VolumeSpike.peak.desc(), VolumeSpike.name)).scalars().all()
        window = self.config.volume.window
        alert.title = _volume_title([s.name for s in spikes], spikes[0].peak, window)
        alert.level_reasons = ([r for r in alert.level_reasons if not r.startswith("声量:")]
                               + [_volume_reason(s.name, s.peak, s.stories, s.usual, window) for s in spikes])


def _window_words(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    return f"{minutes // 60}小时内" if minutes % 60 == 0 else f"{minutes}分钟内"


def _volume_title(names: list[str], peak: int, window: timedelta) -> str:
    """「会昌」「周田」相关信息激增：1小时内最多17篇 (the names, fullest first)."""
    return "".join(f"「{name}」" for name in names) + f"相关信息激增：{_window_words(window)}最多{peak}篇"


def _volume_reason(name: str, count: int, stories: int, usual: float, window: timedelta) -> str:
    return f"声量:{name} {_window_words(window)}{count}篇/{stories}个事件，平时约{usual:.1f}篇"


def intake_step(bus: Bus, intake: Intake, count: StepCount) -> Step:
    """Take a batch of the alert queue into the database in one transaction; a record that cannot
    be read or taken in goes to ``deadletter`` with the reason, the rest are kept.

    ``intake`` is anything with ``ingest_many`` (the :class:`Intake`, or the service in front).
    """

    def step(batch: list[Message]) -> None:
        decoded: list[tuple[Message, ScoredArticle]] = []

        def keep(message: Message) -> None:
            decoded.append((message, decode(message.value, message.where, expect=ScoredArticle)))

        handle_batch(bus, "intake", batch, keep, count)
        try:
            outcomes = intake.ingest_many([article for _, article in decoded])
        except OperationalError as exc:
            raise BackendUnavailable(f"alert store: {str(exc.orig or exc).splitlines()[0]}") from None
        for (message, _), outcome in zip(decoded, outcomes):
            if isinstance(outcome, Exception):
                log.warning("intake: %s: %s", message.where, outcome)
                dead_letter(bus, "intake", message, reason_of(outcome), count)
            elif outcome is not None:
                count.written += 1
        bus.flush()  # dead letters, if any

    return step

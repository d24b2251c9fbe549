"""Fill a briefing (例会通报) from the alert database and the search index.

:func:`gather` answers, for one period, what :class:`alerting.briefing.data.BriefingData` asks:
volume by level over time (from the index, which holds every article, relevant or not), the main
stories with their handling state and nearest deadline, terms rising against the previous period
(苗头性、倾向性), the sources, each office's open and overdue tasks, and every upward-report and
task deadline due in the period (met, missed or still open): late and missed reports are named.
:func:`period` turns ``daily``/``weekly`` and a date into the Beijing-time period and the one
before it.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy import func, or_, select

from alerting import anchors, audit, outbox
from alerting.dismissals import decided_between
from alerting.briefing import render_html, render_pdf, render_png_page1
from alerting.briefing.data import (
    BriefingData, DeadlineRecord, OfficeTasks, SourceCount, StoryLine, VolumePoint, DismissalLine)
from alerting.briefing.trends import rising_terms
from alerting.config import STATE_LABELS, AlertingConfig
from alerting.store import Store
from alerting.store.models import Alert, AlertArticle, Deadline, Task
from classifiers.tokenize import tokens
from pipeline.index import Index, Query
from pipeline.records import SHANGHAI

__all__ = ["period", "gather", "write_briefing", "due_briefings", "Written", "KIND_NAMES", "BriefingJob"]

log = logging.getLogger(__name__)

MAX_STORIES = 15


def period(kind: str, day: date | None = None, start: date | None = None,
           end: date | None = None, today: date | None = None) -> tuple[datetime, datetime, datetime, datetime]:
    """(start, end, previous start, previous end), Beijing midnights.

    ``daily``: the day ``day`` (default yesterday); ``weekly``: the ISO week (Monday to Monday)
    containing ``day`` (default last week); ``range``: ``start`` to ``end`` inclusive, against the
    same number of days before it.
    """
    today = today or datetime.now(SHANGHAI).date()

    def midnight(d: date) -> datetime:
        return datetime.combine(d, time(0), tzinfo=SHANGHAI)

    if kind == "daily":
        first = day or today - timedelta(days=1)
        last = first + timedelta(days=1)
    elif kind == "weekly":
        anchor = day or today - timedelta(days=7)
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=7)
    elif kind == "range":
        if start is None or end is None or end < start:
            raise ValueError("a range briefing needs --from and --to, with --from not after --to")
        first, last = start, end + timedelta(days=1)
    else:
        raise ValueError(f"{kind!r} is not daily, weekly or range")
    length = last - first
    return midnight(first), midnight(last), midnight(first - length), midnight(first)


def _buckets(kind: str, start: datetime, end: datetime) -> list[datetime]:
    step = timedelta(hours=1) if kind == "daily" else timedelta(days=1)
    out, at = [], start
    while at < end:
        out.append(at)
        at += step
    return out


def _before(moment: datetime) -> datetime:
    """The index's ``until`` includes its bound; periods here exclude their end."""
    return moment - timedelta(milliseconds=1)


def _volume(index: Index, kind: str, start: datetime, end: datetime) -> list[VolumePoint]:
    points = []
    for bucket in _buckets(kind, start, end):
        step = timedelta(hours=1) if kind == "daily" else timedelta(days=1)
        for level in range(4):
            total = index.search(Query(levels=(level,), since=bucket, until=_before(bucket + step), limit=0)).total
            if total:
                points.append(VolumePoint(bucket=bucket, level=level, count=total))
    return points


def _volume_from_alerts(session, kind: str, start: datetime, end: datetime) -> list[VolumePoint]:
    counts: Counter = Counter()
    rows = session.execute(select(AlertArticle.seen_at, AlertArticle.level).where(
        AlertArticle.seen_at >= start, AlertArticle.seen_at < end)).all()
    for seen_at, level in rows:
        local = seen_at.astimezone(SHANGHAI)
        bucket = local.replace(minute=0, second=0, microsecond=0) if kind == "daily" else \
            local.replace(hour=0, minute=0, second=0, microsecond=0)
        counts[(bucket, level)] += 1
    return [VolumePoint(bucket=b, level=lv, count=n) for (b, lv), n in sorted(counts.items())]


def _texts(index, session, start: datetime, end: datetime) -> list[str]:
    if index is not None:
        found = index.search(Query(min_level=1, since=start, until=_before(end), sort="newest", limit=2000))
        return [f"{h.article.title}\n{h.article.content[:600]}" for h in found.hits]
    return list(session.execute(select(AlertArticle.title).where(
        AlertArticle.seen_at >= start, AlertArticle.seen_at < end)).scalars())


def _tokens(texts: list[str]) -> list[list[str]]:
    return [tokens(t, backend="rjieba") for t in texts]


def gather(store: Store, config: AlertingConfig, kind: str, start: datetime, end: datetime,
           previous_start: datetime, previous_end: datetime, now: datetime, index=None) -> BriefingData:
    """Everything the briefing of ``[start, end)`` shows, as of ``now``."""
    with store.session() as session:
        if index is not None:
            volume = _volume(index, kind, start, end)
            previous = Counter()
            for level in range(4):
                previous[level] = index.search(Query(levels=(level,), since=previous_start,
                                                     until=_before(previous_end), limit=0)).total
        else:
            volume = _volume_from_alerts(session, kind, start, end)
            previous = Counter(dict(session.execute(
                select(AlertArticle.level, func.count()).where(
                    AlertArticle.seen_at >= previous_start, AlertArticle.seen_at < previous_end)
                .group_by(AlertArticle.level)).all()))

        alerts = session.execute(select(Alert).where(
            Alert.first_seen < end,
            or_(Alert.first_seen >= start, Alert.state.not_in(("closed", "dismissed")),
                Alert.updated_at >= start),
            Alert.state != "dismissed").order_by(Alert.level.desc(), Alert.first_seen)).scalars().all()
        deadlines = session.execute(select(Deadline).where(
            Deadline.status != "void",
            or_(Deadline.due_at.between(start, end), Deadline.status == "open"),
            Deadline.due_at < end + timedelta(days=1))).scalars().all()
        titles = dict(session.execute(select(Alert.id, Alert.title)).all()) if deadlines else {}
        nearest: dict[str, Deadline] = {}
        for d in sorted(deadlines, key=lambda d: d.due_at):
            if d.kind in ("major", "overall"):
                nearest.setdefault(d.alert_id, d)
        stories = [StoryLine(
            alert_id=a.id, title=a.title, level=a.level, state=STATE_LABELS[a.state], office=a.office,
            first_seen=a.first_seen.astimezone(SHANGHAI), first_source=a.first_source, sources=len(a.sources),
            reposts=max(0, a.articles - 1),
            deadline=nearest[a.id].due_at.astimezone(SHANGHAI) if a.id in nearest else None,
            deadline_status=_status(nearest[a.id]) if a.id in nearest else "none", url=a.url)
            for a in alerts if a.level >= 2][:MAX_STORIES]
        records = [DeadlineRecord(alert_id=d.alert_id, title=titles.get(d.alert_id, ""), kind=_kind(d),
                                  due=d.due_at.astimezone(SHANGHAI),
                                  done_at=d.done_at.astimezone(SHANGHAI) if d.done_at else None,
                                  status=_status(d), office=d.office)
                   for d in sorted(deadlines, key=lambda d: d.due_at)]
        sources = Counter(dict(session.execute(
            select(AlertArticle.source_id, func.count()).where(
                AlertArticle.seen_at >= start, AlertArticle.seen_at < end)
            .group_by(AlertArticle.source_id)).all()))
        tasks = []
        for office in config.offices:
            rows = session.execute(select(Task).where(Task.office == office, Task.state.not_in(("void", "cancelled")))).scalars().all()
            open_ = [t for t in rows if t.state == "open"]
            done = [t for t in rows if t.state == "done" and t.done_at and start <= t.done_at < end]
            if open_ or done:
                tasks.append(OfficeTasks(office=office, open=len(open_),
                                         overdue=sum(1 for t in open_ if t.due_at < now), done=len(done)))
        current_texts = _texts(index, session, start, end)
        previous_texts = _texts(index, session, previous_start, previous_end)
        anchor = audit.head(session)
        dismissed = decided_between(session, start, end)
        dismissal_titles = dict(session.execute(select(Alert.id, Alert.title).where(
            Alert.id.in_([d.alert_id for d in dismissed]))).all()) if dismissed else {}
        dismissals = [DismissalLine(
            alert_id=d.alert_id, title=dismissal_titles.get(d.alert_id, ""), level=d.level, reason=d.reason,
            proposed_by=d.proposed_by, proposed_at=d.proposed_at.astimezone(SHANGHAI), state=d.state,
            decided_by=d.decided_by or "", decided_at=d.decided_at.astimezone(SHANGHAI) if d.decided_at else None,
            note=d.note) for d in dismissed]
    return BriefingData(
        kind=kind, unit=config.unit, period_start=start, period_end=end, previous_start=previous_start,
        previous_end=previous_end, generated_at=now.astimezone(SHANGHAI), volume=volume,
        previous_totals={lv: n for lv, n in previous.items() if n}, stories=stories,
        rising_terms=rising_terms(_tokens(current_texts), _tokens(previous_texts), top=10, min_count=2),
        sources=[SourceCount(s, n) for s, n in sources.most_common(10)], tasks=tasks, deadlines=records,
        audit_anchor=anchor, dismissals=dismissals)


def _status(deadline: Deadline) -> str:
    return deadline.status if deadline.status in ("met", "missed", "open") else "open"


def _kind(deadline: Deadline) -> str:
    return deadline.label.split("#")[0] if deadline.kind == "task" else deadline.label


KIND_NAMES = {"daily": "舆情日报", "weekly": "舆情周报", "range": "舆情通报"}


@dataclass(frozen=True)
class Written:
    html: Path
    pdf: Path
    png: Path | None


def write_briefing(data: BriefingData, out_dir: Path, png: bool = False,
                   anchor_file: Path | None = None) -> Written:
    """Render ``data`` to ``out_dir`` as ``舆情日报-2026-11-26.html`` / ``.pdf`` (and ``.png``);
    with ``anchor_file``, the audit anchor the briefing prints is appended there too."""
    out_dir.mkdir(parents=True, exist_ok=True)
    first = data.period_start.astimezone(SHANGHAI).date()
    last = (data.period_end.astimezone(SHANGHAI) - timedelta(seconds=1)).date()
    stem = f"{KIND_NAMES[data.kind]}-{first:%Y-%m-%d}" + (f"至{last:%Y-%m-%d}" if last != first else "")
    html = render_html(data)
    html_path = out_dir / f"{stem}.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path = render_pdf(html, out_dir / f"{stem}.pdf")
    png_path = None
    if png:
        png_path = out_dir / f"{stem}.png"
        render_png_page1(pdf_path, png_path)
    if anchor_file is not None and data.audit_anchor is not None:
        seq, head = data.audit_anchor
        anchors.write(anchor_file, anchors.Anchor(data.generated_at, seq, head, f"briefing {stem}"))
    return Written(html_path, pdf_path, png_path)


def due_briefings(config: AlertingConfig, now: datetime) -> list[tuple[str, date]]:
    """The scheduled briefings whose time has come today: (kind, a day of their period)."""
    local = now.astimezone(SHANGHAI)
    due = []
    if config.briefings.daily_at is not None and local.time() >= config.briefings.daily_at:
        due.append(("daily", local.date() - timedelta(days=1)))
    if config.briefings.weekly_at is not None and local.weekday() == 0 and local.time() >= config.briefings.weekly_at:
        due.append(("weekly", local.date() - timedelta(days=7)))
    return due


class BriefingJob:
    """Make the scheduled briefings when their time comes (``briefings`` in alerting.yaml) into
    ``out_dir`` and announce them on ``briefings.channels``. A briefing whose PDF exists is not
    made again, and its announcement has a unique outbox key: once each.

    Called by the :class:`alerting.timekeeper.Ticker` with the current time; ``open_index`` gives
    a fresh index for each briefing (closed after it), since the job runs for weeks.

    A system that never made a briefing (no PDF in ``out_dir``) does not make, at its first start,
    the ones whose time had already come: a new installation would otherwise open with a daily
    (and on Mondays a weekly) briefing of a period it did not watch. Once one was made, a restart
    after the scheduled time catches up as before.
    """

    def __init__(self, store: Store, config: AlertingConfig, open_index: Callable[[], Index], out_dir: Path,
                 anchors: Path | None = None):
        self.store = store
        self.config = config
        self.open_index = open_index
        self.out_dir = out_dir
        self.anchors = anchors
        self._never_made = not any(out_dir.glob("*.pdf"))
        self._started: datetime | None = None

    def _before_first_start(self, kind: str, now: datetime) -> bool:
        """True for a briefing due before this job first ran, on a system that never made one."""
        if not self._never_made or self._started is None:
            return False
        at = self.config.briefings.daily_at if kind == "daily" else self.config.briefings.weekly_at
        scheduled = datetime.combine(now.astimezone(SHANGHAI).date(), at, SHANGHAI)
        return scheduled <= self._started.astimezone(SHANGHAI)

    def __call__(self, now: datetime) -> list[Written]:
        made = []
        config = self.config
        if self._started is None:
            self._started = now
        for kind, day in due_briefings(config, now):
            start, end, prev_start, prev_end = period(kind, day)
            stem = f"{KIND_NAMES[kind]}-{start:%Y-%m-%d}"
            if any(self.out_dir.glob(f"{stem}*.pdf")):
                continue
            if self._before_first_start(kind, now):
                if now == self._started:
                    log.info("briefing_skipped kind=%s: its time came before this first start; "
                             "`yuqing report %s` makes it by hand", kind, kind)
                continue
            index = self.open_index()
            try:
                data = gather(self.store, config, kind, start, end, prev_start, prev_end, now, index)
            finally:
                index.close()
            written = write_briefing(data, self.out_dir, anchor_file=self.anchors)
            made.append(written)
            log.info("briefing_made kind=%s pdf=%s", kind, written.pdf)
            if config.briefings.channels:
                link = (f"{config.console_url.rstrip('/')}/briefings/{written.pdf.name}"
                        if config.console_url else str(written.pdf))
                with self.store.session() as session:
                    outbox.queue(session, config.notify, key=f"briefing:{kind}:{start:%Y%m%d}",
                                 channels=config.briefings.channels,
                                 subject=f"【{KIND_NAMES[kind]}】{config.unit} {start:%Y年%m月%d日}",
                                 body=f"{KIND_NAMES[kind]}已生成，请查阅：{link}", level=1, now=now,
                                 urgent=True)
        return made

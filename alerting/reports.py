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

import json
import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy import or_, select

from alerting import anchors, audit, drafts, outbox
from alerting.drills import real_alerts
from alerting.dismissals import decided_between
from alerting.handling import describe, handlings_of
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

__all__ = ["period", "period_of", "stem", "read_edits", "write_edits", "gather", "home_names", "write_briefing", "due_briefings", "Written", "KIND_NAMES", "BriefingJob"]

log = logging.getLogger(__name__)

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


#: how many periods of equal length before the previous one show what is always said (the
#: document-frequency rule of :mod:`alerting.briefing.trends`)
BACKGROUND_PERIODS = 8


def _bucket(kind: str, moment: datetime) -> datetime:
    local = moment.astimezone(SHANGHAI)
    if kind == "daily":
        return local.replace(minute=0, second=0, microsecond=0)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _articles(session, start: datetime, end: datetime) -> list[tuple]:
    """(first seen, the level its alert holds, source, title) of every article first seen in
    ``[start, end)`` whose alert is real and not dismissed: the one basis of every count.

    The alert's level counts, not the article's own score: the office's judgement (研判) governs,
    and it is the level the table of stories shows."""
    return session.execute(
        select(AlertArticle.seen_at, Alert.level, AlertArticle.source_id, AlertArticle.title)
        .join(Alert, Alert.id == AlertArticle.alert_id)
        .where(AlertArticle.seen_at >= start, AlertArticle.seen_at < end,
               Alert.state != "dismissed", real_alerts())
        .order_by(AlertArticle.seen_at)).all()


def _unrelated(index, kind: str, start: datetime, end: datetime) -> list[VolumePoint]:
    """Articles the classifier found unrelated (level 0): only the index holds them, and it
    knows them by publication time; they enter no table and no relevant count."""
    if index is None:
        return []
    step = timedelta(hours=1) if kind == "daily" else timedelta(days=1)
    points = []
    for bucket in _buckets(kind, start, end):
        total = index.search(Query(levels=(0,), since=bucket, until=_before(bucket + step), limit=0)).total
        if total:
            points.append(VolumePoint(bucket=bucket, level=0, count=total))
    return points


def _tokens(texts: list[str]) -> list[list[str]]:
    return [tokens(t, backend="rjieba") for t in texts]


def home_names(config: AlertingConfig) -> list[str]:
    """The county's own names (its unit, towns and bodies): where things happen, never a 苗头."""
    unit = config.unit
    for suffix in ("纪委监委", "纪委", "监委"):
        unit = unit.removesuffix(suffix)
    return [n for n in [unit, *config.volume.places, *config.volume.units] if len(n) >= 2]


def _stories(session, start: datetime, end: datetime, deadlines: list[Deadline]) -> list[StoryLine]:
    """Every real, not dismissed alert of level 2-3 first seen in the period, and those first seen
    before it that were still open or had new articles in it (carried over)."""
    active = select(AlertArticle.alert_id).where(AlertArticle.seen_at >= start, AlertArticle.seen_at < end)
    alerts = session.execute(select(Alert).where(
        Alert.level >= 2, Alert.first_seen < end, Alert.state != "dismissed", real_alerts(),
        or_(Alert.first_seen >= start, Alert.state != "closed", Alert.id.in_(active)))
        .order_by(Alert.level.desc(), Alert.first_seen)).scalars().all()
    handled = handlings_of(session, [a.id for a in alerts])
    # the clock a reader must see first: a missed one, else the next still running, else one met
    nearest: dict[str, Deadline] = {}
    for d in sorted(deadlines, key=lambda d: ({"missed": 0, "open": 1}.get(d.status, 2), d.due_at)):
        if d.kind in ("major", "overall"):
            nearest.setdefault(d.alert_id, d)
    return [StoryLine(
        alert_id=a.id, title=a.title, level=a.level, state=STATE_LABELS[a.state], office=a.office,
        first_seen=a.first_seen.astimezone(SHANGHAI), first_source=a.first_source, sources=len(a.sources),
        reposts=max(0, a.articles - 1),
        deadline=nearest[a.id].due_at.astimezone(SHANGHAI) if a.id in nearest else None,
        deadline_status=_status(nearest[a.id]) if a.id in nearest else "none", url=a.url,
        carried=a.first_seen < start, open=a.state != "closed",
        handling=tuple(describe(h) for h in handled.get(a.id, [])))
        for a in alerts]


def gather(store: Store, config: AlertingConfig, kind: str, start: datetime, end: datetime,
           previous_start: datetime, previous_end: datetime, now: datetime, index=None,
           source_names: Mapping[str, str] | None = None, edits: Mapping[str, list[str]] | None = None
           ) -> BriefingData:
    """Everything the briefing of ``[start, end)`` shows, as of ``now``.

    Every count of relevant opinion is of articles first seen in the period (Beijing time) in the
    alert database, at the level of their alert, drills and dismissed alerts left out: the
    totals, the chart, the sources, the rising terms and the stories agree by construction.
    ``index``, when given, adds the unrelated articles (level 0) to the chart. ``source_names``
    maps source ids to the names the reader knows (sources.yaml); ``edits`` replaces the drafted
    sections (``measures``, ``next_steps``) with the office's own wording.
    """
    names = source_names or {}
    with store.session() as session:
        current = _articles(session, start, end)
        before = _articles(session, previous_start, previous_end)
        counts: Counter = Counter()
        for seen_at, level, _, _ in current:
            counts[(_bucket(kind, seen_at), level)] += 1
        volume = [VolumePoint(bucket=b, level=lv, count=n) for (b, lv), n in sorted(counts.items())]
        volume += _unrelated(index, kind, start, end)
        previous = Counter(level for _, level, _, _ in before)
        if index is not None:
            previous[0] = index.search(Query(levels=(0,), since=previous_start,
                                             until=_before(previous_end), limit=0)).total

        # a receipt (回执) is chased, not a time limit of the rules: briefings leave it out
        found = session.execute(select(Deadline, Alert.title).join(Alert, Alert.id == Deadline.alert_id).where(
            Deadline.status != "void", Deadline.kind != "receipt", real_alerts(),
            or_(Deadline.due_at.between(start, end), Deadline.status == "open"),
            Deadline.due_at < end + timedelta(days=1))).all()
        deadlines = [d for d, _ in found]
        titles = {d.alert_id: title for d, title in found}
        stories = _stories(session, start, end, deadlines)
        records = [DeadlineRecord(alert_id=d.alert_id, title=titles.get(d.alert_id, ""), kind=_kind(d),
                                  due=d.due_at.astimezone(SHANGHAI),
                                  done_at=d.done_at.astimezone(SHANGHAI) if d.done_at else None,
                                  status=_status(d), office=d.office)
                   # 本期到期 is what falls due in the period: one still running that falls due
                   # after it is the next briefing's, and is in the stories' 时限 column meanwhile
                   for d in sorted(deadlines, key=lambda d: d.due_at) if start <= d.due_at < end]
        sources = Counter(names.get(source, source) for _, _, source, _ in current)
        open_tasks: list[Task] = []
        tasks = []
        by_office: dict[str, list[Task]] = {}
        for task in session.execute(select(Task).join(Alert, Alert.id == Task.alert_id).where(
                Task.office.in_(config.offices), Task.state.not_in(("void", "cancelled")), real_alerts())).scalars():
            by_office.setdefault(task.office, []).append(task)
        for office in config.offices:
            rows = by_office.get(office, [])
            open_ = [t for t in rows if t.state == "open"]
            open_tasks += open_
            done = [t for t in rows if t.state == "done" and t.done_at and start <= t.done_at < end]
            if open_ or done:
                tasks.append(OfficeTasks(office=office, open=len(open_),
                                         overdue=sum(1 for t in open_ if t.due_at < now), done=len(done)))
        # the periods before the previous one, read at once and split by period
        length = previous_end - previous_start
        background: list[list[str]] = [[] for _ in range(BACKGROUND_PERIODS)]
        for seen_at, *_, title in _articles(session, previous_start - length * BACKGROUND_PERIODS, previous_start):
            # period i is [previous_start - length * (i + 1), previous_start - length * i)
            background[-(-(previous_start - seen_at) // length) - 1].append(title)
        anchor = audit.head(session)
        dismissed = decided_between(session, start, end)
        dismissal_titles = dict(session.execute(select(Alert.id, Alert.title).where(
            Alert.id.in_([d.alert_id for d in dismissed]))).all()) if dismissed else {}
        dismissals = [DismissalLine(
            alert_id=d.alert_id, title=dismissal_titles.get(d.alert_id, ""), level=d.level, reason=d.reason,
            proposed_by=d.proposed_by, proposed_at=d.proposed_at.astimezone(SHANGHAI), state=d.state,
            decided_by=d.decided_by or "", decided_at=d.decided_at.astimezone(SHANGHAI) if d.decided_at else None,
            note=d.note) for d in dismissed]
    headlines = [title for *_, title in current]
    terms = rising_terms(_tokens(headlines), _tokens([title for *_, title in before]), top=10, min_count=2,
                         titles=headlines, home_names=home_names(config),
                         background=[_tokens(period_titles) for period_titles in background if period_titles])
    first_names = [replace(s, first_source=names.get(s.first_source, s.first_source)) for s in stories]
    drafted = drafts.draft(first_names, records, open_tasks, now)
    sections = {**drafted, **{k: v for k, v in (edits or {}).items() if k in drafted}}
    return BriefingData(
        kind=kind, unit=config.unit, period_start=start, period_end=end, previous_start=previous_start,
        previous_end=previous_end, generated_at=now.astimezone(SHANGHAI), volume=volume,
        previous_totals={lv: n for lv, n in previous.items() if n}, stories=first_names,
        rising_terms=terms, sources=[SourceCount(s, n) for s, n in sources.most_common(10)], tasks=tasks,
        deadlines=records, audit_anchor=anchor, dismissals=dismissals,
        measures=sections["measures"], next_steps=sections["next_steps"])


def _status(deadline: Deadline) -> str:
    return deadline.status if deadline.status in ("met", "missed", "open") else "open"


def _kind(deadline: Deadline) -> str:
    return deadline.label.split("#")[0] if deadline.kind == "task" else deadline.label


KIND_NAMES = {"daily": "舆情日报", "weekly": "舆情周报", "range": "舆情通报"}


_STEM = re.compile(r"^(舆情日报|舆情周报|舆情通报)-(\d{4}-\d{2}-\d{2})(?:至(\d{4}-\d{2}-\d{2}))?$")


def stem(kind: str, start: datetime, end: datetime) -> str:
    """The file name of a briefing without suffix: ``舆情日报-2026-11-26``, ``舆情通报-2026-11-01至2026-11-30``."""
    first = start.astimezone(SHANGHAI).date()
    last = (end.astimezone(SHANGHAI) - timedelta(seconds=1)).date()
    return f"{KIND_NAMES[kind]}-{first:%Y-%m-%d}" + (f"至{last:%Y-%m-%d}" if last != first else "")


def period_of(name: str) -> tuple[str, tuple[datetime, datetime, datetime, datetime]]:
    """The kind and period of the briefing named ``name`` (see :func:`stem`); ValueError naming
    the expected shape otherwise."""
    found = _STEM.match(name)
    if not found:
        raise ValueError(f"{name!r} is not a briefing's name; expected e.g. 舆情日报-2026-11-26 or "
                         "舆情通报-2026-11-01至2026-11-30 (yuqing report lists what it wrote)")
    kind = {v: k for k, v in KIND_NAMES.items()}[found.group(1)]
    first = date.fromisoformat(found.group(2))
    if kind == "range":
        return kind, period(kind, start=first, end=date.fromisoformat(found.group(3) or found.group(2)))
    return kind, period(kind, first)


def edits_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.edits.json"


def read_edits(folder: Path, name: str) -> dict[str, list[str]]:
    """The office's wording of the drafted sections of briefing ``name`` ({} when none); a file
    that cannot be read is an error naming it, never silently the draft."""
    path = edits_path(folder, name)
    if not path.exists():
        return {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not readable as the edited sections ({exc}); fix or delete it, "
                         "then make the briefing again") from None
    if not isinstance(loaded, dict) or not all(
            k in drafts.SECTIONS and isinstance(v, list) and all(isinstance(x, str) for x in v)
            for k, v in loaded.items()):
        raise ValueError(f"{path}: expected {{\"measures\": [...], \"next_steps\": [...]}} with text items")
    return loaded


def write_edits(folder: Path, name: str, edits: Mapping[str, list[str]]) -> Path:
    """Keep the office's wording of sections (merged over earlier edits) for briefing ``name``."""
    merged = {**read_edits(folder, name), **{k: [x.strip() for x in v if x.strip()] for k, v in edits.items()}}
    folder.mkdir(parents=True, exist_ok=True)
    path = edits_path(folder, name)
    path.write_text(json.dumps(merged, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


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
    name = stem(data.kind, data.period_start, data.period_end)
    html = render_html(data)
    html_path = out_dir / f"{name}.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path = render_pdf(html, out_dir / f"{name}.pdf")
    png_path = None
    if png:
        png_path = out_dir / f"{name}.png"
        render_png_page1(pdf_path, png_path)
    if anchor_file is not None and data.audit_anchor is not None:
        seq, head = data.audit_anchor
        anchors.write(anchor_file, anchors.Anchor(data.generated_at, seq, head, f"briefing {name}"))
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
    a fresh index for each briefing (closed after it), since the job runs for weeks, and
    ``source_names`` the sources' names (source id -> name) read again for each briefing, since
    operators edit the sources file while it runs: the scheduled briefing names a source as
    ``yuqing report`` does, not by its id.

    A system that never made a briefing (no PDF in ``out_dir``) does not make, at its first start,
    the ones whose time had already come: a new installation would otherwise open with a daily
    (and on Mondays a weekly) briefing of a period it did not watch. Once one was made, a restart
    after the scheduled time catches up as before.
    """

    def __init__(self, store: Store, config: AlertingConfig, open_index: Callable[[], Index], out_dir: Path,
                 anchors: Path | None = None, source_names: Callable[[], Mapping[str, str]] = dict):
        self.store = store
        self.config = config
        self.open_index = open_index
        self.source_names = source_names
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
            name = stem(kind, start, end)
            if (self.out_dir / f"{name}.pdf").exists():
                continue
            if self._before_first_start(kind, now):
                if now == self._started:
                    log.info("briefing_skipped kind=%s: its time came before this first start; "
                             "`yuqing report %s` makes it by hand", kind, kind)
                continue
            index = self.open_index()
            try:
                data = gather(self.store, config, kind, start, end, prev_start, prev_end, now, index,
                              source_names=self.source_names(), edits=read_edits(self.out_dir, name))
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

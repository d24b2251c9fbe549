"""What a briefing (例会通报) says, as plain frozen records: the renderer's only input.

The alert database and the search index fill a :class:`BriefingData`; :mod:`alerting.briefing.render`
turns it into HTML and PDF. Nothing here reads a database or formats text, so a briefing can be
built by hand in a test (:func:`alerting.briefing.sample.sample_data`) and rendered the same way.

Conventions every producer must follow (checked in ``__post_init__``, which raises ``ValueError``
naming the field):

- All datetimes are timezone-aware; the renderer shows them on the Beijing clock (Asia/Shanghai).
- Periods are half-open: ``[period_start, period_end)``; the previous period is the one the change
  is measured against (the day before for a daily briefing, the week before for a weekly one).
- Levels are the classifier's: 0 无关 (collected, not relevant), 1 一般, 2 较大, 3 重大.
- ``VolumePoint.bucket`` is the start of an hour (``daily``) or of a day (``weekly``/``range``) on
  the Beijing clock; buckets with no articles may be left out, the chart fills them with zeros.
- Lists are rendered in the order given, except stories, which the renderer sorts most serious
  first. The records are frozen but the lists inside are ordinary lists: do not mutate them after
  building the briefing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = [
    "LEVELS",
    "LEVEL_NAMES",
    "BriefingData",
    "Change",
    "DismissalLine",
    "DeadlineRecord",
    "OfficeTasks",
    "SourceCount",
    "StoryLine",
    "TermTrend",
    "VolumePoint",
]

#: The classifier's levels and the words the commission uses for them.
LEVEL_NAMES: dict[int, str] = {0: "无关", 1: "一般", 2: "较大", 3: "重大"}
LEVELS: tuple[int, ...] = (0, 1, 2, 3)

Kind = Literal["daily", "weekly", "range"]
DeadlineStatus = Literal["met", "missed", "open"]


def _aware(owner: str, name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{owner}.{name}: {value!r} has no time zone; use Asia/Shanghai times")


def _level(owner: str, value: int) -> None:
    if value not in LEVELS:
        raise ValueError(f"{owner}.level: {value!r} is not one of 0, 1, 2, 3")


@dataclass(frozen=True)
class VolumePoint:
    """Articles of one level first seen in one time bucket (an hour or a day)."""

    bucket: datetime
    level: int
    count: int

    def __post_init__(self) -> None:
        _aware("VolumePoint", "bucket", self.bucket)
        _level("VolumePoint", self.level)
        if self.count < 0:
            raise ValueError(f"VolumePoint.count: {self.count} is negative")


@dataclass(frozen=True)
class StoryLine:
    """One important story (重要舆情): an alert with its story cluster and handling state.

    ``state`` is the Chinese label of the alert's workflow state (待研判, 处置中, 已办结 ...), shown
    as given. ``deadline`` is the nearest deadline still relevant to it and ``deadline_status`` its
    outcome; ``'none'`` when the story has no deadline. ``url`` is the first article's address; the
    renderer links it only when it is ``http(s)``.
    """

    alert_id: str
    title: str
    level: int
    state: str
    office: str
    first_seen: datetime
    first_source: str
    sources: int
    reposts: int
    deadline: datetime | None
    deadline_status: Literal["met", "missed", "open", "none"]
    url: str | None = None
    #: first seen before the period and still open or spreading in it (上期延续)
    carried: bool = False
    #: not yet closed (办结)
    open: bool = True
    #: what was done about it (舆情处置), one line per record, oldest first (alerting.handling)
    handling: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _aware("StoryLine", "first_seen", self.first_seen)
        _aware("StoryLine", "deadline", self.deadline)
        _level("StoryLine", self.level)
        if self.deadline_status not in ("met", "missed", "open", "none"):
            raise ValueError(f"StoryLine.deadline_status: {self.deadline_status!r} is unknown")


@dataclass(frozen=True)
class TermTrend:
    """A term rising against the previous period (苗头性、倾向性), from :func:`trends.rising_terms`.

    ``count`` and ``previous`` are document frequencies (articles mentioning the term) in the two
    periods; ``score`` orders the terms, larger is more notable.
    """

    term: str
    count: int
    previous: int
    score: float
    #: headlines of the period that contain the term (up to three), so the reader sees what it is
    examples: tuple[str, ...] = ()

    @property
    def is_new(self) -> bool:
        """Not seen at all in the previous period (新出现)."""
        return self.previous == 0


@dataclass(frozen=True)
class SourceCount:
    """Relevant articles (levels 1-3) a source carried in the period."""

    source: str
    count: int


@dataclass(frozen=True)
class OfficeTasks:
    """An office's tasks (分解任务) when the briefing is made.

    ``open`` counts the tasks in progress, ``overdue`` those of them already past their deadline
    (a subset of ``open``), ``done`` those finished in the period.
    """

    office: str
    open: int
    overdue: int
    done: int


@dataclass(frozen=True)
class DeadlineRecord:
    """One time-limited duty (e.g. 1小时上报, 限时核实上报): due in the period, or still open.

    ``status`` is authoritative: ``'missed'`` covers done late and not done by ``due``; ``'open'``
    is still within its time limit when the briefing is made. The renderer does not re-derive it
    from the times.
    """

    alert_id: str
    title: str
    kind: str
    due: datetime
    done_at: datetime | None
    status: DeadlineStatus
    #: the office that owned the duty (not the alert's office: a verification is the warned
    #: office's, an upward report the coordinating office's); "" when unknown
    office: str = ""

    def __post_init__(self) -> None:
        _aware("DeadlineRecord", "due", self.due)
        _aware("DeadlineRecord", "done_at", self.done_at)
        if self.status not in ("met", "missed", "open"):
            raise ValueError(f"DeadlineRecord.status: {self.status!r} is unknown")

    def lateness(self, now: datetime) -> float:
        """Hours past ``due``: until ``done_at``, or until ``now`` when not done. 0 when on time."""
        end = self.done_at or now
        return max(0.0, (end - self.due).total_seconds() / 3600)


@dataclass(frozen=True)
class DismissalLine:
    """A request to dismiss an alert as a false alarm (排除误报) in the period, and its outcome:
    ``state`` proposed (待组长决定), approved (组长同意), returned (退回) or direct (一般事项直接排除)."""

    alert_id: str
    title: str
    level: int
    reason: str
    proposed_by: str
    proposed_at: datetime
    state: str
    decided_by: str = ""
    decided_at: datetime | None = None
    note: str = ""

    def __post_init__(self) -> None:
        _aware("DismissalLine", "proposed_at", self.proposed_at)
        _aware("DismissalLine", "decided_at", self.decided_at)
        _level("DismissalLine.level", self.level)

    @property
    def state_label(self) -> str:
        return {"proposed": "待组长决定", "approved": "组长同意", "returned": "已退回", "direct": "直接排除"}.get(
            self.state, self.state)


@dataclass(frozen=True)
class Change:
    """A count against the previous period's. ``ratio`` is ``None`` when there was nothing before."""

    current: int
    previous: int

    @property
    def delta(self) -> int:
        return self.current - self.previous

    @property
    def ratio(self) -> float | None:
        """Relative change, 0.25 for +25 %; ``None`` when the previous count is 0."""
        return None if self.previous == 0 else self.delta / self.previous


@dataclass(frozen=True)
class BriefingData:
    """Everything one briefing shows; see the module docstring for the conventions.

    ``issue`` is the number printed as 第…期; when ``None`` it is derived from the period (day of
    the year for a daily briefing, ISO week for a weekly one, none for a range). ``previous_totals``
    maps level to article count in the previous period (missing levels count 0). ``audit_anchor``
    is the audit log's entry count and head hash as the briefing was made (printed at its foot).
    """

    kind: Kind
    unit: str
    period_start: datetime
    period_end: datetime
    previous_start: datetime
    previous_end: datetime
    generated_at: datetime
    volume: list[VolumePoint] = field(default_factory=list)
    previous_totals: dict[int, int] = field(default_factory=dict)
    stories: list[StoryLine] = field(default_factory=list)
    rising_terms: list[TermTrend] = field(default_factory=list)
    sources: list[SourceCount] = field(default_factory=list)
    tasks: list[OfficeTasks] = field(default_factory=list)
    deadlines: list[DeadlineRecord] = field(default_factory=list)
    issue: int | None = None
    #: the audit log when the briefing was made: (entries, head hash), printed so that the
    #: briefing, which leaves the building, anchors the log (alerting.anchors)
    audit_anchor: tuple[int, str] | None = None
    #: every dismissal proposed or decided in the period (排除误报), whatever came of it
    dismissals: list[DismissalLine] = field(default_factory=list)
    #: 预控处置意见 and 下一步工作: drafted from the open items (alerting.drafts), then worded by
    #: the office before the 组长 approves; one paragraph per item
    measures: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.kind not in ("daily", "weekly", "range"):
            raise ValueError(f"BriefingData.kind: {self.kind!r} is not daily, weekly or range")
        for name in ("period_start", "period_end", "previous_start", "previous_end", "generated_at"):
            _aware("BriefingData", name, getattr(self, name))
        if not self.period_start < self.period_end:
            raise ValueError("BriefingData: period_start must be before period_end")
        if not self.previous_start <= self.previous_end:
            raise ValueError("BriefingData: previous_start must not be after previous_end")
        for level in self.previous_totals:
            _level("BriefingData.previous_totals", level)

    # -- volume ------------------------------------------------------------------------------

    @property
    def totals(self) -> dict[int, int]:
        """Articles per level 0..3 in the period (every level present)."""
        counts = Counter()
        for point in self.volume:
            counts[point.level] += point.count
        return {level: counts[level] for level in LEVELS}

    @property
    def previous(self) -> dict[int, int]:
        """:attr:`previous_totals` with every level 0..3 present."""
        return {level: self.previous_totals.get(level, 0) for level in LEVELS}

    @property
    def collected(self) -> int:
        """Every article collected in the period, relevant or not."""
        return sum(self.totals.values())

    @property
    def relevant(self) -> int:
        """Articles of levels 1-3 (涉纪检监察)."""
        return sum(n for level, n in self.totals.items() if level > 0)

    def change(self, level: int | None = None) -> Change:
        """The period against the previous one, for one level or (``None``) for levels 1-3."""
        if level is None:
            now, before = self.relevant, sum(n for lv, n in self.previous.items() if lv > 0)
        else:
            _level("BriefingData.change", level)
            now, before = self.totals[level], self.previous[level]
        return Change(now, before)

    @property
    def bucket_unit(self) -> Literal["hour", "day"]:
        """The width of a volume bucket: hours for a daily briefing, days otherwise."""
        return "hour" if self.kind == "daily" else "day"

    # -- duties ------------------------------------------------------------------------------

    @property
    def deadline_counts(self) -> dict[str, int]:
        """Deadlines by status: ``{'met': .., 'missed': .., 'open': ..}``."""
        counts = Counter(record.status for record in self.deadlines)
        return {status: counts[status] for status in ("met", "missed", "open")}

    @property
    def missed_deadlines(self) -> list[DeadlineRecord]:
        """The missed ones, earliest due first: the late reports the briefing names."""
        return sorted((r for r in self.deadlines if r.status == "missed"), key=lambda r: r.due)

    @property
    def task_totals(self) -> OfficeTasks:
        """All offices together, as one row named 合计."""
        return OfficeTasks(
            "合计",
            sum(t.open for t in self.tasks),
            sum(t.overdue for t in self.tasks),
            sum(t.done for t in self.tasks),
        )

    # -- stories -----------------------------------------------------------------------------

    @property
    def story_levels(self) -> dict[int, int]:
        """Stories (重要舆情, rows of the table) by level 3, 2, 1 (every level present)."""
        counts = Counter(s.level for s in self.stories)
        return {level: counts[level] for level in (3, 2, 1)}

    @property
    def carried_stories(self) -> int:
        """Stories first seen before the period (上期延续)."""
        return sum(1 for s in self.stories if s.carried)

    def office_of(self, alert_id: str) -> str:
        """The office handling an alert, from the stories; "" when the story is not listed."""
        for story in self.stories:
            if story.alert_id == alert_id:
                return story.office
        return ""

"""``alerting.yaml``: offices, levels and routing, spread and volume triggers, clocks, notifications.

Every field has a default drawn from the commission's rules (舆情应对处置实施办法), so the file only
needs what differs locally (the unit's name, its offices' channels). Mistakes are reported as
``FILE:LINE:COL: key: what is wrong`` (see :mod:`pipeline.yamlfile`). Durations are written as
``90s``, ``30m``, ``1h`` or ``1h30m``.

The shipped example is ``alerting/alerting.example.yaml``; ``yuqing alerts config-check FILE``
validates a file.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from alerting.directory import Unit, check_directory, default_directory
from alerting.notify.config import ChannelConfig
from alerting.people import Duty, Person
from pipeline.errors import ConfigError
from pipeline.yamlfile import read_mapping, validation_problems

__all__ = ["AlertingConfig", "load_alerting_config", "parse_duration", "DEFAULT_OFFICES", "STATE_LABELS",
           "TASK_LABELS"]

#: the offices the rules name; the list in the YAML may add or rename
DEFAULT_OFFICES = ("宣传部", "信访室", "案管室", "监督检查室", "审查调查室", "巡察机构", "派驻纪检监察组")

#: workflow states and how they are written in Chinese (briefings, console, CLI)
STATE_LABELS = {
    "new": "新发现",
    "judged": "初步研判",
    "warned": "已预警",
    "verifying": "核实中",
    "deep_judged": "深度研判",
    "proposed": "处置意见",
    "handling": "处置上报",
    "closed": "已办结",
    "dismissed": "已排除",
}

#: task states (核实, 会商任务) as the offices read them
#: a task of a dismissed alert is ``void`` (``cancelled`` in SQLite files of older versions; the
#: column holds 8 characters, which PostgreSQL enforces)
TASK_LABELS = {"open": "办理中", "done": "已完成", "void": "已取消", "cancelled": "已取消"}

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(value: Any) -> Any:
    """``90s``, ``30m``, ``1h``, ``1h30m`` as a timedelta; ValueError saying how to write one."""
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if not match or not any(match.groups()):
            raise ValueError(f"{value!r} is not a duration; write e.g. 90s, 30m, 1h or 1h30m")
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return timedelta(hours=hours, minutes=minutes, seconds=seconds)
    if isinstance(value, (int, float)):
        raise ValueError(f"{value!r} has no unit; write e.g. 90s, 30m or 1h")
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _clock_time(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a time of day; write HH:MM, e.g. 08:30") from None
    if isinstance(value, int):  # YAML 1.1 reads 08:30 unquoted as a sexagesimal number
        return time(value // 60 % 24, value % 60)
    return value


ClockTime = Annotated[time, BeforeValidator(_clock_time)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Model):
    """When a routing rule applies: every given condition must hold (an empty one always holds)."""

    min_level: int | None = Field(default=None, ge=0, le=3, description="the classifier's level")
    min_relevance: float | None = Field(default=None, ge=0, le=1)
    min_sensitivity: float | None = Field(default=None, ge=0, le=1)
    rules_any: list[str] = Field(default_factory=list, description="names of keyword schemes")
    sources_any: list[str] = Field(default_factory=list, description="source ids; '*' at the end is a prefix")
    departments_any: list[str] = Field(default_factory=list, description="the classifier's office")


class RoutingRule(_Model):
    """Which level an item gets and which office it goes to. The level is the highest that any
    matching rule raises it to (never lowered); the office is the first matching rule's office."""

    name: str = Field(min_length=1)
    when: Condition = Field(default_factory=Condition)
    raise_to: int | None = Field(default=None, ge=1, le=3)
    office: str | None = None
    emergency: bool = Field(default=False, description="紧急: report at once, not within the hour")
    overall: bool = Field(default=False, description="可能影响全局: the 2-hour upward report applies")


class SpreadRule(_Model):
    """A story whose articles reach ``articles`` within ``within`` is raised to ``raise_to``."""

    articles: int = Field(ge=2)
    within: Duration
    raise_to: int = Field(ge=1, le=3)


class EngagementRule(_Model):
    """A story whose articles together show ``at_least`` of ``counter`` (the reposts, comments,
    likes or reads their pages display when fetched) is raised to ``raise_to``."""

    counter: Literal["reposts", "comments", "likes", "reads"]
    at_least: int = Field(ge=1)
    raise_to: int = Field(ge=1, le=3)


def _default_engagement() -> list[EngagementRule]:
    # How far a county's item travels: a board post read tens of thousands of times or a weibo
    # reposted thousands of times has left the county. Likes say agreement, not reach: none.
    return [
        EngagementRule(counter="reposts", at_least=500, raise_to=2),
        EngagementRule(counter="comments", at_least=300, raise_to=2),
        EngagementRule(counter="reads", at_least=30_000, raise_to=2),
        EngagementRule(counter="reposts", at_least=10_000, raise_to=3),
    ]


class Jurisdiction(_Model):
    """Where the commission answers for (属地): which items are local, and whether a 重大 item from
    elsewhere starts the reporting clocks. The level itself stays what the content says.

    ``local`` names the county and its towns (a name and its short form both count:
    ``会昌`` covers 会昌县); ``region`` the city and province above it, whose items are near but
    not this commission's to report. An item naming no place at all may well be local: it is
    treated as local for the clocks (``unknown``)."""

    local: list[str] = Field(default_factory=lambda: [
        "会昌", "文武坝镇", "筠门岭镇", "西江镇", "周田镇", "麻州镇", "庄口镇", "清溪乡", "右水乡", "高排乡",
        "晓龙乡", "珠兰乡", "洞头乡", "中村乡", "站塘乡", "永隆乡", "富城乡", "小密乡", "庄埠乡"], min_length=1)
    region: list[str] = Field(default_factory=lambda: ["赣州", "赣南", "江西"])
    #: which items' 重大 and 可能影响全局 start the 1-hour and 2-hour clocks; the others are shown
    #: as 参考 (for reference) with their level
    clocks_for: Literal["local", "region", "all"] = "local"


class VolumeSettings(_Model):
    """The volume trigger: a sudden spike of articles naming a place, unit or person that no single
    story explains (:mod:`alerting.volume`).

    The articles naming a watched name in any window of ``window`` (the largest story counted
    once) are compared with the name's usual count for such a window over ``baseline``; a spike
    (at least ``min_articles`` and ``factor`` times the usual) is held by one volume alert while
    it lasts, whichever of its names found it.
    """

    enabled: bool = True
    places: list[str] = Field(default_factory=lambda: ["会昌", "筠门岭", "文武坝", "周田", "麻州", "庄口", "西江", "站塘", "右水", "永隆", "高排", "洞头", "小密", "富城", "晓龙", "清溪", "中村", "珠兰", "庄埠"])
    units: list[str] = Field(default_factory=lambda: ["县纪委", "县监委", "纪委监委", "巡察组", "县政府", "派出所", "城管"])
    persons: list[str] = Field(default_factory=list)
    window: Duration = timedelta(hours=1)
    baseline: Duration = timedelta(hours=24)
    factor: float = Field(default=3.0, gt=1)
    min_articles: int = Field(default=5, ge=2)
    level: int = Field(default=2, ge=1, le=3)
    office: str = "宣传部"


class ReportClock(_Model):
    """An upward report that must be made within ``within`` of the story being first seen."""

    within: Duration
    recipients: list[str] = Field(min_length=1)
    label: str


class Clocks(_Model):
    major: ReportClock = Field(default_factory=lambda: ReportClock(
        within=timedelta(hours=1), label="1小时上报",
        recipients=["市纪委监委宣传部", "县委", "县委宣传部"]))
    overall: ReportClock = Field(default_factory=lambda: ReportClock(
        within=timedelta(hours=2), label="2小时逐级上报",
        recipients=["市纪委监委宣传部", "省纪委监委宣传部", "中央纪委国家监委宣传部"]))
    #: 紧急: "report at once" leaves this much time from the moment the item is marked urgent
    emergency: Duration = timedelta(minutes=15)
    #: a clock an alert comes under after it was opened (raised to 重大 by its spread or a
    #: judgement, marked 可能影响全局 later) runs from that moment: the item was found to be one
    #: then ("raise"); or from when the story was first seen, leaving at least ``min_left``
    raised_from: Literal["raise", "first_seen"] = "raise"
    min_left: Duration = Field(default=timedelta(minutes=30),
                               description="with raised_from: first_seen, the least time a raise leaves")
    reminders: list[Duration] = Field(default_factory=lambda: [timedelta(minutes=30), timedelta(minutes=10)])
    verification: Duration = Field(default=timedelta(hours=1), description="time limit for 核实")
    task_default: Duration = Field(default=timedelta(hours=2), description="会商 task default")
    #: an upward report's receipt (回执) is to be confirmed within this; a reminder goes out when not
    receipt: Duration = Field(default=timedelta(minutes=30), description="confirm a report's receipt within")
    #: a clue handed over (线索移交) is to be acknowledged by the receiving office within this
    clue: Duration = Field(default=timedelta(hours=2), description="the receiving office signs for a clue within")

    def upward(self, kind: str) -> ReportClock:
        """The report clock of an upward-report deadline's ``kind`` (``major`` or ``overall``)."""
        return self.major if kind == "major" else self.overall

    def due(self, within: timedelta, first_seen: datetime, raised_at: datetime | None) -> datetime:
        """When a clock of ``within`` falls due: from ``first_seen`` for a clock the alert had when
        it opened (``raised_at`` None), else by ``raised_from`` (see above)."""
        if raised_at is None:
            return first_seen + within
        if self.raised_from == "raise":
            return max(first_seen, raised_at) + within
        return max(first_seen + within, raised_at + self.min_left)


class Route(_Model):
    """Who gets what: alerts of these offices and levels go to these channels."""

    offices: list[str] = Field(default_factory=list, description="empty: every office")
    min_level: int = Field(default=1, ge=1, le=3)
    max_level: int = Field(default=3, ge=1, le=3)
    channels: list[str] = Field(min_length=1)
    mode: Literal["immediate", "digest"] = "immediate"


class QuietHours(_Model):
    start: ClockTime
    end: ClockTime
    #: quiet hours only ever hold back items up to this level; 重大 (3) is never held
    max_level: int = Field(default=1, ge=1, le=2)


class Notify(_Model):
    channels: list[ChannelConfig] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)
    #: channels of the coordinating group's head (组长): escalations of missed deadlines
    leader_channels: list[str] = Field(default_factory=list)
    digest_times: list[ClockTime] = Field(default_factory=lambda: [time(8, 30), time(17, 30)])
    quiet_hours: QuietHours | None = None
    #: at most one immediate level-1 message per channel in this interval (level >= 2: never held)
    min_interval: Duration = timedelta(minutes=0)
    #: retry a failed delivery after 30 s, doubling up to this
    max_retry_interval: Duration = timedelta(minutes=30)
    #: an urgent message (its clock running, or 重大) is retried at this fixed pace instead
    urgent_retry_interval: Duration = timedelta(seconds=20)

    @model_validator(mode="after")
    def _known_channels(self):
        names = [c.name for c in self.channels]
        twice = {n for n in names if names.count(n) > 1}
        if twice:
            raise ValueError(f"channel names must be unique; used twice: {', '.join(sorted(twice))}")
        names = set(names)
        for where, wanted in [("leader_channels", self.leader_channels)] + [
            (f"routes[{i}].channels", r.channels) for i, r in enumerate(self.routes)
        ]:
            for name in wanted:
                if name not in names:
                    raise ValueError(f"{where}: channel {name!r} is not defined under notify.channels"
                                     + (f" (defined: {', '.join(sorted(names))})" if names else ""))
        return self


class Briefings(_Model):
    """Scheduled briefings (例会通报): made by the ticker, announced on ``channels``."""

    daily_at: ClockTime | None = Field(default=time(7, 30), description="yesterday's daily briefing")
    weekly_at: ClockTime | None = Field(default=time(8, 0), description="last week's, on Mondays")
    channels: list[str] = Field(default_factory=list)


def _default_routing() -> list[RoutingRule]:
    return [
        RoutingRule(name="案件通报归案管室", when=Condition(rules_any=["案件通报"]), office="案管室"),
        RoutingRule(name="针对纪检监察机关的指控可能影响全局",
                    when=Condition(rules_any=["针对纪检监察机关的指控"]), overall=True),
    ]


class AlertingConfig(_Model):
    """The whole alerting configuration (see the module docstring)."""

    unit: str = "会昌县纪委监委"
    offices: list[str] = Field(default_factory=lambda: list(DEFAULT_OFFICES), min_length=1)
    #: the office of 协调小组办公室: receives every alert, routes it, runs the clocks
    coordinating_office: str = "宣传部"
    routing: list[RoutingRule] = Field(default_factory=_default_routing)
    spread: list[SpreadRule] = Field(default_factory=lambda: [
        SpreadRule(articles=10, within=timedelta(hours=1), raise_to=2),
        SpreadRule(articles=50, within=timedelta(hours=1), raise_to=3),
    ])
    #: the spread counters the story's pages show (summed over its articles) raise it too
    engagement: list[EngagementRule] = Field(default_factory=_default_engagement)
    volume: VolumeSettings = Field(default_factory=VolumeSettings)
    jurisdiction: Jurisdiction = Field(default_factory=Jurisdiction)
    clocks: Clocks = Field(default_factory=Clocks)
    notify: Notify = Field(default_factory=Notify)
    briefings: Briefings = Field(default_factory=Briefings)
    #: the people who answer for the work (责任人) and the duty roster (值班): alerting.people
    people: list[Person] = Field(default_factory=list)
    duty: list[Duty] = Field(default_factory=list)
    #: the units reported to and worked with (报送单位、协同单位): alerting.directory
    directory: list[Unit] = Field(default_factory=default_directory)
    #: address of the web console, put in messages so a reader can open the alert
    console_url: str | None = None

    @model_validator(mode="after")
    def _known_offices(self):
        known = set(self.offices)
        named = [("coordinating_office", self.coordinating_office), ("volume.office", self.volume.office)]
        named += [(f"routing[{i}].office", r.office) for i, r in enumerate(self.routing) if r.office]
        for i, route in enumerate(self.notify.routes):
            named += [(f"notify.routes[{i}].offices", o) for o in route.offices]
        defined = {c.name for c in self.notify.channels}
        for name in self.briefings.channels:
            if name not in defined:
                raise ValueError(f"briefings.channels: channel {name!r} is not defined under notify.channels")
        named += [(f"people[{i}].office", p.office) for i, p in enumerate(self.people)]
        named += [(f"duty[{i}].office", d.office) for i, d in enumerate(self.duty)]
        for where, office in named:
            if office not in known:
                raise ValueError(f"{where}: {office!r} is not one of the offices ({', '.join(self.offices)})")
        self._check_people(defined)
        self._check_directory()
        return self

    def _check_directory(self) -> None:
        check_directory(self.directory)
        reportable = {u.name for u in self.directory if u.kind != "partner"}
        for clock in ("major", "overall"):
            for name in self.clocks.upward(clock).recipients:
                if name not in reportable:
                    raise ValueError(f"clocks.{clock}.recipients: {name!r} is not a unit of the directory that "
                                     f"can be reported to ({', '.join(sorted(reportable))}); add it under "
                                     "directory: with its kind (upward, party or propaganda)")

    def _check_people(self, channels: set[str]) -> None:
        names = [p.name for p in self.people]
        twice = {n for n in names if names.count(n) > 1}
        if twice:
            raise ValueError(f"people: names must be unique; listed twice: {', '.join(sorted(twice))}")
        offices = {p.name: p.office for p in self.people}
        for i, p in enumerate(self.people):
            unknown = [c for c in p.channels if c not in channels]
            if unknown:
                raise ValueError(f"people[{i}].channels: {', '.join(unknown)} not defined under notify.channels")
        for i, d in enumerate(self.duty):
            if d.person not in offices:
                raise ValueError(f"duty[{i}].person: {d.person!r} is not under people (name, office ...)")
            if offices[d.person] != d.office:
                raise ValueError(f"duty[{i}]: {d.person} is of {offices[d.person]}, not {d.office}")
            if d.end < d.start:
                raise ValueError(f"duty[{i}]: 'to' ({d.end}) is before 'from' ({d.start})")


def load_alerting_config(path: str | Path | None) -> AlertingConfig:
    """Read and validate ``path``; ``None`` gives the defaults. Raises :class:`ConfigError`."""
    if path is None:
        return AlertingConfig()
    data, marks = read_mapping(path, "settings (unit, offices, routing, clocks, notify ...)",
                               "fix alerting.file in yuqing.yaml (or YUQING_ALERTING_FILE)")
    try:
        return AlertingConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, marks, AlertingConfig)) from None

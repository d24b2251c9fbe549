"""From a scored article to an alert's level and office, and when a story's spread raises it.

Levels only go up: the classifier's level is the floor, each matching routing rule may raise it,
and so may the spread rules as reposts arrive. The office is the first matching rule's office, else
the classifier's office, else the coordinating office (协调小组办公室 sits in 宣传部).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from alerting.config import AlertingConfig, Condition, EngagementRule, SpreadRule
from pipeline.records import ScoredArticle

__all__ = ["Proposal", "Reason", "Routed", "propose", "route", "spread_level", "engagement_level",
           "story_engagement", "LEVEL_NAMES", "COUNTER_NAMES"]

LEVEL_NAMES = {0: "无关", 1: "一般", 2: "较大", 3: "重大"}
#: the spread counters as the console and the reasons name them
COUNTER_NAMES = {"reposts": "转发", "comments": "评论", "likes": "点赞", "reads": "阅读"}


@dataclass(frozen=True)
class Reason:
    """One reason for an alert's level, office or urgency: what kind of reason it is, and the words
    the office reads (``紧急:规则名``). The alert keeps the words; the code decides by ``kind``."""

    kind: Literal["model", "rule", "route", "office", "emergency", "overall", "spread", "volume", "proposed"]
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Routed:
    """An article's level, office and urgency after the routing rules, with the reasons."""

    level: int
    office: str
    reasons: list[Reason] = field(default_factory=list)
    emergency: bool = False
    overall: bool = False

    def reason(self, kind: str) -> Reason | None:
        """The first reason of ``kind`` (None when there is none)."""
        return next((r for r in self.reasons if r.kind == kind), None)


def _matches(when: Condition, article: ScoredArticle) -> bool:
    if when.min_level is not None and article.level < when.min_level:
        return False
    if when.min_relevance is not None and article.relevance < when.min_relevance:
        return False
    if when.min_sensitivity is not None and article.sensitivity < when.min_sensitivity:
        return False
    if when.rules_any and not set(when.rules_any) & set(article.matched_rules):
        return False
    if when.departments_any and article.department not in when.departments_any:
        return False
    if when.sources_any and not any(
        article.source_id.startswith(s[:-1]) if s.endswith("*") else article.source_id == s
        for s in when.sources_any
    ):
        return False
    return True


def route(article: ScoredArticle, config: AlertingConfig) -> Routed:
    routed = Routed(level=article.level, office="", reasons=[Reason("model", f"模型判定:{LEVEL_NAMES[article.level]}")])
    routed.reasons += [Reason("rule", f"规则:{name}") for name in article.matched_rules]
    for rule in config.routing:
        if not _matches(rule.when, article):
            continue
        if rule.raise_to is not None and rule.raise_to > routed.level:
            routed.level = rule.raise_to
            routed.reasons.append(Reason("route", f"路由:{rule.name}→{LEVEL_NAMES[rule.raise_to]}"))
        if rule.office and not routed.office:
            routed.office = rule.office
            routed.reasons.append(Reason("office", f"分办:{rule.name}→{rule.office}"))
        if rule.emergency and not routed.emergency:
            routed.emergency = True
            routed.reasons.append(Reason("emergency", f"紧急:{rule.name}"))
        if rule.overall and not routed.overall:
            routed.overall = True
            routed.reasons.append(Reason("overall", f"可能影响全局:{rule.name}"))
    if not routed.office:
        routed.office = article.department if article.department in config.offices else config.coordinating_office
    return routed


@dataclass(frozen=True)
class Proposal:
    """An office's own level for an item it hands in (the rules: every office that finds opinion
    reports it to the coordinating office). ``level`` None: no level proposed."""

    office: str
    level: int | None = None
    reason: str = ""


def propose(routed: Routed, proposal: Proposal) -> Routed:
    """The proposal recorded beside the model's level; the higher governs, and the reason says
    which (报送建议:信访室→较大（理由）, or that the model's level was higher and kept)."""
    if proposal.level is None:
        routed.reasons.append(Reason("proposed", f"报送:{proposal.office}（未建议级别）"))
        return routed
    why = f"（{proposal.reason}）" if proposal.reason else ""
    name = LEVEL_NAMES[proposal.level]
    if proposal.level > routed.level:
        routed.level = proposal.level
        routed.reasons.append(Reason("proposed", f"报送建议:{proposal.office}→{name}{why}，高于模型判定，从高"))
    else:
        routed.reasons.append(Reason("proposed", f"报送建议:{proposal.office}→{name}{why}，"
                                                 f"不高于模型判定（{LEVEL_NAMES[routed.level]}），从高"))
    return routed


def spread_level(rules: list[SpreadRule], times: list[datetime], at: datetime) -> tuple[int, Reason] | None:
    """The highest level the spread rules give a story when one of its articles was seen at ``at``:
    a rule holds when some window of its length that holds ``at`` holds its number of the story's
    articles. ``times``: when the story's articles were seen (sorted, this one included), at
    least those within the longest rule's length of ``at`` on either side. Levels only go up, so
    only the windows an article joins can raise a story: this finds a raise whatever order the
    articles arrive in."""
    best: tuple[int, Reason] | None = None
    for rule in rules:
        count = _fullest_window(times, at, rule.within)
        if count >= rule.articles and (best is None or rule.raise_to > best[0]):
            minutes = int(rule.within.total_seconds() // 60)
            best = (rule.raise_to, Reason("spread", f"扩散:{minutes}分钟内{count}篇→{LEVEL_NAMES[rule.raise_to]}"))
    return best


def story_engagement(spreads: list[dict[str, int]]) -> dict[str, int]:
    """A story's reach: each counter summed over its articles (each article's counters as its
    page showed them when fetched). Reposts of one post on several platforms add up."""
    total: dict[str, int] = {}
    for spread in spreads:
        for key, value in (spread or {}).items():
            if key in COUNTER_NAMES and isinstance(value, int) and value > 0:
                total[key] = total.get(key, 0) + value
    return total


def engagement_level(rules: list[EngagementRule], total: dict[str, int]) -> tuple[int, Reason] | None:
    """The highest level the engagement rules give a story whose articles show ``total``
    (:func:`story_engagement`), with the counter that earned it."""
    best: tuple[int, Reason] | None = None
    for rule in rules:
        shown = total.get(rule.counter, 0)
        if shown >= rule.at_least and (best is None or rule.raise_to > best[0]):
            best = (rule.raise_to, Reason("spread", f"扩散:{COUNTER_NAMES[rule.counter]}合计{shown:,}"
                                                    f"→{LEVEL_NAMES[rule.raise_to]}"))
    return best


def _fullest_window(times: list[datetime], at: datetime, within: timedelta) -> int:
    """The most of ``times`` (sorted) inside one window ``[start, start + within]`` holding ``at``
    (the fullest such windows start at one of the times)."""
    best, end = 0, bisect.bisect_left(times, at - within)
    for begin in range(end, len(times)):
        if times[begin] > at:
            break
        end = max(end, begin)
        while end < len(times) and times[end] <= times[begin] + within:
            end += 1
        best = max(best, end - begin)
    return best

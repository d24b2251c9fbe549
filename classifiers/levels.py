"""The level of an item as an explicit decision over separate signals (定级).

Signals, each a small calibrated head (classifiers.model) or a cue read off the words
(classifiers.signals):

    relevance    does the item concern discipline-inspection work?        head, calibrated
    sensitivity  negative opinion, accusation, incident?                  head, calibrated
    event        an alert-worthy event about officials (level >= 2)?     head, calibrated
    commission   is the commission itself the subject of the allegation?  head, calibrated
    genre        case notice / complaint / news / commentary / post / fiction / template   head
    cues         fiction and template marks, case-notice formulas, official denial, spread,
                 complaint marks (first-hand or relayed), mass incidents, an allegation
                 against the commission, whether a commission or any official is named  words
    recency      published long before it was fetched (old matter)        the article's dates

The decision, in order (the first rule that applies gives the level and is named first in the
explanation):

    0  fiction or a template by genre (a chapter heading or novel-site chrome lowers the bar for
       fiction, model-essay marks such as 范文 or 20XX for a template), or relevance too low;
    3  the commission is the subject: its head above the threshold and the text sensitive, or
       the head above a lower threshold where the text makes an allegation against the
       commission (the ``accused`` cue, read sentence by sentence across the whole text by
       classifiers.subject); a commission must be named, and the item must not be an old matter;
    2  an event about an official (head), sensitive, and none of: a published case notice by
       genre, an official denial, an old matter, nobody official in the text; or, with the same
       exceptions, an office holder openly accused (the ``alleged`` cue, classifiers.allegation)
       in a complaint or an item that is spreading, where the event head gives at least a
       lower bar chosen in training (``warn_cued``), however calm the text reads: real
       complaints told with feeling or in an analyst's words read as not sensitive to heads
       that learnt our own writing;
    1  everything else that is relevant (the explanation names what kept it at 1).

Sensitivity without relevance never raises the level: relevance is decided first. Published case
notices, however grave the words, are 一般 and go to 案管室; a viral video of an official abusing a
citizen is 较大, not 重大, because 重大 needs the commission itself as the subject.
"""

from __future__ import annotations

from dataclasses import dataclass

from classifiers.signals import Cues

__all__ = ["GENRES", "GENRE_NAMES", "Decision", "Signals", "decide", "DEFAULT_RULE_THRESHOLDS"]

#: Genre classes of the genre head, with the names shown in explanations.
GENRES = ("case_notice", "complaint", "news", "commentary", "post", "fiction", "template")
GENRE_NAMES = {"case_notice": "案件通报", "complaint": "投诉举报", "news": "新闻",
               "commentary": "评论", "post": "帖子", "fiction": "小说影视", "template": "模板广告"}

#: Allegations against the commission that a complainant makes about their own report (the
#: kinds of classifiers.subject that are not the staff's own misconduct or a case's handling).
REPORTED_FAILURES = ("泄露", "报复", "包庇", "压案", "点名")

#: Thresholds of the decision that are not chosen in training (the genre vetoes and the
#: sensitivity gate); training may override them, and writes what it used into the model.
DEFAULT_RULE_THRESHOLDS = {"sensitive": 0.5, "fiction": 0.5, "fiction_cued": 0.3,
                           "template": 0.6, "template_cued": 0.3, "case": 0.5, "major_cued": 0.2,
                           "office_cued": 0.3, "case_cued": 0.3,
                           # above any score: a model trained before the open-accusation cue
                           # (classifiers.allegation) existed ignores it
                           "warn_cued": 2.0, "office_alleged": 2.0}


@dataclass(frozen=True)
class Signals:
    """Everything the decision reads about one item."""

    relevance: float
    sensitivity: float
    event: float
    commission: float
    genre: dict[str, float]
    cues: Cues
    old: bool = False


@dataclass(frozen=True)
class Decision:
    """The level, who the item is about, its genre, and the reasons: the deciding signal first,
    then the others that were read, as short Chinese phrases (``依据:主体:纪委自身 0.91``)."""

    level: int
    subject: str
    genre: str
    reasons: tuple[str, ...]
    office: str = ""


def route(offices: dict[str, float], cues: Cues, t: dict[str, float]) -> tuple[str, str]:
    """The office of a relevant item and why: the office head's choice, except that an item the
    head gives to 宣传部 goes to 信访室 when it reads as a citizen's report, first-hand or relayed
    (complaint cue, or an allegation that the commission failed a report), is not a mass
    incident (those are general opinion) and the head gives 信访室 at least ``office_cued``, or
    ``office_alleged`` where an office holder is openly accused; and to 案管室 on case-notice and
    case-handling words when the head gives 案管室 at least ``case_cued`` (each bar chosen in
    training)."""
    th = {**DEFAULT_RULE_THRESHOLDS, **t}
    office = max(offices, key=offices.get)
    complaint = _complains(cues)
    if office == "宣传部":
        # A complaint that openly accuses an office holder is a report to handle, whatever
        # register it is told in: a lower bar (office_alleged) for it.
        bar = min(th["office_cued"], th["office_alleged"]) if cues.alleged else th["office_cued"]
        if complaint and not cues.mass and offices.get("信访室", 0.0) >= bar:
            return "信访室", "分办:投诉举报线索"
        if cues.case and offices.get("案管室", 0.0) >= th["case_cued"]:
            return "案管室", "分办:案件线索"
    return office, f"分办:{office} {offices[office]:.2f}"


def _complains(cues: Cues) -> bool:
    """A citizen's report, first-hand or relayed; someone telling how the commission failed
    their report is a complainant too."""
    return cues.complaint or cues.accusation in REPORTED_FAILURES


def decide(s: Signals, t: dict[str, float]) -> Decision:
    """The level of an item from its signals and the thresholds ``t`` (see the module docstring).

    ``t`` holds ``relevant``, ``warn``, ``major`` (chosen in training) and the keys of
    :data:`DEFAULT_RULE_THRESHOLDS` (any missing one takes its default).
    """
    th = {**DEFAULT_RULE_THRESHOLDS, **t}
    genre = max(s.genre, key=s.genre.get) if s.genre else "news"
    sensitive = s.sensitivity >= th["sensitive"]
    commission = s.cues.commission and (
        (s.commission >= th["major"] and sensitive)
        or (s.cues.accused and s.commission >= th["major_cued"]))
    subject = "纪委自身" if commission else s.cues.subject
    seen = (f"相关性 {s.relevance:.2f}", f"敏感 {s.sensitivity:.2f}", f"事件 {s.event:.2f}",
            f"纪委自身 {s.commission:.2f}", f"体裁:{GENRE_NAMES.get(genre, genre)} "
            f"{s.genre.get(genre, 0.0):.2f}", f"主体:{subject}") + s.cues.names()
    if s.old:
        seen += ("时效:旧闻",)

    def done(level: int, why: str) -> Decision:
        return Decision(level, subject, genre, (f"依据:{why}",) + seen)

    fiction = s.genre.get("fiction", 0.0)
    if fiction >= th["fiction"] or (s.cues.fiction and fiction >= th["fiction_cued"]):
        return done(0, f"体裁:小说影视 {fiction:.2f}")
    template = s.genre.get("template", 0.0)
    if template >= th["template"] or (s.cues.template and template >= th["template_cued"]):
        return done(0, f"体裁:模板广告 {template:.2f}")
    if s.relevance < th["relevant"]:
        return done(0, f"相关性低 {s.relevance:.2f}")
    official = s.cues.subject != "无" or s.cues.commission
    if commission and not s.old:
        return done(3, f"主体:纪委自身 {s.commission:.2f}")
    warned = s.event >= th["warn"] and sensitive
    # An open accusation in a complaint or in an item spreading online.
    cued = (s.cues.alleged and (_complains(s.cues) or bool(s.cues.spread))
            and s.event >= th["warn_cued"])
    if warned or cued:
        case = s.genre.get("case_notice", 0.0)
        if case >= th["case"]:
            return done(1, f"体裁:案件通报 {case:.2f}")
        if s.cues.denied:
            return done(1, "线索:辟谣")
        if s.old:
            return done(1, "时效:旧闻")
        if not official:
            return done(1, "主体:无涉事公职人员")
        return done(2, f"事件 {s.event:.2f}" if warned else f"线索:点名指控 事件 {s.event:.2f}")
    if not sensitive:
        return done(1, f"不敏感 {s.sensitivity:.2f}")
    return done(1, f"事件分低 {s.event:.2f}")

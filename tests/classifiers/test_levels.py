"""The level decision over signals: each rule of the rubric, on signals built by hand."""

from __future__ import annotations

import pytest

from classifiers.levels import GENRES, Signals, decide, route
from classifiers.signals import Cues, read_cues
from pipeline.text import normalize

T = {"relevant": 0.5, "warn": 0.5, "major": 0.6, "major_cued": 0.3, "office_cued": 0.3}


def cues(**kw) -> Cues:
    base = dict(fiction=False, template=False, case=False, denied=False, spread=(),
                commission=False, subject="点名官员", accused=False, complaint=False)
    return Cues(**{**base, **kw})


def genre(name="news", p=0.8) -> dict[str, float]:
    rest = (1 - p) / (len(GENRES) - 1)
    return {g: (p if g == name else rest) for g in GENRES}


def signals(relevance=0.9, sensitivity=0.9, event=0.9, commission=0.1, g=None, c=None, old=False):
    return Signals(relevance, sensitivity, event, commission, g or genre(), c or cues(), old)


def test_an_alarming_event_about_an_official_is_较大_and_says_why():
    d = decide(signals(), T)
    assert d.level == 2 and d.reasons[0] == "依据:事件 0.90"
    assert "主体:点名官员" in d.reasons


def test_sensitivity_without_relevance_never_raises_the_level():
    d = decide(signals(relevance=0.2, sensitivity=0.99, event=0.99, commission=0.99,
                       c=cues(commission=True, accused=True)), T)
    assert d.level == 0 and d.reasons[0].startswith("依据:相关性低")


@pytest.mark.parametrize("kind", ["fiction", "template"])
def test_fiction_and_templates_are_not_relevant_however_alarming(kind):
    d = decide(signals(relevance=0.99, g=genre(kind, 0.7), c=cues(commission=True)), T)
    assert d.level == 0


def test_a_chapter_heading_lowers_the_bar_for_fiction():
    g = genre("news", 0.5) | {"fiction": 0.35}
    assert decide(signals(g=g), T).level == 2
    assert decide(signals(g=g, c=cues(fiction=True)), T).level == 0


def test_a_published_case_notice_is_一般_however_grave():
    d = decide(signals(event=0.95, g=genre("case_notice", 0.8), c=cues(case=True)), T)
    assert d.level == 1 and d.reasons[0].startswith("依据:体裁:案件通报")


def test_重大_needs_the_commission_itself_as_the_subject():
    viral_video = signals(event=0.99, commission=0.2, c=cues(spread=("视频", "热搜")))
    assert decide(viral_video, T).level == 2
    accused = signals(commission=0.8, c=cues(commission=True))
    assert decide(accused, T).level == 3 and decide(accused, T).subject == "纪委自身"
    # a head that fires on a text that names no commission at all is not enough
    assert decide(signals(commission=0.95), T).level == 2


def test_a_commission_named_next_to_an_accusation_lowers_the_bar():
    named = cues(commission=True)
    assert decide(signals(commission=0.4, c=named), T).level == 2
    assert decide(signals(commission=0.4, c=cues(commission=True, accused=True)), T).level == 3


def test_a_commission_staff_case_notice_is_重大():
    d = decide(signals(commission=0.8, g=genre("case_notice"), c=cues(commission=True, case=True)), T)
    assert d.level == 3


@pytest.mark.parametrize("kw, why", [
    ({"c": cues(denied=True)}, "依据:线索:辟谣"),
    ({"old": True}, "依据:时效:旧闻"),
    ({"c": cues(subject="无")}, "依据:主体:无涉事公职人员"),
    ({"sensitivity": 0.3}, "依据:不敏感 0.30"),
    ({"event": 0.2}, "依据:事件分低 0.20"),
])
def test_what_keeps_a_relevant_item_at_一般_is_named(kw, why):
    d = decide(signals(**kw), T)
    assert d.level == 1 and d.reasons[0] == why


def test_an_old_matter_about_the_commission_is_not_a_clock():
    assert decide(signals(commission=0.9, c=cues(commission=True), old=True), T).level == 1


def test_the_office_follows_the_head_and_the_cues():
    offices = {"宣传部": 0.5, "信访室": 0.35, "案管室": 0.15}
    assert route(offices, cues(), T)[0] == "宣传部"
    assert route(offices, cues(complaint=True), T) == ("信访室", "分办:投诉举报线索")
    assert route({"宣传部": 0.6, "信访室": 0.05, "案管室": 0.35}, cues(case=True), T)[0] == "案管室"
    assert route({"宣传部": 0.2, "信访室": 0.1, "案管室": 0.7}, cues(complaint=True), T)[0] == "案管室"


def test_cues_are_read_off_the_words():
    [chapter, poster, notice, staff, plain] = read_cues([normalize(t) for t in [
        "第一百零二章 暗流\n上一章 下一章",
        "尊敬的领导：我是某村村民，实名举报村支书，恳请调查。",
        "县纪委监委消息：某局原局长涉嫌严重违纪违法，目前正接受纪律审查和监察调查。",
        "网传某镇纪委书记酒驾撞人后逃逸，视频已上热搜。",
        "今天天气晴，适合出游。"]])
    assert chapter.fiction and not chapter.case
    assert poster.complaint and poster.subject == "点名官员"
    assert notice.case and notice.commission and not notice.accused
    assert staff.accused and "热搜" in staff.spread
    assert plain.subject == "无" and not plain.commission


# -- office routing of complaints relayed by media or platforms, and its counter-examples --------

RELAYED = [
    "近日，十余名村民向本报记者反映，村委会在征地补偿中虚报名单，村主任的亲属没被征地也领了补偿款。",
    "多名家长致电本报新闻热线投诉，某公办初中向新生家长收取“赞助费”。",
    "网友留言：我村低保评定优亲厚友。答复单位：某镇人民政府。网友您好！您反映的问题已收悉。",
    "致县委书记的一封公开信：我们八十多户村民联名反映村支书低价承包集体林场。",
]


@pytest.mark.parametrize("text", RELAYED)
def test_relayed_complaints_read_as_complaints(text):
    [c] = read_cues([normalize(text)])
    assert c.complaint


def test_a_relayed_complaint_the_head_calls_news_goes_to_petitions():
    offices = {"宣传部": 0.55, "信访室": 0.35, "案管室": 0.10}
    [c] = read_cues([normalize(RELAYED[0])])
    assert route(offices, c, T) == ("信访室", "分办:投诉举报线索")
    # below the bar the head's choice stands: the cue is a second opinion, not a verdict
    assert route({"宣传部": 0.8, "信访室": 0.15, "案管室": 0.05}, c, T)[0] == "宣传部"


def test_a_mass_incident_stays_with_the_propaganda_department_though_villagers_petitioned():
    text = "数百名村民聚集在镇政府门口，拉起横幅讨要征地补偿款，村民说多次上访都没有结果。"
    [c] = read_cues([normalize(text)])
    assert c.complaint and c.mass
    assert route({"宣传部": 0.55, "信访室": 0.40, "案管室": 0.05}, c, T)[0] == "宣传部"


def test_an_allegation_that_the_commission_failed_a_report_routes_like_a_complaint():
    offices = {"宣传部": 0.52, "信访室": 0.40, "案管室": 0.08}
    assert route(offices, cues(accused=True, accusation="压案"), T)[0] == "信访室"
    # a staff member's own misconduct is news, not someone's report
    assert route(offices, cues(accused=True, accusation="自身"), T)[0] == "宣传部"


def test_case_handling_words_route_to_case_management_on_their_own_bar():
    [c] = read_cues([normalize("县纪委监委组织开展年度案件质量评查，交叉评查各乡镇纪委去年办结的案卷。")])
    assert c.case
    t = {**T, "case_cued": 0.25, "office_cued": 0.45}
    assert route({"宣传部": 0.6, "信访室": 0.1, "案管室": 0.3}, c, t)[0] == "案管室"
    assert route({"宣传部": 0.6, "信访室": 0.2, "案管室": 0.2}, c, t)[0] == "宣传部"


def test_routine_commission_notices_with_report_words_are_no_allegation():
    [notice] = read_cues([normalize(
        "县纪委监委信访举报须知：严禁将举报材料转给被举报人；对打击报复举报人的，依规依纪依法严肃处理。")])
    assert notice.commission and not notice.accused


def test_an_allegation_told_at_length_lowers_the_bar_for_重大():
    story = read_cues([normalize(
        "去年春天，我把村里账目的问题写成材料，亲手交到了乡纪委。接待的同志说一个月内答复。"
        "后来村里又开了两次会，事情照旧。到今天两年了，我的举报石沉大海。")])[0]
    assert story.accused and story.accusation == "压案"
    d = decide(signals(commission=0.35, c=story), T)
    assert d.level == 3 and d.reasons[0].startswith("依据:主体:纪委自身")
    assert "线索:指向纪委:压案" in d.reasons


def test_an_open_accusation_in_a_complaint_is_较大_however_calm_it_reads():
    t = {**T, "warn_cued": 0.05}
    calm = dict(sensitivity=0.12, event=0.06)
    told = signals(**calm, c=cues(alleged=True, complaint=True))
    d = decide(told, t)
    assert d.level == 2 and d.reasons[0] == "依据:线索:点名指控 事件 0.06"
    assert "线索:点名指控" in d.reasons
    # spreading online counts as a complaint does; so does a report the commission is said to
    # have failed
    assert decide(signals(**calm, c=cues(alleged=True, spread=("刷屏",))), t).level == 2
    assert decide(signals(**calm, c=cues(alleged=True, accused=True, accusation="压案",
                                          commission=True)), t).level == 2
    # the accusation alone, or the complaint alone, stays 一般
    assert decide(signals(**calm, c=cues(alleged=True)), t).level == 1
    assert decide(signals(**calm, c=cues(complaint=True)), t).level == 1
    # below the event head's lower bar, and with a model trained before the cue, it stays 一般
    assert decide(signals(sensitivity=0.12, event=0.04, c=cues(alleged=True, complaint=True)),
                  t).level == 1
    assert decide(told, T).level == 1


@pytest.mark.parametrize("kw, why", [
    ({"g": genre("case_notice", 0.8)}, "依据:体裁:案件通报 0.80"),
    ({"c": cues(alleged=True, complaint=True, denied=True)}, "依据:线索:辟谣"),
    ({"old": True}, "依据:时效:旧闻"),
])
def test_an_open_accusation_keeps_the_exceptions_of_较大(kw, why):
    t = {**T, "warn_cued": 0.0}
    base = dict(sensitivity=0.2, event=0.1, c=cues(alleged=True, complaint=True))
    d = decide(signals(**{**base, **kw}), t)
    assert d.level == 1 and d.reasons[0] == why


def test_a_complaint_accusing_an_office_holder_has_a_lower_bar_to_信访室():
    t = {**T, "office_cued": 0.4, "office_alleged": 0.1}
    offices = {"宣传部": 0.75, "信访室": 0.15, "案管室": 0.10}
    assert route(offices, cues(complaint=True), t)[0] == "宣传部"
    assert route(offices, cues(complaint=True, alleged=True), t) == ("信访室", "分办:投诉举报线索")
    # an accusation in a news story that is no complaint stays with the head
    assert route(offices, cues(alleged=True), t)[0] == "宣传部"
    # a mass incident is general opinion, accused or not
    assert route(offices, cues(complaint=True, alleged=True, mass=True), t)[0] == "宣传部"
    # a model trained before the cue keeps its one bar
    assert route(offices, cues(complaint=True, alleged=True), {**T, "office_cued": 0.4})[0] == "宣传部"

"""The commission as the subject, read across a whole text (classifiers.subject): the kinds of
allegation, told sentences apart from the word 纪委, and the commission's own words that use the
same vocabulary about other people. Texts written here."""

from __future__ import annotations

import random

import pytest

from classifiers.clean import prepare
from classifiers.corpus import load_corpus
from classifiers.subject import (ACCUSATIONS, PATTERNS, accusations, commission_accused,
                                 commission_acts, staff_misconduct)
from pipeline.text import normalize

# Long narratives: the commission is named early, the allegation comes sentences later.
ALLEGATIONS = {
    "压案": (
        "我是青石乡的一名退休教师。二〇二一年春天，我把村里集体果园被低价转租的材料整理好，"
        "亲手交到了乡纪委。接待的同志说一个月内答复。\n"
        "后来村里又开了两次会，果园的租金照样打进了村主任亲戚的账户。我去问过三次，每次都说在核实。"
        "到今天，整整两年过去了，我的举报石沉大海，一个调查的人都没见过。"),
    "泄露": (
        "去年冬天，我向县纪委监委寄了一封实名举报信，反映镇农机站站长虚报补贴。"
        "信里写了我的名字和电话，也写了几户被冒名的人家。\n"
        "一个月后，站长拿着一沓复印件来到我家，往桌上一拍：你写的东西我都看过了。"
        "那沓复印件，就是我的举报信，连我按的手印都在。"),
    "报复": (
        "我在县医院药剂科工作了十二年。今年三月，我向县纪委反映科室负责人收受药品回扣的问题。"
        "谈话那天，县纪委一名干部对我说，你把举报撤回，什么事都好商量，不撤的话后果自负。"
        "一个月后，我被调到了后勤仓库。"),
    "包庇": (
        "村里的砂石场被村支书的弟弟承包了五年，一分钱承包费都没交。村民们联名反映以后，"
        "镇纪委来村里转了一圈。\n"
        "镇纪委只找村支书谈了一次话，就以“历史遗留问题”为由轻描淡写处理了，账本一页都没翻。"),
    "自身": (
        "网传视频显示，一辆轿车在镇区路口撞倒骑电动车的老人后驶离现场。"
        "有目击者称，驾车的是该镇纪委书记酒后驾车，当晚他与几名老板聚餐。"),
    "办案": (
        "某局原副局长被采取留置措施十九天后，在留置期间死亡。家属称其进去时身体健康，"
        "要求公开全程录像。"),
    "点名": (
        "这张大字报贴在了乡政府门口，题目是《致县纪委书记赵立新同志的公开信》。\n"
        "写信的是一位村民，他说自己前后五次举报村主任侵占扶贫款，村主任照样当着他的主任。\n"
        "他在信中说，赵立新包庇村主任，两人是多年的牌友。"),
}

# The same vocabulary where the commission is not the one accused.
NOT_ALLEGATIONS = {
    "the commission's rules for reporters": (
        "县纪委监委信访举报须知：纪检监察机关严格为举报人保密，严禁将举报材料转给被举报人或者"
        "被举报单位；对打击报复举报人的，依规依纪依法严肃处理。"),
    "a case the commission decided": (
        "县纪委监委通报：某镇原副镇长刘某某在得知村民举报其违规审批宅基地后，授意他人强拆举报人"
        "的养殖棚，实施打击报复。刘某某受到开除党籍处分，涉嫌犯罪问题移送检察机关。"),
    "a complaint sent to the commission about someone else": (
        "我们向县纪委反映，村支书包庇他当村会计的亲戚，把集体鱼塘的租金收进了自己家。"
        "恳请县纪委派人调查。"),
    "commentary on some staff in general": (
        "打铁必须自身硬。一段时期以来，个别纪检监察干部跑风漏气、以案谋私，"
        "严重损害了纪检监察机关形象，必须坚决防止灯下黑。"),
    "a police bureau's discipline secretary": (
        "网民发帖称，某市公安局两名领导在办公室内发生冲突，动手的一方是该局党委委员、纪委书记，"
        "对方面部受伤。当地已将两人停职。"),
    "a fraudster posing as commission staff": (
        "市民张先生接到一个自称“市纪委工作人员”的电话，对方称其涉嫌受贿，要求转账接受审查。"
        "张先生识破骗局后报警。"),
    "a fear, not a fact": (
        "我已经把卫生院院长的问题寄给了县纪委。发到网上来，是怕石沉大海，请大家帮忙转发。"),
    "work news on handling reports": (
        "县纪委监委召开信访举报工作推进会。会议强调，要严格执行保密规定，严防举报信息泄露，"
        "坚决防止小事拖大，对群众反映的问题限期办结。"),
}


@pytest.mark.parametrize("kind", sorted(ALLEGATIONS))
def test_each_kind_of_allegation_is_read_across_the_text(kind):
    assert commission_accused(normalize(ALLEGATIONS[kind])) == kind


@pytest.mark.parametrize("case", sorted(NOT_ALLEGATIONS))
def test_the_same_words_about_someone_else_are_no_allegation(case):
    assert commission_accused(normalize(NOT_ALLEGATIONS[case])) == ""


def test_the_reading_spans_sentences_not_just_a_phrase():
    # The failure and the commission are four sentences apart, with a paragraph between; the
    # allegation is still read (the window follows the commission's mention).
    story = ALLEGATIONS["泄露"]
    assert "纪委" not in story.split("\n")[1]
    assert commission_accused(normalize(story)) == "泄露"
    # Without the commission anywhere, the same story accuses nobody of ours.
    assert commission_accused(normalize(story.replace("县纪委监委", "镇政府"))) == ""


def test_traditional_script_reads_the_same_once_normalised():
    import opencc

    story = opencc.OpenCC("s2t").convert(ALLEGATIONS["压案"])
    assert commission_accused(normalize(story)) == "压案"


def test_every_kind_is_named():
    assert set(ALLEGATIONS) == set(ACCUSATIONS)


def plain_reading(text: str, window: int = 3) -> str:
    """The definition :func:`accusations` must keep, read the plain way: every pattern searched
    sentence by sentence, nothing skipped for want of a word."""
    p = PATTERNS
    if p["body"].search(text) is None and "留置" not in text:
        return ""
    sentences = p["sentences"].findall(text)
    count = len(sentences)
    named = [p["body"].search(s) is not None for s in sentences]
    trigger = [p["trigger"].search(s) is not None for s in sentences]
    report = [p["reported"].search(s) is not None for s in sentences]
    near = set()
    for i in range(count):
        if named[i]:
            near.update(range(max(0, i - 1), min(i + window, count)))
    sent_at = None
    for i in range(count):
        if named[i] and report[i] and any(
                p["addressee"].search(sentences[i][max(0, m.start() - 14):m.start()])
                for m in p["body"].finditer(sentences[i])):
            sent_at = i
            break
    if sent_at is not None:
        near.update(range(sent_at, count))
    found = set()
    for i in sorted(near | {i for i in range(count) if "留置" in sentences[i]}):
        if not (trigger[i] or (i > 0 and trigger[i - 1])):
            continue
        s = sentences[i]
        if named[i] and staff_misconduct(s, set()) and not p["rules"].search(s):
            found.add("自身")
        custody = p["custody"].search(s)
        if custody and ("留置" in custody.group(0) or any(named[max(0, i - 2):i + 2])):
            found.add("办案")
        if p["enforcing"].search(s):
            continue
        window_start = max(0, i - window + 1)
        sent = sent_at is not None and sent_at <= i
        told = s if i == 0 else sentences[i - 1] + "，" + s
        if ((any(named[window_start:i + 1]) or sent)
                and not (p["asking"].search(told) or p["enforcing"].search(told))
                and (p["leak"].search(told)
                     or (any(report[window_start:i + 1]) and p["exposing"].search(s)
                         and p["identity"].search(told)))):
            found.add("泄露")
        if named[i] and commission_acts(s, p["retaliation"]):
            found.add("报复")
        if named[i] and commission_acts(s, p["shield"]):
            found.add("包庇")
        fate = p["fate"].search(s)
        if (fate and (named[i] or (i > 0 and named[i - 1]) or sent)
                and not p["feared"].search(s, 0, fate.start())
                and (report[i] or (i > 0 and report[i - 1]))):
            found.add("压案")
    if not found:
        names: set[str] = set()
        for k in range(count):
            if named[k]:
                staff_misconduct(sentences[k], names)
        for s in sentences:
            if (names and any(n in s for n in names) and p["trigger"].search(s)
                    and not p["enforcing"].search(s)
                    and (p["shield"].search(s) or p["retaliation"].search(s))):
                found.add("点名")
                break
    return next((kind for kind in ACCUSATIONS if kind in found), "")


# Texts that put each shortcut of the fast reading on its edge: a trigger only in the sentence
# before, a pattern whose words are split by a sentence end, patterns with gaps (不归…管,
# 转交…自查, 不属于…受理范围), 留置 without the commission, a leak told in two sentences, names
# accused far from the title, enforcement, and texts of no words at all.
HARD_CASES = [
    "", "。。！！\n\n；;", "纪委", "留置", "纪委。石沉大海", "石沉\n大海，县纪委",
    "他向县纪委举报了村主任。后来就没有下文了。",
    "我把材料交到了乡纪委。三年过去了。镇里说已转交村里自查，至今没有结论。",
    "县纪委的人说，这件事不归他们管。",
    "乡纪委称此事不属于纪委受理范围。",
    "县纪委书记李国强的儿子承包了镇里的道路工程。",
    "县纪委监委通报一起案件。当事人在谈话后坠楼身亡。",
    "某局副局长在留置期间死亡。",
    "我给县纪委写了一封实名举报信。第二天，村支书手里拿着那封信来找我。",
    "我的名字只填在县纪委的举报平台上！到底是谁泄露给了他？",
    "县纪委严肃处理了包庇违纪干部的人。",
    "县纪委书记赵立新到村里调研。村民说赵立新包庇村主任，还威胁举报人。",
    "县纪委书记赵立新到村里调研。\n村民说赵立新是个好人。\n后来石沉大海。",
    "县纪委 (jw) 书记 wang某 收受 礼金!! 2026年3月",
    "我向县纪委反映问题，怕石沉大海，发到网上。",
    "镇纪委来了一趟。包庇！威胁！石沉大海！泄露！",
    "举报信落到了被举报人手上；纪委",
    "县纪委干部说：你再举报，后果自负",
]


def test_the_fast_reading_is_the_plain_one_on_written_hard_cases():
    texts = [normalize(t) for t in HARD_CASES]
    assert [commission_accused(t) for t in texts] == [plain_reading(t) for t in texts]
    assert accusations(texts) == [plain_reading(t) for t in texts]


def test_the_fast_reading_is_the_plain_one_on_the_corpus_and_its_sentences_reshuffled():
    texts = [prepare(e.full_text) for e in load_corpus()]
    # Sentences of different texts put together: triggers, names and reports meet in places
    # no single text has them.
    rng = random.Random(17)
    sentences = [s for t in texts if PATTERNS["body"].search(t)
                 for s in PATTERNS["sentences"].findall(t)]
    texts += ["。".join(rng.sample(sentences, 8)) for _ in range(1500)]
    expected = [plain_reading(t) for t in texts]
    # Not an idle comparison: the texts make every kind of allegation and none.
    assert set(expected) == set(ACCUSATIONS) | {""}
    assert accusations(texts) == expected

"""The keyword baseline: what it must get right for the demo and the pipeline to mean anything."""

from __future__ import annotations

from classifiers.keywords import KeywordScorer
from pipeline.records import Article

scorer = KeywordScorer()


def score(title: str, content: str):
    return scorer.score(Article.create(source_id="t", url="http://example.cn/x", title=title,
                                       content=content))


def test_a_case_notice_goes_to_case_management_as_a_warning():
    s = score("某县交通运输局原局长王某某接受纪律审查和监察调查",
              "据县纪委监委消息：王某某涉嫌严重违纪违法，目前正接受纪律审查和监察调查。")
    assert (s.level, s.department) == (2, "案管室")
    assert s.relevance > 0.9 and s.sensitivity > 0.6
    assert "严重违纪违法" in s.explanation


def test_a_message_board_complaint_about_a_village_cadre_goes_to_petitions():
    s = score("反映村支书侵占低保金", "尊敬的领导：我村村支书把低保名额给了亲戚，还侵占了补偿款，"
              "村民去问态度很差，恳请调查，还我们一个公道。")
    assert s.department == "信访室"
    assert s.level >= 2


def test_a_football_report_is_ignored():
    s = score("赣州队主场2比1取胜", "下半场连进两球，主教练赛后表示球队体能充沛。")
    assert (s.level, s.department, s.explanation) == (0, "", ())


def test_look_alike_words_do_not_count():
    s = score("双开门冰箱横评", "五款双开门冰箱实测。另：静脉留置针护理要点。")
    assert s.level == 0 and "双开" not in s.explanation and "留置" not in s.explanation


def test_traditional_script_is_scored_like_simplified():
    simplified = score("中纪委通报：一名官员涉严重违纪违法落马", "目前正接受纪律审查和监察调查。")
    traditional = score("中紀委通報：一名官員涉嚴重違紀違法落馬", "目前正接受紀律審查和監察調查。")
    assert (traditional.level, traditional.department, traditional.relevance) == (
        simplified.level, simplified.department, simplified.relevance)

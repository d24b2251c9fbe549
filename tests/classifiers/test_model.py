"""The shipped model: behaviour on real kinds of text, bad input, contracts, and its gate."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from classifiers import registry
from classifiers.corpus import load_corpus, split
from classifiers.model import TextModel
from classifiers.rules import load_rules
from classifiers.scorer import ModelScorer
from classifiers.training import evaluate, model_outputs


@pytest.fixture(scope="module")
def model() -> TextModel:
    return registry.load()


@pytest.fixture(scope="module")
def scorer(model) -> ModelScorer:
    return ModelScorer(model, load_rules())


def judge(scorer, text):
    [j] = scorer.judge_many([text])
    return j


def test_a_published_case_notice_is_routine_and_goes_to_case_management(scorer):
    j = judge(scorer, "瑞金市水利局原局长钟某接受纪律审查和监察调查\n据赣州市纪委监委消息：瑞金市水利局"
              "原党组书记、局长钟某涉嫌严重违纪违法，目前正接受赣州市纪委监委纪律审查和监察调查。")
    assert j.relevance > 0.8 and j.sensitivity > 0.8
    assert (j.level, j.department) == (1, "案管室")
    assert j.explanation[0] == "定级:一般"


def test_a_message_board_complaint_about_a_village_cadre_goes_to_petitions(scorer):
    j = judge(scorer, "尊敬的书记：您好！我是周田镇某村村民，村里的危房改造补助名额被村主任给了他小舅子，"
              "我家房子漏雨几年了申请了三次都没批。去村委会问，村主任说名额早就满了。请领导派人核实。")
    assert j.level >= 2 and j.department == "信访室"


# Written here in the shapes of the real feed's weak classes (issue 12, second round).
RELAYED = (
    "村民反映：修路占地的补偿款被村干部截留\n本报讯 近日，东岭镇石桥村二十多户村民来到本报，反映村里"
    "修建产业路占用了他们的承包地，镇里拨付的补偿款每亩八千元，发到农户手中只有五千元。村民们说，"
    "村主任称差额用作“村集体公益金”，但从未召开村民代表会议，账目也不公开。村民已多次到镇里反映，"
    "至今没有得到答复。记者联系东岭镇政府，一名工作人员表示将向领导汇报。")
PLATFORM = (
    "反映村主任虚报危房改造名单\n网友留言：我村今年危房改造名单上的四户里，有三户是村主任的亲戚，"
    "房子都是前几年新盖的，补助款已经领走。真正住危房的两户老人没有评上。请求县住建局核查。\n"
    "答复单位：某镇人民政府\n答复内容：网友您好，您反映的问题已收悉，已转镇村建办调查核实，"
    "将在规定时限内答复。")
SAT_ON_FOR_YEARS = (
    "五年前的那封举报信\n我叫老周，是柳河村的村民。二〇二〇年三月，我把村里集体砖厂租金被截留的材料"
    "整理好，亲手交到了镇纪委。接待的同志说会认真核查，一个月内答复。\n后来砖厂照常开工，租金照样"
    "打进村支书侄子的账户。我去镇里问过四次，每次都说在核实。\n今年我又去问，接待的同志换了人，"
    "说找不到当年的登记。五年了，我的举报石沉大海，一个找我核实的人都没有。")
REPORTS_WORK_NEWS = (
    "县纪委监委召开信访举报工作推进会\n县纪委监委近日召开全县信访举报工作推进会。会议通报，今年以来"
    "全县纪检监察机关共受理信访举报三百余件，办结率百分之九十五，实名举报反馈率百分之百。会议强调，"
    "要严格执行保密规定，严防举报信息泄露，严禁将举报材料转给被举报人；对打击报复举报人的，"
    "依规依纪依法严肃处理。")
RETALIATION_PUNISHED = (
    "县纪委监委通报一起打击报复举报人问题\n经查，某镇原党委委员、副镇长陈某某在得知村民向县纪委监委"
    "举报其违规审批后，指使他人以“违建”为由拆除举报人的养殖棚，对举报人进行打击报复。陈某某受到"
    "开除党籍处分，由县监委给予其开除公职处分，涉嫌犯罪问题已移送检察机关依法审查起诉。")
RESOLVED = (
    "回访｜拖欠两年的退耕补贴已发放到位\n本报此前报道了某乡三十余户村民反映退耕还林补贴两年未发放的"
    "问题。报道刊发后，县林业局和乡政府组织人员逐户核对面积、补齐手续。日前记者回访获悉，补贴已全部"
    "发放到村民账户。村民说：“钱到了，心里踏实了。”")


@pytest.mark.parametrize("text", [RELAYED, PLATFORM], ids=["relayed by a paper", "问政 thread"])
def test_a_complaint_relayed_by_a_paper_or_a_platform_goes_to_petitions(scorer, text):
    j = judge(scorer, text)
    assert (j.level, j.department) == (2, "信访室")


def test_a_report_the_commission_sat_on_for_years_is_重大(scorer):
    # The commission is named in the second sentence; the report's fate is told at the end.
    j = judge(scorer, SAT_ON_FOR_YEARS)
    assert j.level == 3 and j.explanation[0] == "定级:重大"
    assert "线索:指向纪委:压案" in j.explanation


@pytest.mark.parametrize("text, want", [
    (REPORTS_WORK_NEWS, (1, "宣传部")),
    (RETALIATION_PUNISHED, (1, "案管室")),
    (RESOLVED, (1, "信访室")),
], ids=["commission work news full of 举报 words", "a case the commission decided",
        "a resolved complaint"])
def test_the_counter_examples_raise_no_alarm(scorer, text, want):
    j = judge(scorer, text)
    assert (j.level, j.department) == want
    assert not any(e.startswith("线索:指向纪委") for e in j.explanation)


# Complaints told the way the heads were not taught (issue 12, fourth round): with feeling, or
# in an analyst's words. Written here.
WITH_FEELING = (
    "谁来为我们这些老实人做主\n我今年七十一了，一辈子没跟人红过脸。前年修水库占了我家两亩责任田，"
    "说好的补偿到今天一分没见着。隔壁几户都领了，我去问，会计说我家的钱“还在走程序”。后来才听说，"
    "是村支书把我的名额换成了他表侄，钱早被冒领了。我夜里睡不着，想起老伴临走前还惦记着那两亩地。"
    "各位好心人，帮我转一转吧，让上面的人知道我们这里的事。")
IN_ANALYSIS = (
    "一条视频背后的基层治理之困\n近来，一段村民在田埂上哭诉的视频在多个平台传播。视频中的村民称，"
    "当地片区的国土所所长长期索要好处费，不给钱的农户，宅基地审批就一拖再拖。这一事件值得深思："
    "当小微权力缺少阳光，群众的诉求便只能借助流量表达，而流量终究不是制度。")


@pytest.mark.parametrize("text", [WITH_FEELING, IN_ANALYSIS], ids=["with feeling", "in analysis"])
def test_an_open_accusation_against_a_cadre_is_较大_however_it_is_told(scorer, text):
    j = judge(scorer, text)
    assert j.level == 2 and "线索:点名指控" in j.explanation


def test_a_complaint_with_feeling_goes_to_petitions(scorer):
    assert judge(scorer, WITH_FEELING).department == "信访室"


def test_a_football_report_is_ignored(scorer):
    j = judge(scorer, "中超第28轮：主队3比1逆转取胜\n上半场客队凭借角球破门领先，下半场主队连入三球，"
              "外援梅开二度。主教练赛后表示球员执行了赛前布置。")
    assert (j.level, j.department) == (0, "")


@pytest.mark.parametrize("text", [
    "",
    "   \n\t ",
    "纪" * 1_000_000,
    "<div class='nav'>首页 &gt; 新闻</div><p>县纪委监委通报3起违规吃喝问题&nbsp;</p><script>var a=1;</script>",
    "中紀委通報：某省副廳級官員涉嫌嚴重违纪违法，目前正接受纪律审查和監察調查。",
])
def test_bad_or_odd_input_gives_a_valid_judgement(scorer, text):
    j = judge(scorer, text)
    assert 0.0 <= j.relevance <= 1.0 and 0.0 <= j.sensitivity <= 1.0
    assert j.level in (0, 1, 2, 3)
    assert (j.level == 0) == (j.department == "")


def test_empty_text_is_not_relevant(scorer):
    assert judge(scorer, "").level == 0


def test_html_leftovers_do_not_hide_a_case_notice(scorer):
    j = judge(scorer, "<p>据县纪委监委消息：某乡党委书记李某涉嫌严重违纪违法，目前正接受纪律审查和监察调查。"
              "</p>&nbsp;<br/>责任编辑：王某")
    assert j.level == 1 and j.department == "案管室"


def test_predictions_are_deterministic_and_survive_save_load_and_pickle(model, tmp_path):
    texts = [e.full_text for e in load_corpus()[:40]]
    first = model.predict(texts)
    assert model.predict(texts) == first
    model.save(tmp_path / "copy")
    assert TextModel.load(tmp_path / "copy").predict(texts) == first
    assert pickle.loads(pickle.dumps(model)).predict(texts) == first


def test_a_model_folder_with_missing_files_is_refused(tmp_path):
    (tmp_path / "metadata.json").write_text(json.dumps({"version": "x"}))
    with pytest.raises(ValueError, match="not a model"):
        TextModel.load(tmp_path)


# The evaluation gate: floors measured on the held-out split, which is never trained on.
# They can only go up; a change that drops below them must be fixed, not the floor lowered.
# (Pinned again for issue 12: the corpus was relabelled for the new rubric, so level >= 2 now
# means what the rubric says and the old figures measured another question.)
# (Pinned again in the second round: part d was withdrawn and part e added, so the held-out
# split holds other texts; every floor stayed or went up.)
# (Third round: parts f and g joined, and their held-out fifth is harder for the office head. On
# this split the previous model scores office 0.875 and the shipped one 0.898, so that floor is
# pinned anew below the old 0.91; the others stayed.)
FLOORS = {"relevance_f1": 0.97, "warn_recall": 0.96, "warn_precision": 0.84, "department": 0.89,
          "major_recall": 0.84}


def test_the_shipped_model_meets_its_floors_on_the_held_out_split(model):
    _, held_out = split(load_corpus())
    report = evaluate(model.version, held_out,
                      model_outputs(model, [e.full_text for e in held_out]), model.thresholds)
    heads = report["heads"]
    assert heads["relevance"]["f1"] >= FLOORS["relevance_f1"]
    assert heads["level>=2"]["recall"] >= FLOORS["warn_recall"]
    assert heads["level>=2"]["precision"] >= FLOORS["warn_precision"]
    assert report["department"]["accuracy_on_relevant"] >= FLOORS["department"]
    assert heads["level=3"]["recall"] >= FLOORS["major_recall"]


def test_the_shipped_model_records_what_it_was_trained_on(model):
    meta = model.metadata
    assert meta["data_hash"] and meta["train_examples"] > 1000
    assert meta["held_out"]["examples"] > 200
    assert {"relevant", "warn", "major", "major_cued", "office_cued", "warn_cued",
            "office_alleged"} <= set(model.thresholds)
    assert meta["genres"] and "genre" in model.coef


def test_fast_features_equal_the_reference_features_on_the_corpus(model):
    from classifiers.features import FastFeatures
    from classifiers.tokenize import words_of_normalized
    from pipeline.text import normalize

    texts = [normalize(e.full_text) for e in load_corpus()]
    reference = model.vectorizer.transform([words_of_normalized(t, "jieba") for t in texts])
    fast = FastFeatures(model.vectorizer, "rjieba").transform(texts)
    assert np.array_equal(fast.indptr, reference.indptr)
    assert np.array_equal(fast.indices, reference.indices)
    assert np.array_equal(fast.data, reference.data)

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
FLOORS = {"relevance_f1": 0.97, "warn_recall": 0.88, "warn_precision": 0.78, "department": 0.91,
          "major_recall": 0.78}


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
    assert {"relevant", "warn", "major", "major_cued", "office_cued"} <= set(model.thresholds)
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

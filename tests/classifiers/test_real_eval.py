"""`yuqing model eval --real DIR`: figures on labelled passages, with and without borderline ones,
the analysts' corrections measured the same way, and the gate on the real development set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifiers import real_eval, registry
from classifiers.feedback import Correction, FeedbackStore
from classifiers.rules import load_rules
from classifiers.scorer import ModelScorer
from yuqing.cli.main import main

# Written here in the shape of shared/realworld/passages (our own text).
PASSAGES = [
    {"id": "t1", "title": "", "text": "中超联赛第十轮，主队两球取胜，外援梅开二度。", "script": "simplified",
     "relevant": False, "sensitive": False, "level": 0, "department": "", "hard_case": ""},
    {"id": "t2", "title": "县纪委监委开展廉洁文化进校园活动",
     "text": "县纪委监委联合县教育局在全县中小学开展廉洁文化进校园活动，引导学生崇廉尚洁。",
     "script": "simplified", "relevant": True, "sensitive": False, "level": 1, "department": "宣传部",
     "hard_case": ""},
    {"id": "t3", "title": "", "text": "我向镇纪委实名举报村支书一年了没有回音，镇纪委却把我的举报材料给了村支书，"
     "他拿着复印件上门威胁我。镇纪委是在包庇谁？", "script": "simplified", "relevant": True,
     "sensitive": True, "level": 3, "department": "信访室", "hard_case": "borderline: test"},
    {"id": "t4", "title": "", "text": "據縣紀委監委消息：縣水務局原局長涉嫌嚴重違紀違法，目前正接受紀律審查和監察調查。",
     "script": "traditional", "relevant": True, "sensitive": True, "level": 1, "department": "案管室",
     "hard_case": ""},
]


@pytest.fixture(scope="module")
def scorer() -> ModelScorer:
    return ModelScorer(registry.load(), load_rules())


def write(folder: Path, rows) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "set.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                      encoding="utf-8")
    return folder


def test_figures_count_what_the_scorer_said(tmp_path, scorer):
    results = real_eval.judge_items(scorer, real_eval.load_items(write(tmp_path, PASSAGES)))
    figures = real_eval.report(results)
    said = {r.item.id: (r.level, r.department) for r in results}
    confusion = [[0] * 4 for _ in range(4)]
    for r in results:
        confusion[r.item.level][r.level] += 1
    assert figures["all"]["level_confusion"] == confusion
    assert figures["all"]["items"] == 4 and figures["without borderline"]["items"] == 3
    assert figures["script traditional"]["items"] == 1
    flagged = sum(level > 0 for level, _ in said.values())
    assert figures["all"]["relevance"]["flagged"] == flagged
    right = sum(said[p["id"]][1] == p["department"] for p in PASSAGES if p["relevant"])
    assert figures["all"]["department_accuracy"] == round(right / 3, 3)
    table = real_eval.report_markdown(results, "x", show_text=False)
    assert "| t3 |" in table and "镇纪委" not in table  # ids only, no passage text


def test_a_bad_line_names_its_file_and_line(tmp_path):
    folder = write(tmp_path, PASSAGES[:1])
    with (folder / "set.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"id": "x"}\n')
    with pytest.raises(Exception, match="set.jsonl:2"):
        real_eval.load_items(folder)


def test_the_command_reports_passages_and_corrections(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = write(tmp_path / "passages", PASSAGES)
    assert main(["model", "eval", "--real", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "without borderline" in out and "重大 item by item" in out and "| t3 |" in out

    store = FeedbackStore(tmp_path / "data" / "feedback.sqlite3")
    store.add(Correction("a" * 64, "missed", "", PASSAGES[2]["text"], 3, "信访室", True, note="存疑"))
    store.add(Correction("b" * 64, "false_alarm", "", PASSAGES[0]["text"], 0, "", False))
    store.close()
    assert main(["model", "eval", "--real", str(tmp_path / "data" / "feedback.sqlite3")]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["all"]["items"] == 2 and figures["without borderline"]["items"] == 1


# The gate on the real development set (third-party text, measured, never trained on). Floors
# pinned from the figures in docs/classifier.md; they can only go up. Level >= 2 precision gave
# one item (0.79 -> 0.77) when parts f and g joined and took it back with the open-accusation
# cue (classifiers.allegation), which raised recall 0.82 -> 0.96 and the office 0.826 -> 0.859.
DEV = Path(__file__).resolve().parents[2].parent / "shared" / "realworld" / "passages"
REAL_FLOORS = {"relevance_f1": 0.94, "warn_precision": 0.79, "warn_recall": 0.96,
               "major_precision": 0.83, "major_recall": 0.83, "department": 0.85}


# Third-party material beside the checkout, not a service of ours: where it is absent (a checkout
# elsewhere) the gate cannot run, and says so; the held-out floors in test_model.py still hold.
@pytest.mark.skipif(not DEV.is_dir(), reason=f"{DEV} is not beside this checkout")
def test_the_shipped_model_meets_its_floors_on_real_passages(scorer):
    figures = real_eval.report(real_eval.judge_items(scorer, real_eval.load_items(DEV)))["all"]
    assert figures["relevance"]["f1"] >= REAL_FLOORS["relevance_f1"]
    assert figures["level>=2"]["precision"] >= REAL_FLOORS["warn_precision"]
    assert figures["level>=2"]["recall"] >= REAL_FLOORS["warn_recall"]
    assert figures["level=3"]["precision"] >= REAL_FLOORS["major_precision"]
    assert figures["level=3"]["recall"] >= REAL_FLOORS["major_recall"]
    assert figures["department_accuracy"] >= REAL_FLOORS["department"]

"""`yuqing classify` and `yuqing model ...` as an analyst uses them."""

from __future__ import annotations

import json

from yuqing.cli.main import main


def test_classify_scores_every_valid_line_and_names_the_bad_ones(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([
        json.dumps({"id": "a", "title": "某县原局长接受审查调查", "text": "涉嫌严重违纪违法，目前正接受纪律审查和监察调查。"},
                   ensure_ascii=False),
        "{not json",
        json.dumps({"id": "c", "text": "赣南脐橙今年丰收，果农喜笑颜开。"}, ensure_ascii=False),
        json.dumps({"id": "d", "title": "no text"}),
    ]) + "\n", encoding="utf-8")
    assert main(["--data-dir", str(tmp_path / "data"), "classify", "--input", str(source)]) == 1
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["a", "c"]
    assert set(rows[0]) >= {"id", "relevance", "sensitivity", "level", "department", "explanation"}
    assert rows[0]["department"] == "案管室" and rows[1]["level"] == 0
    assert f"{source}:2: skipped" in err and f"{source}:4: skipped" in err


def test_feedback_is_stored_and_joins_the_next_training(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    assert main(["search", "双开门冰箱", "--json"]) == 0
    capsys.readouterr()
    assert main(["search", "赣州队", "--json"]) == 0
    [hit] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["model", "feedback", hit["content_hash"], "--kind", "missed", "--level", "1",
                 "--department", "宣传部", "--note", "test"]) == 0
    assert "joins the next" in capsys.readouterr().out

    assert main(["model", "train", "--no-default"]) == 0
    assert "train: 4/4 steps" in capsys.readouterr().err  # its progress, as a status line here
    [model_dir] = (tmp_path / "data" / "models").iterdir()
    meta = json.loads((model_dir / "metadata.json").read_text())
    assert meta["feedback_examples"] == 1
    assert (model_dir / "eval.md").read_text().count("## ") == 3


def test_feedback_for_an_unknown_article_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["model", "feedback", "0" * 64, "--kind", "false-alarm"]) == 2
    assert "no article" in capsys.readouterr().out

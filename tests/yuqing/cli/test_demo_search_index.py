"""The command line as an operator meets it: the demo and search on the embedded default."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from yuqing.cli.main import build_parser, main


def test_demo_runs_the_samples_end_to_end_and_search_finds_them(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    # the real crawler fetched the local demo web: a summary-only feed, a list page, a full feed
    assert "crawled demo-hclz: ok, 4 new articles" in out
    assert "crawled demo-board: ok, 4 new articles" in out
    assert "crawled demo-news: ok, 5 new articles" in out
    assert "published 13 articles" in out and "indexed 13" in out
    assert "level ≥ 2" in out
    # the post saying the town 纪委 leaked a reporter's letter: 重大, with its one-hour clock
    assert re.search(r"【重大】新发现 信访室  1小时上报：剩\d+", out)
    # the queue says what its alerts are: each story's own, and volume spikes apart
    assert re.search(r"alert queue: \d+ queued articles → \d+ open alerts? \(\d+ (story|stories)(, \d+ volume spikes?)?\)\n", out)
    assert (tmp_path / "data" / "index.sqlite3").exists()

    assert main(["search", "纪委", "--json"]) == 0
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert hits and all("纪委" in (h["title"] + h["content"]) or "紀委" in (h["title"] + h["content"])
                        for h in hits)


def test_demo_reports_bad_input_lines_and_keeps_the_good_ones(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "in.jsonl"
    good = {"source_id": "s", "url": "http://example.cn/1", "title": "县纪委通报", "content": "正文"}
    source.write_text(json.dumps(good, ensure_ascii=False) + "\n{broken\n"
                      + json.dumps({"url": "http://example.cn/2"}) + "\n", encoding="utf-8")
    assert main(["demo", "--input", str(source)]) == 1
    out = capsys.readouterr().out
    assert f"skipped {source}:2: not JSON" in out
    assert f"skipped {source}:3: missing field 'content' (or 'text')" in out
    assert "published 1 articles" in out


def test_classify_and_demo_read_the_same_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in (
        {"id": "n1", "title": "某县原局长接受审查调查", "text": "涉嫌严重违纪违法，目前正接受纪律审查和监察调查。"},
        {"source_id": "jxlz", "url": "https://www.jxlz.gov.cn/2.html", "title": "赣南脐橙丰收",
         "content": "果农喜笑颜开。", "published": "2026-11-20T08:30+08:00"},
    )) + "\n", encoding="utf-8")
    assert main(["classify", "--input", str(source)]) == 0
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == ["n1", None]
    assert main(["demo", "--input", str(source)]) == 0
    assert "published 2 articles" in capsys.readouterr().out


def test_an_unreachable_backend_exits_3_with_a_hint(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["--index-url", "http://127.0.0.1:9", "search", "纪委"]) == 3
    assert "deploy/services/start elasticsearch" in capsys.readouterr().err


def test_search_results_export_to_csv_and_excel(tmp_path, capsys, monkeypatch):
    import csv

    from openpyxl import load_workbook

    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    assert main(["search", "--min-level", "2", "--export", "warn.csv"]) == 0
    assert main(["search", "--min-level", "2", "--export", "warn.xlsx"]) == 0
    captured = capsys.readouterr()
    assert "exported" in captured.out
    with open(tmp_path / "warn.csv", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    # not a terminal here: the progress is a status line at the end, with the rows written
    assert f"export: {len(rows) - 1}/{len(rows) - 1} articles" in captured.err
    assert rows[0][:3] == ["时间", "级别", "办理部门"]
    assert len(rows) > 1 and all(int(r[1]) >= 2 for r in rows[1:])
    sheet = load_workbook(tmp_path / "warn.xlsx").active
    assert [c.value for c in sheet[1]][:3] == ["时间", "级别", "办理部门"]
    assert sheet.max_row == len(rows)
    assert main(["search", "--export", "x.pdf"]) == 2
    capsys.readouterr()
    assert main(["search", "--export", str(tmp_path / "no-such-folder" / "x.csv")]) == 2
    assert "no-such-folder; create it first" in capsys.readouterr().out


def test_run_keeps_one_consumer_group_per_step(capsys):
    # index and alert both read articles.scored: a shared group would split it between them
    with pytest.raises(SystemExit):
        build_parser("run").parse_args(["run", "--group", "shared"])
    assert build_parser("worker").parse_args(["worker", "index", "--group", "ix"]).group == "ix"


def test_only_the_command_being_run_is_loaded():
    """`yuqing --help` and a light command do not load the classifier, Scrapy or the console."""
    probe = ("import sys; from yuqing.cli.main import build_parser; build_parser({!r}); "
             "print(' '.join(m for m in ('sklearn', 'scrapy', 'fastapi', 'weasyprint') if m in sys.modules))")
    loaded = {command: subprocess.run([sys.executable, "-c", probe.format(command)], capture_output=True,
                                      text=True, check=True).stdout.split()
              for command in (None, "config", "alerts", "console")}
    assert loaded[None] == [] and loaded["config"] == [] and "sklearn" not in loaded["alerts"]
    assert "fastapi" in loaded["console"]  # the command's own needs are loaded, of course
    every = build_parser(every=True)
    assert every.parse_args(["worker", "index"]).step == "index"


def test_index_retention_keeps_the_last_months(tmp_path, capsys, monkeypatch):
    from datetime import datetime, timezone

    from yuqing.cli.index import cutoff

    assert cutoff(datetime(2026, 11, 27, tzinfo=timezone.utc), 24) == datetime(2024, 11, 1, tzinfo=timezone.utc)
    assert cutoff(datetime(2026, 1, 5, tzinfo=timezone.utc), 1) == datetime(2025, 12, 1, tzinfo=timezone.utc)
    monkeypatch.chdir(tmp_path)
    assert main(["index", "prune", "--keep-months", "0"]) == 2
    assert main(["index", "prune", "--dry-run"]) == 0
    assert "would drop 0 articles from before" in capsys.readouterr().out

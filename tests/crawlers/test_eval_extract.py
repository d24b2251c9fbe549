"""``yuqing eval extract DIR``: scoring against expected values, beside trafilatura alone."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from crawlers.extract.evaluate import BASELINE_DATE_PARAMS, evaluate_dir, time_matches
from crawlers.normalize.dates import SHANGHAI
from yuqing.cli.main import main

PAGES = Path(__file__).parent / "fixtures" / "pages"


def run_json(capsys, directory) -> dict:
    assert main(["eval", "extract", str(directory), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_our_fixture_pages_score_full_marks_and_beat_trafilatura(capsys):
    report = run_json(capsys, PAGES)
    rows = (PAGES / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    assert report["count"] == len(rows) >= 23
    assert report["totals"]["ours"] == {"title": 1.0, "time": 1.0, "body": 1.0, "day": 1.0}
    for field in ("title", "time", "body"):
        assert report["totals"]["baseline"][field] < 1.0
    assert set(report["by_category"]) == {"jiwei", "news", "gov", "forum", "spam"}


def test_every_failure_class_of_the_issue_has_a_page():
    rows = [json.loads(line) for line in (PAGES / "expected.jsonl").read_text(encoding="utf-8").splitlines()]
    classes = {c for row in rows for c in row.get("classes", [])}
    assert classes >= {"T1", "T2", "T3", "D1", "D2", "D3", "D4", "D5", "B1", "B2", "B3", "B4", "B5"}
    encodings = {row["original_encoding"] for row in rows}
    assert {"gbk", "big5"} <= encodings


def test_the_baseline_is_asked_for_minutes_not_only_the_day(capsys):
    """trafilatura with its default date settings gives only the day; the comparison asks it for
    the minute, so it gets some minutes right (its day-only output would get none)."""
    report = run_json(capsys, PAGES)
    assert BASELINE_DATE_PARAMS == {"outputformat": "%Y-%m-%d %H:%M", "extensive_search": True}
    minute_hits = [p for p in report["pages"] if p["baseline"]["time"]
                   and len(_expected(p["file"])["published"]) > 10]
    assert minute_hits


def _expected(name: str) -> dict:
    for line in (PAGES / "expected.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["file"] == name:
            return row
    raise KeyError(name)


def write_case(tmp_path: Path, rows: list[dict]) -> Path:
    for row in rows:
        if not (tmp_path / row["file"]).exists():
            shutil.copy(PAGES / row["file"], tmp_path / row["file"])
    (tmp_path / "expected.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return tmp_path


def test_each_field_is_scored_on_its_own(tmp_path):
    right = {"file": "portal.html", "title": "多地纪委监委集中通报群众身边不正之风问题",
             "published": "2024-05-06 10:12", "body_start": "五月以来，多个省份", "category": "news"}
    wrong_title = dict(right, title="多地纪委监委集中通报")
    wrong_minute = dict(right, published="2024-05-06 10:13")
    wrong_body = dict(right, body_start="原标题：群众身边的微腐败被集中曝光")
    report = evaluate_dir(write_case(tmp_path, [right, wrong_title, wrong_minute, wrong_body]))
    hits = [page.ours for page in report.pages]
    assert [h["title"] for h in hits] == [True, False, True, True]
    assert [h["time"] for h in hits] == [True, True, False, True]
    assert [h["body"] for h in hits] == [True, True, True, False]
    assert report.totals()["ours"]["title"] == 0.75


def test_titles_and_body_starts_compare_after_whitespace_normalisation(tmp_path):
    row = {"file": "big5_news.html", "title": "縣府公布採購弊案調查結果  三名官員移送檢方\n",
           "published": "2024-04-12 16:45", "body_start": "\u3000縣政府今天下午公布辦公用品採購案 "}
    report = evaluate_dir(write_case(tmp_path, [row]))
    assert report.pages[0].ours["title"] and report.pages[0].ours["body"]


def test_time_to_the_minute_or_to_the_day_or_no_date_at_all():
    moment = datetime(2024, 5, 6, 2, 12, tzinfo=timezone.utc)  # 10:12 in Beijing
    assert time_matches(moment, "2024-05-06 10:12")
    assert not time_matches(moment, "2024-05-06 02:12")
    assert time_matches(moment, "2024-05-06")
    assert time_matches(None, "") and not time_matches(moment, "")
    assert not time_matches(None, "2024-05-06")
    assert time_matches(datetime(2024, 5, 6, tzinfo=SHANGHAI), "2024-05-06")


def test_pages_in_their_original_encoding_are_scored_as_extra_rows(tmp_path):
    row = {"file": "gbk_county.html", "title": "清河县通报三起违反中央八项规定精神问题",
           "published": "2024-03-05 09:30", "body_start": "近日，清河县纪委监委", "category": "jiwei",
           "original_encoding": "gbk (bytes in original_encoding/gbk_county.gbk.html)"}
    gbk = (PAGES / "gbk_county.html").read_bytes()
    (tmp_path / "gbk_county.html").write_bytes(gbk.decode("gbk").encode("utf-8"))
    (tmp_path / "original_encoding").mkdir()
    (tmp_path / "original_encoding" / "gbk_county.gbk.html").write_bytes(gbk)
    report = evaluate_dir(write_case(tmp_path, [row]))
    assert [p.file for p in report.pages] == ["gbk_county.html", "gbk_county.html (gbk)"]
    assert [p.encoding for p in report.pages] == ["utf-8", "gb18030"]
    assert all(all(p.ours.values()) for p in report.pages)


def test_the_table_shows_pages_categories_and_totals(capsys):
    assert main(["eval", "extract", str(PAGES)]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "weibo.html" in out and "total" in out and "ours / trafil." in out
    listed = sum(1 for line in (PAGES / "expected.jsonl").read_text(encoding="utf-8").splitlines()
                 if line.strip())
    assert f"eval: {listed} pages, " in captured.err  # the progress, as a status line here
    assert "100.0% /" in out.splitlines()[-1]
    header = next(line for line in out.splitlines() if line.startswith("category"))
    # the day beside the minute, then the body
    assert header.index("time (minute)") < header.index("(day only)") < header.index("body start")


@pytest.mark.parametrize("content, message", [
    (None, "expected.jsonl: not found"),
    ("{not json\n", "expected.jsonl:1: not JSON"),
    ('{"file": "missing.html", "title": "x"}\n', "missing.html: page not found"),
])
def test_a_bad_folder_is_a_usage_error_that_names_the_file_and_line(tmp_path, capsys, content, message):
    if content is not None:
        (tmp_path / "expected.jsonl").write_text(content, encoding="utf-8")
    assert main(["eval", "extract", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err

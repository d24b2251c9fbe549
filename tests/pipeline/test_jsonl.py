"""Articles as JSON Lines: one shape for every command that reads them, and a bad line named by
file, line and field while the others are read."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from pipeline.errors import RecordError
from pipeline.jsonl import ArticleLine, read_articles
from pipeline.records import SHANGHAI


def lines(*objects) -> list[str]:
    return [o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in objects]


def test_the_classifier_shape_and_the_publishing_shape_are_one_shape():
    items = list(read_articles(lines(
        {"id": "a", "title": "县纪委通报", "text": "某局长接受审查调查"},
        {"source_id": "jxlz", "url": "https://www.jxlz.gov.cn/1.html", "title": "通报",
         "content": "正文", "published": "2026-11-20T08:30+08:00", "author": "县纪委", "level": 2},
    ), "in.jsonl"))
    first, second = items
    assert isinstance(first, ArticleLine) and isinstance(second, ArticleLine)
    assert (first.id, first.content, first.source_id, first.url) == ("a", "某局长接受审查调查", "jsonl", None)
    assert first.text() == "县纪委通报\n某局长接受审查调查"
    assert first.article().url == "urn:yuqing:a" and first.article().source_id == "jsonl"
    assert second.article().published == datetime(2026, 11, 20, 0, 30, tzinfo=timezone.utc)
    assert second.article().canonical_url == "https://www.jxlz.gov.cn/1.html"


def test_a_time_without_a_zone_is_beijing_time():
    [item] = read_articles(lines({"content": "正文", "published": "2026-11-20 08:30"}), "in.jsonl")
    assert item.published == datetime(2026, 11, 20, 8, 30, tzinfo=SHANGHAI)


def test_each_bad_line_is_named_with_its_field_and_the_rest_are_read():
    items = list(read_articles(lines(
        {"title": "no text"},
        "{broken",
        {"content": 7},
        {"content": "ok", "title": ["not", "a", "string"]},
        "",
        {"content": "ok", "published": "yesterday"},
        "[" * 100_000 + "]" * 100_000,
        {"text": "正文", "id": 3},
    ), "in.jsonl"))
    problems = {item.where: item.reason for item in items if isinstance(item, RecordError)}
    assert problems == {
        "in.jsonl:1": "missing field 'content' (or 'text'): the article's text",
        "in.jsonl:2": problems["in.jsonl:2"],
        "in.jsonl:3": "field 'content' must be a string, got int",
        "in.jsonl:4": "field 'title' must be a string, got list",
        "in.jsonl:6": problems["in.jsonl:6"],
        "in.jsonl:7": "not JSON: nested too deeply",
    }
    assert problems["in.jsonl:2"].startswith("not JSON") and "'published'" in problems["in.jsonl:6"]
    [good] = [item for item in items if isinstance(item, ArticleLine)]
    assert (good.where, good.id, good.article().url) == ("in.jsonl:8", 3, "urn:yuqing:3")

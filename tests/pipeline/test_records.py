"""Articles and scored articles: derived fields, and the versioned JSON form on the bus."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from pipeline.errors import RecordError
from pipeline.records import Article, ScoredArticle, decode, encode

BEIJING = timezone(timedelta(hours=8))


def article(**overrides) -> Article:
    fields = dict(source_id="hclz", url="HTTP://WWW.HCLZ.GOV.CN/news/1.html?utm_source=wx#top",
                  title="会昌县纪委监委召开会议", content="会议强调……",
                  published=datetime(2020, 1, 9, 7, 43, tzinfo=BEIJING))
    return Article.create(**{**fields, **overrides})


def test_create_derives_canonical_url_hash_and_script():
    a = article()
    assert a.canonical_url == "http://www.hclz.gov.cn/news/1.html"
    assert a.id == a.content_hash and len(a.id) == 64
    assert a.script == "simplified"
    assert article(title="中紀委通報", content="監察機關立案調查").script == "traditional"


def test_the_same_text_refetched_has_the_same_id_and_key():
    a = article()
    b = article(url="http://www.hclz.gov.cn/news/1.html?from=timeline", content="  会议强调……\n")
    assert a.id == b.id
    assert a.key() == b.key()


def test_a_scored_article_round_trips_through_json():
    s = ScoredArticle.from_article(article(), relevance=0.8, sensitivity=0.3, level=1,
                                   department="宣传部", model_version="m1",
                                   explanation=("纪委", "会议"))
    data = encode(s)
    assert json.loads(data)["schema"] == "scored/1"
    assert decode(data, "t[0]@1") == s


def test_times_must_carry_a_time_zone():
    with pytest.raises(ValidationError):
        article(published=datetime(2020, 1, 9, 7, 43))


def test_scores_are_bounded():
    with pytest.raises(ValidationError):
        ScoredArticle.from_article(article(), relevance=1.5, sensitivity=0, level=1, model_version="m")
    with pytest.raises(ValidationError):
        ScoredArticle.from_article(article(), relevance=1, sensitivity=0, level=4, model_version="m")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"schema": "article/99"}', "unknown schema 'article/99'"),
        (b'{"schema": "article/1", "title": "x"}', "article/1: "),
    ],
)
def test_unreadable_records_name_their_origin(data, message):
    with pytest.raises(RecordError) as caught:
        decode(data, "articles.raw[1]@42")
    assert str(caught.value).startswith("articles.raw[1]@42: ")
    assert message in str(caught.value)


def test_a_consumer_expecting_scored_records_refuses_raw_ones():
    with pytest.raises(RecordError, match="expected a ScoredArticle"):
        decode(encode(article()), "articles.scored[0]@0", expect=ScoredArticle)


ODD = ("𠀀𪚥 (CJK beyond the BMP) 👨‍👩‍👧 (a joined emoji) ‏עברית‎ \u2028\u2029 line separators, "
       "\u200b zero width, \ufeff a BOM, \x7f, \"quotes\" and \\backslashes\\ and \t\r\n controls, "
       "ＦＵＬＬ ｗｉｄｔｈ, 紀委監委 traditional")


@pytest.mark.parametrize("content", [ODD, "中纪委通报。" * 200_000, "\x00 a NUL character"])
def test_records_round_trip_odd_unicode_and_large_texts(content):
    s = ScoredArticle.from_article(article(title=ODD[:40], content=content,
                                           spread={"reads": 10**12}), relevance=0.123456789,
                                   sensitivity=1e-7, level=3, department="信访室",
                                   model_version="m1", explanation=(ODD,), story_id="https://x.cn/𠀀",
                                   repost_count=2**40)
    data = encode(s)
    # the standard library reads what orjson writes, and records it wrote are read back the same
    assert json.loads(data) == {"schema": "scored/1", **s.model_dump(mode="json")}
    assert decode(data, "t[0]@1") == s
    legacy = json.dumps({"schema": "scored/1", **s.model_dump(mode="json")},
                        ensure_ascii=False).encode("utf-8")
    assert decode(legacy, "t[0]@1") == s
    assert decode(json.dumps(json.loads(legacy)).encode("ascii"), "t[0]@1") == s  # \u escapes


def test_a_lone_surrogate_is_refused_where_it_arrives():
    # JSON may escape half a surrogate pair; such text cannot be written as UTF-8 again, so
    # the record is refused where it arrives, not by the first stage that normalises it
    body = json.loads(encode(article()))
    body["content"] = "\ud800 half of a pair"
    with pytest.raises(RecordError, match=r"^articles.raw\[2\]@7: not a record: .*surrogate"):
        decode(json.dumps(body).encode("ascii"), "articles.raw[2]@7")

"""Property-based fuzzing (Hypothesis) of everything that reads input an attacker or a careless
operator writes: records on the bus, feeds, sitemaps and pages, publication dates, settings.

The property is the same everywhere: the reader answers (a value of its type, or its own error:
RecordError, ConfigError, a ``problem``) and never raises anything else, within bounded time
(Hypothesis' deadline per example) and bounded memory (:func:`bounded`: the peak of traced
allocations per example). Under ``CI=true`` the examples are derandomised so that CI is
repeatable; on a developer's machine each run explores new ones. The whole module runs in about
a minute; ``YUQING_FUZZ_EXAMPLES=1500`` (ten times the default) searches longer, about five.
"""

from __future__ import annotations

import json
import os
import tracemalloc
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawlers.feeds import ParsedFeed, ParsedSitemap, parse_feed, parse_sitemap
from crawlers.normalize.dates import parse_published, parse_published_detail
from crawlers.normalize.encoding import garbled
from crawlers.pages import article_problem, decode_page, extract_page, list_links
from crawlers.sources import Extraction, load_sources
from pipeline.config import Settings, load_settings
from pipeline.errors import ConfigError, RecordError
from pipeline.records import Article, decode, encode
from pipeline.testing import IN_CI
from pipeline.yamlfile import parse_yaml

# feedparser's own notice about a field it maps, on every entry without "published"
pytestmark = pytest.mark.filterwarnings("ignore:To avoid breaking existing software:DeprecationWarning")

FUZZ = settings(max_examples=int(os.environ.get("YUQING_FUZZ_EXAMPLES", "150")),
                deadline=timedelta(seconds=5), database=None, derandomize=IN_CI,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
#: what one example may allocate at its peak, whatever it is given
MEMORY = 64_000_000


def bounded(call, *args, **kwargs):
    """``call(*args, **kwargs)`` with its peak of traced memory bounded by :data:`MEMORY`."""
    tracemalloc.start()
    try:
        result = call(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY, f"{call.__name__} peaked at {peak} bytes"
    return result


# ---- records on the bus ----------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)
VALID = json.loads(encode(Article.create(source_id="county", url="https://www.example.gov.cn/1.html",
                                         title="某县纪委监委通报", content="正文")))


def check_record(data: bytes) -> None:
    try:
        record = bounded(decode, data, "articles.raw[0]@0")
    except RecordError as error:
        assert error.where == "articles.raw[0]@0"
    else:
        assert isinstance(record, Article) and record.url.startswith(("http", "urn:yuqing:"))


@FUZZ
@given(st.binary(max_size=4000))
def test_any_bytes_decode_to_a_record_or_a_record_error(data):
    check_record(data)


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(VALID) + ["extra", "schema"]), json_values, max_size=6))
def test_records_with_hostile_fields_decode_or_are_refused(changes):
    check_record(json.dumps({**VALID, **changes}).encode())


@FUZZ
@given(st.integers(1, 200_000), st.sampled_from([b"[", b'{"a":']), st.integers(1, 6000))
def test_deep_nesting_and_long_numbers_are_record_errors(depth, opener, digits):
    closer = b"]" if opener == b"[" else b"}"
    check_record(opener * depth + b"1" + closer * depth)
    check_record(b'{"schema": "article/1", "n": ' + b"9" * digits + b"}")


# ---- feeds and sitemaps ----------------------------------------------------------------------

xml_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
hostile_text = st.one_of(xml_text, st.sampled_from([
    "<script>alert(1)</script>", "&lt;b&gt;", "&amp;&#0;&#xFFFF;", "]]>", "<![CDATA[x]]>",
    "javascript:alert(1)", "\x00\x01\x1b", "Ä³ÏØ¼ÍÎ¯", "2024年13月45日 25:61", "&xxe;"]))


@st.composite
def feeds(draw) -> bytes:
    kind = draw(st.sampled_from(["rss", "atom", "rdf"]))
    items = draw(st.lists(st.tuples(hostile_text, hostile_text, hostile_text, hostile_text),
                          max_size=5))
    esc = draw(st.booleans())

    def text(value: str) -> str:
        return value.replace("&", "&amp;").replace("<", "&lt;") if esc else value

    if kind == "atom":
        body = "".join(f"<entry><title>{text(t)}</title><link href='{text(link)}'/><updated>{text(d)}"
                       f"</updated><content type='html'>{text(c)}</content></entry>"
                       for t, link, d, c in items)
        doc = f"<feed xmlns='http://www.w3.org/2005/Atom'><title>t</title>{body}</feed>"
    else:
        body = "".join(f"<item><title>{text(t)}</title><link>{text(link)}</link><pubDate>{text(d)}"
                       f"</pubDate><description>{text(c)}</description></item>" for t, link, d, c in items)
        doc = f"<rss version='2.0'><channel><title>t</title>{body}</channel></rss>"
    declared = draw(st.sampled_from(["utf-8", "gb2312", "big5", "iso-8859-1", "nonsense"]))
    codec = draw(st.sampled_from(["utf-8", "gb18030", "big5hkscs", "latin-1"]))
    return f'<?xml version="1.0" encoding="{declared}"?>{doc}'.encode(codec, "replace")


def check_feed(data: bytes, content_type: str | None, encoding: str | None) -> None:
    parsed = bounded(parse_feed, data, "http://www.example.gov.cn/rss", content_type, encoding)
    assert isinstance(parsed, ParsedFeed)
    for entry in parsed.entries:
        assert entry.published is None or entry.published.tzinfo is not None
        article_problem(entry.title, entry.content, from_page=False)


@FUZZ
@given(feeds(), st.sampled_from([None, "application/rss+xml", "text/xml; charset=gbk", "text/html"]),
       st.sampled_from([None, "gb18030", "utf-8"]))
def test_feeds_parse_to_entries_or_a_problem(data, content_type, encoding):
    check_feed(data, content_type, encoding)


@FUZZ
@given(st.binary(max_size=3000))
def test_any_bytes_as_a_feed_or_a_sitemap(data):
    check_feed(data, None, None)
    assert isinstance(bounded(parse_sitemap, data, "http://a.cn/s.xml", 1_000_000), ParsedSitemap)
    gz = b"\x1f\x8b" + data
    assert isinstance(bounded(parse_sitemap, gz, "http://a.cn/s.xml.gz", 1_000_000), ParsedSitemap)


@FUZZ
@given(st.lists(st.tuples(hostile_text, hostile_text, hostile_text), max_size=8))
def test_sitemaps_parse_to_entries_or_a_problem(urls):
    body = "".join(f"<url><loc>{loc}</loc><lastmod>{mod}</lastmod><news:news><news:title>{title}"
                   "</news:title></news:news></url>" for loc, mod, title in urls)
    doc = ("<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' "
           f"xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>{body}</urlset>")
    parsed = bounded(parse_sitemap, doc.encode("utf-8", "replace"), "http://a.cn/s.xml", 1_000_000)
    assert isinstance(parsed, ParsedSitemap)
    for entry in parsed.entries:
        assert entry.lastmod is None or entry.lastmod.tzinfo is not None


# ---- pages -----------------------------------------------------------------------------------

TAGS = ["div", "p", "span", "a", "h1", "article", "table", "td", "script", "style", "meta", "br"]


@st.composite
def pages(draw) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 25))):
        tag = draw(st.sampled_from(TAGS))
        attrs = draw(st.sampled_from(["", " class='content'", " href='javascript:x'", " href='/t1.html'",
                                      " id='title'", " charset='gbk'", " href='http://[::1'"]))
        parts.append(draw(st.sampled_from([f"<{tag}{attrs}>", f"</{tag}>", "<!--", "-->", "<![CDATA["])))
        parts.append(draw(hostile_text))
    depth = draw(st.integers(0, 3000))
    return "<html><head><title>" + draw(hostile_text) + "</title></head><body>" + \
        "<div>" * depth + "".join(parts) + "</div>" * depth + "</body></html>"


@FUZZ
@given(pages(), st.sampled_from([None, "a", "ul li"]))
def test_pages_extract_to_an_article_and_links_or_nothing(html, items):
    page = bounded(extract_page, html, "http://www.example.gov.cn/a/t1.html", Extraction())
    assert isinstance(page.title, str) and isinstance(page.content, str)
    assert page.published is None or page.published.tzinfo is not None
    links, next_page = bounded(list_links, html, "http://www.example.gov.cn/a/list.html",
                               Extraction(items=items))
    assert all(link.startswith(("http://", "https://")) for link in links)
    article_problem(page.title, page.content, from_page=True)


@FUZZ
@given(st.binary(max_size=4000), st.sampled_from([None, "text/html", "text/html; charset=gbk",
                                                  "text/html; charset=nonsense"]),
       st.sampled_from([None, "gb18030", "big5", "latin-1"]))
def test_any_bytes_decode_to_text(body, content_type, override):
    text, codec = bounded(decode_page, body, content_type, override)
    assert isinstance(text, str) and codec
    assert garbled(text) is None or isinstance(garbled(text), str)


# ---- publication dates -----------------------------------------------------------------------

numbers = st.one_of(st.integers(0, 100), st.integers(0, 10**6), st.integers(10**8, 10**30))
month_days = st.one_of(st.tuples(st.integers(0, 13), st.integers(0, 32)),
                       st.sampled_from([(2, 29), (2, 30), (4, 31), (12, 31), (1, 1)]))
date_like = st.one_of(
    st.text(max_size=60),
    st.builds("{}-{}-{} {}:{}".format, st.integers(-10, 100_000), st.integers(-1, 99), st.integers(-1, 99),
              st.integers(-1, 99), st.integers(-1, 99)),
    st.builds("{}年{}月{}日 {}{}:{}".format, numbers, st.integers(0, 13), st.integers(0, 32),
              st.sampled_from(["", "下午", "上午", "中午", "凌晨"]), st.integers(0, 99), st.integers(0, 99)),
    st.builds("{}{}前".format, numbers, st.sampled_from(["秒", "分钟", "小时", "天", "日", "周"])),
    st.builds(lambda md, h, m: f"{md[0]:02d}-{md[1]:02d} {h:02d}:{m:02d}", month_days,
              st.integers(0, 25), st.integers(0, 61)),
    st.builds(str, numbers),
    st.sampled_from(["昨天 25:00", "今天 10:20", "前天", "刚刚", "Tue, 30 Feb 2026 10:00:00 +9999",
                     "2026-02-29T10:00:00+08:00", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00"]),
)
# the day a page is read matters (a leap year's January, the first days of the calendar)
nows = st.one_of(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1),
                              timezones=st.just(timezone.utc)),
                 st.sampled_from([datetime(2028, 1, 10, tzinfo=timezone.utc),
                                  datetime(2024, 2, 28, 23, 0, tzinfo=timezone.utc),
                                  datetime(1971, 1, 1, tzinfo=timezone.utc)]))


@settings(FUZZ, max_examples=600)
@given(date_like, nows)
def test_dates_parse_to_an_aware_moment_or_none(raw, now):
    moment = bounded(parse_published, raw, now)
    assert moment is None or moment.tzinfo is not None
    detail = parse_published_detail(raw, now)
    assert (detail is None) == (moment is None)


# ---- settings --------------------------------------------------------------------------------

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) |
                         st.dictionaries(st.sampled_from(["bus", "index", "store", "paths", "url", "name",
                                                          "partitions", "data_dir", "alerting", "file",
                                                          "topic_prefix", "x"]) | st.text(max_size=6),
                                         inner, max_size=5), max_leaves=25)
yaml_text = st.one_of(
    documents.map(lambda doc: yaml.safe_dump(doc, allow_unicode=True)),
    st.text(max_size=300),
    st.lists(st.sampled_from(["a: &x [1, 2]\n", "b: *x\n", "c: [*x, *x, *x]\n", "- *x\n", "? [a]\n: b\n",
                              "bus: {url: 'kafka://h:1'}\n", "<<: *x\n", "d: !!binary AAAA\n",
                              "e: !!python/object:os.system ls\n", "f: 2026-13-45\n", "  - x\n",
                              "g: &y {h: *y}\n", "%YAML 1.1\n---\n", "i: " + "9" * 5000 + "\n"]),
             max_size=12).map("".join),
)


@FUZZ
@given(yaml_text)
def test_settings_load_or_say_what_is_wrong(tmp_path_factory, text):
    try:
        bounded(parse_yaml, text, "yuqing.yaml")
    except ConfigError as error:
        assert all(p.startswith("yuqing.yaml") for p in error.problems)
    path = tmp_path_factory.mktemp("settings") / "yuqing.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        assert isinstance(bounded(load_settings, path, env={}), Settings)
    except ConfigError as error:
        assert all(p.startswith((str(path), "environment", "command line")) for p in error.problems)
    sources = path.with_name("sources.yaml")
    path.rename(sources)
    try:
        bounded(load_sources, sources)
    except ConfigError:
        pass


@pytest.mark.parametrize("levels", [5, 7, 9])
def test_alias_bombs_of_every_size_stay_bounded(levels):
    lines = ["x0: &x0 [a, b, c, d, e, f, g, h, i]"] + \
        [f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 9) + "]" for i in range(1, levels)]
    try:
        bounded(parse_yaml, "\n".join(lines), "bomb.yaml")
    except ConfigError as error:
        assert "aliases" in str(error)


# ---- the garbled-text check ------------------------------------------------------------------

COMMON = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"
chinese = st.text(st.sampled_from(COMMON + "，。、；：“”（）《》0123456789 abcXYZ"), min_size=12, max_size=400)


@settings(FUZZ, max_examples=300)
@given(chinese)
def test_chinese_text_is_never_called_garbled(text):
    assert garbled(text) is None


@settings(FUZZ, max_examples=300)
@given(chinese.filter(lambda t: sum(c in COMMON for c in t) >= 8),
       st.sampled_from([("gb18030", "latin-1"), ("utf-8", "latin-1"), ("utf-8", "cp1252"),
                        ("utf-8", "iso8859-2")]))
def test_chinese_decoded_the_wrong_way_is_called_garbled(text, codecs):
    real, wrong = codecs
    assert garbled(text.encode(real).decode(wrong, "replace")) is not None

"""The index contract, run against every backend (SQLite FTS5 and the real Elasticsearch node)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.index import Query
from pipeline.index.elasticsearch import MAPPINGS, SETTINGS, ElasticsearchIndex
from pipeline.records import Article, ScoredArticle
from pipeline.testing import ES_URL, require_service, unique

BEIJING = timezone(timedelta(hours=8))


def scored(title, content, *, source="hclz", level=1, department="宣传部", day=1, hour=9,
           url=None) -> ScoredArticle:
    article = Article.create(
        source_id=source,
        url=url or f"http://example.cn/{abs(hash((title, content)))}",
        title=title,
        content=content,
        published=datetime(2026, 11, day, hour, 0, tzinfo=BEIJING),
    )
    return ScoredArticle.from_article(
        article, relevance=0.9 if level else 0.1, sensitivity=0.5, level=level,
        department=department if level else "", model_version="test",
    )


MEETING = scored("会昌县纪委监委召开警示教育大会", "会议要求深入贯彻中央八项规定精神。", day=1)
CASE = scored("赣州市某局原局长接受审查调查", "涉嫌严重违纪违法，目前正接受纪律审查和监察调查。",
              source="jxlz", level=2, department="案管室", day=3)
TAIWAN = scored("中國監察委員會通報一宗案件", "監察機關對一名官員立案調查。", source="cna", level=2,
                department="案管室", day=5)
BOARD = scored("反映村干部侵占补偿款", "我是某村村民，村支书截留征地补偿款。", source="board",
               level=2, department="信访室", day=7)
SPORTS = scored("赣州队主场取胜", "比赛第80分钟打进制胜球。", source="news", level=0, day=9)
ALL = [MEETING, CASE, TAIWAN, BOARD, SPORTS]


@pytest.fixture
def index(index_factory):
    index = index_factory()
    for article in ALL:
        index.add(article)
    assert index.flush() == []
    index.refresh()
    return index


def titles(result) -> set[str]:
    return {hit.article.title for hit in result.hits}


def test_a_word_inside_a_longer_name_is_found(index):
    assert titles(index.search(Query(text="纪委"))) == {MEETING.title}


def test_traditional_text_is_found_by_simplified_query_and_back(index):
    assert titles(index.search(Query(text="监察"))) == {CASE.title, TAIWAN.title}
    assert titles(index.search(Query(text="監察"))) == {CASE.title, TAIWAN.title}


def test_a_term_that_segmenters_would_split_is_still_found(index):
    assert titles(index.search(Query(text="八项规定"))) == {MEETING.title}


def test_a_one_character_query_works(index):
    assert titles(index.search(Query(text="赣"))) == {CASE.title, SPORTS.title}


def test_full_width_and_upper_case_letters_match_their_plain_forms(index_factory):
    index = index_factory()
    index.add(scored("ＸＹＺ科技公司中标", "该项目由ABC建设集团承建。", day=2))
    assert index.flush() == []
    index.refresh()
    for query in ("xyz科技", "ＸＹＺ科技", "XYZ", "ａｂｃ建设", "abc"):
        assert index.search(Query(text=query)).total == 1, query
    if index_factory.backend == "elasticsearch":
        # Analysts type Kibana queries as they come: the node itself folds width and case.
        raw = index.client.search(index=index.name,
                                  query={"match_phrase": {"title_s": "ＸＹＺ科技"}})
        assert raw["hits"]["total"]["value"] == 1


def test_terms_must_all_match_and_absent_words_match_nothing(index):
    assert titles(index.search(Query(text="补偿款 村支书"))) == {BOARD.title}
    assert index.search(Query(text="补偿款 纪律审查")).total == 0
    assert index.search(Query(text="纪检")).total == 0  # 纪 and 检 occur, 纪检 does not


def test_title_matches_rank_above_body_matches(index_factory):
    index = index_factory()
    in_body = scored("县里召开会议", "会议提到了巡察工作。" + "其他内容。" * 20, day=2)
    in_title = scored("巡察组进驻县自然资源局", "为期一个月。", day=1)
    index.add(in_body)
    index.add(in_title)
    index.flush()
    index.refresh()
    result = index.search(Query(text="巡察"))
    assert [h.article.title for h in result.hits] == [in_title.title, in_body.title]


def test_filters_on_source_level_department_and_time(index):
    assert titles(index.search(Query(sources=("jxlz", "cna")))) == {CASE.title, TAIWAN.title}
    assert titles(index.search(Query(min_level=2, departments=("信访室",)))) == {BOARD.title}
    assert titles(index.search(Query(levels=(0,)))) == {SPORTS.title}
    week = Query(since=datetime(2026, 11, 3, tzinfo=BEIJING), until=datetime(2026, 11, 6, tzinfo=BEIJING))
    assert titles(index.search(week)) == {CASE.title, TAIWAN.title}


def test_sorting_and_paging(index):
    newest = index.search(Query(sort="newest", limit=2))
    assert newest.total == 5
    assert [h.article.title for h in newest.hits] == [SPORTS.title, BOARD.title]
    page2 = index.search(Query(sort="oldest", offset=2, limit=2))
    assert [h.article.title for h in page2.hits] == [TAIWAN.title, BOARD.title]
    by_level = index.search(Query(sort="level", limit=5))
    assert [h.article.level for h in by_level.hits] == [2, 2, 2, 1, 0]


def test_reindexing_the_same_article_keeps_one_document(index_factory):
    index = index_factory()
    for _ in range(3):
        index.add(CASE)
        index.flush()
    replay = index_factory()  # a replay after a restart goes through a new client
    replay.add(CASE)
    replay.flush()
    replay.refresh()
    assert replay.count() == 1
    assert replay.search(Query(text="审查调查")).total == 1


def test_an_undated_article_fetched_again_in_a_later_month_stays_one_document(index_factory):
    # Without a publication time an article is filed by its fetch time; a page re-fetched the
    # next month has the same text (the same id) and must update its document, not add one.
    def fetched_on(month):
        article = Article.create(source_id="board", url="http://example.cn/undated",
                                 title="网友反映某镇干部吃拿卡要", content="帖子没有发布时间。",
                                 fetched=datetime(2026, month, 20, 9, 0, tzinfo=BEIJING))
        return ScoredArticle.from_article(article, relevance=0.9, sensitivity=0.8, level=2,
                                          department="信访室", model_version="test")

    index = index_factory()
    index.add(fetched_on(10))
    index.flush()
    index.refresh()
    later = fetched_on(11)
    index.add(later)
    assert index.flush() == []
    index.refresh()
    assert index.count() == 1
    assert index.get(later.id).fetched == later.fetched


def test_an_article_reads_back_as_it_was_written(index):
    stored = index.get(TAIWAN.id)
    assert stored == TAIWAN
    assert stored.script == "traditional"
    assert index.get("0" * 64) is None


def test_hits_carry_the_whole_record(index):
    [hit] = index.search(Query(text="补偿款")).hits
    assert hit.article == BOARD
    assert hit.score is not None and hit.score > 0


def test_retention_drops_whole_months_before_the_cutoff_and_keeps_the_rest(index_factory):
    index = index_factory()
    months = {}
    for month in (9, 10, 11):
        article = Article.create(source_id="hclz", url=f"http://example.cn/m{month}",
                                 title=f"{month}月通报", content=f"{month}月的案件通报正文。",
                                 published=datetime(2026, month, 15, 9, 0, tzinfo=BEIJING))
        months[month] = ScoredArticle.from_article(article, relevance=0.9, sensitivity=0.5, level=1,
                                                   department="宣传部", model_version="test")
        index.add(months[month])
    assert index.flush() == []
    index.refresh()

    assert index.prune(datetime(2026, 10, 20, tzinfo=timezone.utc)) == 1
    index.refresh()
    assert index.count() == 2
    assert index.get(months[9].id) is None
    assert index.get(months[10].id) == months[10]
    assert titles(index.search(Query(text="通报", limit=10))) == {"10月通报", "11月通报"}


def test_spread_counters_are_stored_and_read_back(index_factory):
    article = Article.create(source_id="weibo", url="https://weibo.example/1/Nabc", title="清河发布",
                             content="县教育局回应，已成立联合调查组。",
                             published=datetime(2026, 11, 2, 9, 0, tzinfo=BEIJING),
                             spread={"reposts": 12, "comments": 30, "likes": 88})
    index = index_factory()
    index.add(ScoredArticle.from_article(article, relevance=0.9, sensitivity=0.5, level=1,
                                         model_version="test"))
    assert index.flush() == []
    index.refresh()
    hit, = index.search(Query(text="调查组")).hits
    assert hit.article.spread == {"reposts": 12, "comments": 30, "likes": 88}


@pytest.fixture
def elasticsearch_factory():
    """Elasticsearch indices over one name (a second one is a restart): only it has mappings."""
    require_service("Elasticsearch", ES_URL)
    name, opened = unique("test-"), []

    def make():
        opened.append(ElasticsearchIndex(ES_URL, name=name))
        return opened[-1]

    yield make
    opened[0].delete_index()
    for index in opened:
        index.close()


@pytest.mark.elasticsearch
def test_an_index_made_before_spread_existed_takes_it(elasticsearch_factory):
    """Monthly indices created by an older version have strict mappings without ``spread``;
    opening the index adds the field to them, so older months keep taking documents."""
    index_factory = elasticsearch_factory
    first = index_factory()
    older = {"dynamic": "strict", "properties": {k: v for k, v in MAPPINGS["properties"].items()
                                                 if k != "spread"}}
    first.client.indices.put_index_template(  # what the older version installed
        name=f"{first.name}-template", index_patterns=[f"{first.name}-*"], priority=100,
        template={"settings": SETTINGS, "mappings": older, "aliases": {first.name: {}}})
    first.client.indices.create(index=f"{first.name}-2020.01")
    reopened = index_factory()
    article = Article.create(source_id="weibo", url="https://weibo.example/1/Nold", title="旧帖",
                             content="村里修路集资款去向不明。", spread={"reads": 5},
                             published=datetime(2020, 1, 5, 9, 0, tzinfo=BEIJING))
    reopened.add(ScoredArticle.from_article(article, relevance=0.9, sensitivity=0.5, level=1,
                                            model_version="test"))
    assert reopened.flush() == []

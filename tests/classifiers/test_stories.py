"""Story clusters: exact duplicates, reposts with small edits, and what must stay apart."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from classifiers.identity import names, template_free
from classifiers.stories import NEAR_DISTANCE, SCHEME, StoryClusters, fingerprint, hamming, simhash
from classifiers.testing import COMPLAINTS, plea_post, reposts, weibo_post
from crawlers.normalize.dates import SHANGHAI
from pipeline.text import normalize

# Our own texts: a county commission notice and what reposting sites do to it.
BASE = """近日，清河县纪委监委通报了三起违反中央八项规定精神的典型问题。
一是县农业农村局原副局长张某某违规收受礼金问题。二〇二三年春节前后，张某某先后四次收受管理服务对象所送礼金共计八千元。张某某受到党内警告处分，违纪所得予以收缴。
二是城关镇党委委员李某某公车私用问题。二〇二三年五月，李某某驾驶公务用车前往外地办理私事，往返三百余公里，产生的燃油费和过路费由单位报销。李某某受到党内警告处分并退赔相关费用。
三是县水利局干部王某某违规接受宴请问题。二〇二三年八月，王某某在工程验收期间接受施工单位安排的宴请，席间饮用高档白酒。王某某受到政务警告处分。
县纪委监委指出，上述问题暴露出一些党员干部纪律意识淡薄，心存侥幸。各级党组织要引以为戒，持之以恒纠治四风，对顶风违纪行为发现一起查处一起，决不姑息。"""

REPOST_WITH_EXTRAS = ("来源：清河县纪委监委 作者：宣传部 字号：大 中 小 打印 关闭\n首页 > 要闻\n" + BASE +
                      "\n网友纷纷留言表示，小节不守终将酿成大错，希望相关部门继续加大监督力度。")
REPOST_EDITED = BASE.replace("近日，", "日前，").replace("决不姑息", "绝不手软").replace(
    "席间饮用高档白酒", "席间饮酒")
REPOST_TRADITIONAL = "近日，清河縣紀委監委通報了三起違反中央八項規定精神的典型問題。" + BASE.split("\n", 1)[1]
REFORMATTED = "  ".join(BASE.split("\n")) + "\n\n"

SAME_TOPIC = """日前，青山区纪委监委对四起违反中央八项规定精神问题进行了通报曝光。
区住建局原科长赵某某借婚礼之机收受下属和服务对象礼金二万余元，受到党内严重警告处分。
街道办事处副主任孙某某违规使用公务加油卡为私家车加油十余次，受到政务记过处分，违规款项已全部退缴。
区卫健委工作人员周某某在公务接待中超标准安排宴请并虚开发票报销，受到党内警告处分。
区纪委监委强调，节日期间是四风问题易发多发的时段，全区党员干部要严守纪律红线，自觉抵制歪风邪气。"""

UNRELATED = """本周末全县将迎来一次明显降温过程，气象部门预计最低气温降至零下三度，部分乡镇有小到中雪。
请市民注意添衣保暖，驾驶员出行时减速慢行，农户做好大棚蔬菜防冻工作。"""

T0 = datetime(2024, 3, 5, 9, 30, tzinfo=SHANGHAI)


@pytest.fixture
def clusters(tmp_path):
    with StoryClusters(tmp_path / "clusters.sqlite3") as store:
        yield store


@pytest.mark.parametrize("repost", [REPOST_WITH_EXTRAS, REPOST_EDITED, REPOST_TRADITIONAL])
def test_reposts_with_small_edits_are_near_in_simhash(repost):
    assert hamming(simhash(BASE), simhash(repost)) <= NEAR_DISTANCE


@pytest.mark.parametrize("other", [SAME_TOPIC, UNRELATED])
def test_different_articles_are_far_even_on_the_same_topic(other):
    assert hamming(simhash(BASE), simhash(other)) > NEAR_DISTANCE + 6


def test_the_first_article_starts_a_story(clusters):
    first = clusters.assign("a1", BASE, T0, "qinghe-jw")
    assert first.is_new and first.repost_count == 0
    assert (first.cluster_id, first.first_source, first.first_seen) == ("a1", "qinghe-jw", T0)


def test_an_exact_duplicate_joins_the_story_and_is_marked_exact(clusters):
    clusters.assign("a1", BASE, T0, "qinghe-jw")
    again = clusters.assign("a2", REFORMATTED, T0 + timedelta(hours=1), "portal")
    assert again.exact and not again.is_new
    assert again.cluster_id == "a1" and again.repost_count == 1


def test_reposts_join_the_story_and_count_as_spread(clusters):
    clusters.assign("a1", BASE, T0, "qinghe-jw")
    for n, (text, source) in enumerate([(REPOST_WITH_EXTRAS, "portal"), (REPOST_EDITED, "forum"),
                                        (REPOST_TRADITIONAL, "hk-news")], start=1):
        result = clusters.assign(f"r{n}", text, T0 + timedelta(hours=n), source)
        assert result.cluster_id == "a1" and not result.is_new and not result.exact
        assert result.repost_count == n
    assert result.first_source == "qinghe-jw"


def test_articles_on_the_same_topic_form_stories_of_their_own(clusters):
    clusters.assign("a1", BASE, T0, "qinghe-jw")
    other = clusters.assign("b1", SAME_TOPIC, T0, "qingshan-jw")
    weather = clusters.assign("c1", UNRELATED, T0, "weather")
    assert other.is_new and other.cluster_id == "b1"
    assert weather.is_new and weather.cluster_id == "c1"


def test_the_first_source_is_the_earliest_seen_even_when_it_arrives_later(clusters):
    clusters.assign("late", REPOST_WITH_EXTRAS, T0 + timedelta(hours=5), "portal")
    early = clusters.assign("orig", BASE, T0, "qinghe-jw")
    assert early.first_source == "qinghe-jw" and early.first_seen == T0
    assert early.repost_count == 1


def test_assigning_the_same_article_again_is_idempotent(clusters):
    clusters.assign("a1", BASE, T0, "qinghe-jw")
    clusters.assign("r1", REPOST_EDITED, T0, "forum")
    replay = clusters.assign("r1", REPOST_EDITED, T0, "forum")
    assert replay.cluster_id == "a1" and replay.repost_count == 1 and not replay.is_new


def test_clusters_survive_a_restart(tmp_path):
    path = tmp_path / "clusters.sqlite3"
    with StoryClusters(path) as store:
        store.assign("a1", BASE, T0, "qinghe-jw")
    with StoryClusters(path) as store:
        result = store.assign("r1", REPOST_WITH_EXTRAS, T0 + timedelta(minutes=5), "portal")
    assert result.cluster_id == "a1" and result.repost_count == 1


def test_a_naive_seen_at_is_refused(clusters):
    with pytest.raises(ValueError, match="timezone-aware"):
        clusters.assign("a1", BASE, datetime(2024, 3, 5, 9, 30), "qinghe-jw")


def _reference_simhash(text: str) -> int:
    """Scheme 2 written out plainly, one character and one bit at a time with Python integers."""
    from pipeline.text import normalize

    chars = [ord(c) + 1 for c in normalize(text) if c.isalnum()]
    if not chars:
        return 0
    chars += [0] * (3 - len(chars))
    mask = (1 << 64) - 1
    weights = [0] * 64
    for i in range(len(chars) - 2):
        z = (((chars[i] * 0x110001 + chars[i + 1]) * 0x110001 + chars[i + 2]) + 0x9E3779B97F4A7C15) & mask
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        h = z ^ (z >> 31)
        for bit in range(64):
            weights[bit] += 1 if (h >> bit) & 1 else -1
    return sum(1 << bit for bit in range(64) if weights[bit] > 0)


@pytest.mark.parametrize("text", [BASE, REPOST_TRADITIONAL, SAME_TOPIC, UNRELATED, "纪委", "ab", "a",
                                  "Hello, World 2024", "！！！", "", "𠀀𠀁 emoji 🙂 ＡＢＣ１２３ under_score"])
def test_the_vectorised_simhash_equals_the_plain_definition(text):
    # Stored fingerprints must stay comparable with new ones: any change to these bits is a
    # new scheme (SCHEME in dedup.py), never a silent change.
    assert simhash(text) == _reference_simhash(text)


def test_fingerprints_of_an_earlier_scheme_are_never_compared_but_exact_copies_still_join(tmp_path):
    import sqlite3

    path = tmp_path / "clusters.sqlite3"
    # A file as versions before schemes wrote it: no scheme column, a fingerprint of other bits.
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE articles (article_id TEXT PRIMARY KEY, cluster_id TEXT NOT NULL,
            exact_hash TEXT NOT NULL, simhash INTEGER NOT NULL, source_id TEXT NOT NULL,
            seen_at TEXT NOT NULL);""")
    from classifiers.stories import exact_hash

    near_new_print = simhash(SAME_TOPIC) ^ 0b111  # within reach, were it compared
    signed = near_new_print - (1 << 64) if near_new_print >= 1 << 63 else near_new_print
    seen = T0.astimezone(timezone.utc).isoformat()
    old.execute("INSERT INTO articles VALUES ('old1', 'old1', ?, 123, 'qinghe-jw', ?)",
                (exact_hash(BASE), seen))
    old.execute("INSERT INTO articles VALUES ('old2', 'old2', 'x', ?, 'elsewhere', ?)", (signed, seen))
    old.commit()
    old.close()
    with StoryClusters(path) as store:
        copy = store.assign("c1", BASE, T0 + timedelta(minutes=1), "portal")
        topic = store.assign("t1", SAME_TOPIC, T0 + timedelta(minutes=2), "portal")
        again = store.assign("t2", SAME_TOPIC.replace("日前", "近日"), T0 + timedelta(minutes=3),
                             "portal")
    assert (copy.cluster_id, copy.exact, copy.first_source) == ("old1", True, "qinghe-jw")
    assert topic.is_new and topic.cluster_id == "t1"  # old2's fingerprint is not scheme 2
    assert (again.cluster_id, again.exact) == ("t1", False)  # scheme 2 prints match each other


def test_two_processes_sharing_the_file_see_each_others_stories(tmp_path):
    path = tmp_path / "clusters.sqlite3"
    with StoryClusters(path) as first, StoryClusters(path) as second:
        second.assign("x0", UNRELATED, T0, "weather")  # `second` has read the file once now
        first.assign("a1", BASE, T0, "qinghe-jw")
        repost = second.assign("r1", REPOST_WITH_EXTRAS, T0 + timedelta(minutes=5), "portal")
    assert (repost.cluster_id, repost.repost_count, repost.is_new) == ("a1", 1, False)


# -- complaints on one template: each its own story (issue 18) -------------------------------------

@pytest.mark.parametrize("template", [weibo_post, plea_post])
def test_complaints_on_one_template_are_stories_of_their_own_and_their_reposts_join_them(clusters, template):
    posts = [template(*c) for c in COMPLAINTS]
    assert min(hamming(simhash(a), simhash(b)) for a in posts for b in posts if a != b) <= NEAR_DISTANCE
    stories = [clusters.assign(f"c{n}", text, T0 + timedelta(minutes=n), "weibo") for n, text in enumerate(posts)]
    assert [s.cluster_id for s in stories] == [f"c{n}" for n in range(len(posts))]
    assert all(s.is_new for s in stories)
    for n, text in enumerate(posts):
        for label, repost in reposts(text).items():
            joined = clusters.assign(f"c{n}-{label}", repost, T0 + timedelta(hours=1), "portal")
            assert (joined.cluster_id, joined.is_new) == (f"c{n}", False), (n, label)


#: Case notices on one template: only the official and the unit differ.
OFFICIALS = [("县教育科技体育局", "原副局长", "朱文斌"), ("县自然资源局", "原副局长", "欧阳平"),
             ("周田镇", "原党委书记", "钟建国"), ("县住房和城乡建设局", "原局长", "曾宪明"),
             ("麻州镇", "原镇长", "刘志强"), ("县农业农村局", "副局长", "温小龙")]


def case_notice(unit, post, person):
    return f"#会昌清风# 【审查调查】会昌{unit}{post}{person}涉嫌严重违纪违法，目前正接受县纪委监委纪律审查和监察调查。"


def test_case_notices_about_different_officials_stay_apart_though_their_fingerprints_are_near(clusters):
    notices = [case_notice(*o) for o in OFFICIALS]
    # the template is most of each notice: some pairs are within the distance, fingerprints alone
    # would merge them
    assert min(hamming(fingerprint(a), fingerprint(b)) for a in notices for b in notices if a != b) <= NEAR_DISTANCE
    stories = [clusters.assign(f"n{n}", text, T0, "jxlz") for n, text in enumerate(notices)]
    assert [s.cluster_id for s in stories] == [f"n{n}" for n in range(len(notices))]
    repost = clusters.assign("r", "转发：" + notices[4].replace("目前", "现"), T0 + timedelta(hours=1), "portal")
    assert repost.cluster_id == "n4"


def test_the_names_of_a_text_are_read_where_they_are_written():
    assert names(normalize(weibo_post(*COMPLAINTS[2]))) == {"会昌县", "门岭镇", "羊角村", "李春"}
    assert names(normalize(case_notice(*OFFICIALS[1]))) >= {"欧阳平", "资源局"}
    assert names(normalize("据县纪委监委消息，县财政局原局长张某某接受审查。")) == {"张某", "财政局"}
    # a title is not a unit, a time is not a name
    assert not names(normalize("今天县里来了个副局长，说村长不在。"))


def test_the_template_is_not_what_the_fingerprint_reads():
    read = template_free(normalize(plea_post(*COMPLAINTS[0])))
    assert read.split() == ["周田镇党委副书记张建华在危房改造中收受好处费三万元，群众敢怒不敢言。"]
    assert template_free(normalize(weibo_post(*COMPLAINTS[0]))).split() == [
        "本人实名举报周田镇党委副书记张建华在危房改造中收受好处费三万元，请会昌县纪委监委调查处理！"]


def test_fingerprints_of_scheme_2_are_not_compared_with_todays(tmp_path):
    import sqlite3

    path = tmp_path / "clusters.sqlite3"
    with StoryClusters(path):
        pass
    old = sqlite3.connect(path)
    # written by the version before: the bare simhash of the text, which today's would match
    print_ = fingerprint(BASE)
    signed = print_ - (1 << 64) if print_ >= 1 << 63 else print_
    old.execute("INSERT INTO articles (article_id, cluster_id, exact_hash, simhash, source_id, seen_at, "
                "scheme) VALUES ('old', 'old', 'x', ?, 'qinghe-jw', ?, 2)",
                (signed, T0.astimezone(timezone.utc).isoformat()))
    old.commit()
    old.close()
    with StoryClusters(path) as store:
        assert store.assign("new", BASE, T0, "portal").is_new
    assert SCHEME == 3


def test_a_story_keeps_the_highest_level_of_its_articles(clusters):
    assert clusters.raise_level("s1", 1, "宣传部") == (1, "宣传部")
    assert clusters.raise_level("s1", 2, "信访室") == (2, "信访室")
    assert clusters.raise_level("s1", 0, "") == (2, "信访室")       # a repost scored lower
    assert clusters.raise_level("s1", 2, "案管室") == (2, "案管室")  # as high: its own office
    assert clusters.raise_level("s1", 1, "宣传部") == (2, "信访室")
    assert clusters.raise_level("s2", 0, "") == (0, "")

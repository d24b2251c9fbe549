"""Story clusters a batch at a time: the answers of one article at a time, in one transaction."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from classifiers.corpus import load_corpus
from classifiers.stories import StoryClusters
from classifiers.testing import COMPLAINTS, reposts, weibo_post

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)
NOTICE = weibo_post(*COMPLAINTS[2])
OTHER = weibo_post(*COMPLAINTS[3])


@pytest.fixture
def clusters(tmp_path):
    with StoryClusters(tmp_path / "stories.sqlite3") as store:
        yield store


def stream() -> list[tuple[str, str, datetime, str]]:
    """Corpus texts with what a stream brings between them: reposts (some seen before their
    original), exact copies at other addresses, and records delivered twice."""
    texts = [e.title + "\n" + e.text for e in load_corpus()[:240]]
    out = []
    for n, text in enumerate(texts):
        out.append((f"c{n}", text, T0 + timedelta(minutes=n), f"src{n % 7}"))
        if n % 6 == 0:
            for label, repost in reposts(text).items():
                # every second story has a repost seen (by its date) before its original
                out.append((f"c{n}/{label}", repost, T0 + timedelta(minutes=n - 30 * (n % 12 == 0)), "portal"))
        if n % 9 == 0:
            out.append((f"c{n}/copy", text, T0 + timedelta(minutes=n + 1), "mirror"))
        if n % 11 == 0:
            out.append(out[-2])  # delivered again
    return out


def rows(store: StoryClusters) -> list[tuple]:
    with sqlite3.connect(store.path) as db:
        return db.execute("SELECT article_id, cluster_id, exact_hash, simhash, source_id, seen_at, "
                          "scheme, names FROM articles ORDER BY rowid").fetchall()


@pytest.mark.parametrize("size", [1, 7, 500])
def test_batches_give_the_answers_and_rows_of_one_article_at_a_time(tmp_path, size):
    articles = stream()
    with StoryClusters(tmp_path / "one.sqlite3") as one, StoryClusters(tmp_path / "batch.sqlite3") as batched:
        singly = [one.assign(*a) for a in articles]
        together = [found for start in range(0, len(articles), size)
                    for found in batched.assign_many(articles[start:start + size])]
        assert together == singly
        assert rows(batched) == rows(one)
    # the stream is one that tests all of it: exact copies, near reposts, replays, new stories
    assert sum(f.exact for f in singly) >= 20 and sum(f.is_new for f in singly) >= 150
    assert sum(not f.exact and not f.is_new and f.repost_count > 0 for f in singly) >= 100


def test_the_second_of_two_identical_texts_in_one_batch_is_an_exact_duplicate(clusters):
    first, second = clusters.assign_many([("a", NOTICE, T0, "weibo"),
                                          ("b", NOTICE, T0 + timedelta(minutes=1), "portal")])
    assert first.is_new and not first.exact
    assert second.exact and not second.is_new and second.cluster_id == "a" and second.repost_count == 1


def test_a_repost_in_the_batch_of_its_original_joins_its_story(clusters):
    # (its traditional-script repost is the same text once normalised: an exact duplicate)
    variants = [text for way, text in reposts(NOTICE).items() if way != "traditional script"]
    found = clusters.assign_many(
        [("orig", NOTICE, T0, "weibo"), ("other", OTHER, T0, "weibo")]
        + [(f"r{n}", text, T0 + timedelta(minutes=n + 1), "portal") for n, text in enumerate(variants)])
    assert [f.cluster_id for f in found] == ["orig", "other"] + ["orig"] * len(variants)
    assert [f.repost_count for f in found[2:]] == list(range(1, len(variants) + 1))
    assert not any(f.exact for f in found)


def test_an_earlier_repost_later_in_the_batch_becomes_the_first_source(clusters):
    orig, early = clusters.assign_many([("orig", NOTICE, T0, "weibo"),
                                        ("early", "转发：" + NOTICE, T0 - timedelta(hours=2), "forum")])
    assert (orig.first_source, orig.repost_count) == ("weibo", 0)
    assert (early.cluster_id, early.first_source, early.first_seen) == ("orig", "forum", T0 - timedelta(hours=2))


def test_a_replayed_batch_gives_the_same_answers_and_writes_nothing(clusters):
    batch = [("a", NOTICE, T0, "weibo"), ("b", NOTICE, T0, "portal"), ("c", "转发：" + NOTICE, T0, "forum"),
             ("d", OTHER, T0, "weibo")]
    first = clusters.assign_many(batch)
    before = rows(clusters)
    again = clusters.assign_many(batch)
    assert rows(clusters) == before
    assert [(f.cluster_id, f.first_source, f.repost_count) for f in again] == [
        ("a", "weibo", 2), ("a", "weibo", 2), ("a", "weibo", 2), ("d", "weibo", 0)]
    assert [(f.cluster_id, f.exact) for f in first] == [(f.cluster_id, f.exact) for f in again]
    assert [f.exact for f in again] == [False, True, False, False] and not any(f.is_new for f in again)


def test_an_article_given_twice_in_one_batch_is_a_replay_the_second_time(clusters):
    first, second = clusters.assign_many([("a", NOTICE, T0, "weibo"), ("a", NOTICE, T0, "weibo")])
    assert first.is_new
    assert (second.cluster_id, second.is_new, second.exact, second.repost_count) == ("a", False, False, 0)
    assert len(rows(clusters)) == 1


def test_a_bad_article_fails_its_batch_before_anything_is_written(clusters):
    clusters.assign("a", NOTICE, T0, "weibo")
    with pytest.raises(ValueError, match="timezone-aware"):
        clusters.assign_many([("b", OTHER, T0, "weibo"), ("c", NOTICE, datetime(2026, 11, 27, 9), "portal")])
    assert [r[0] for r in rows(clusters)] == ["a"]
    # nor remembered: the next batch finds neither of them
    b, c = clusters.assign_many([("b", OTHER, T0, "weibo"), ("c", "转发：" + NOTICE, T0, "portal")])
    assert b.is_new and (c.cluster_id, c.repost_count) == ("a", 1)


def test_a_failure_inside_the_transaction_rolls_the_whole_batch_back(clusters):
    clusters.assign("a", NOTICE, T0, "weibo")
    # "b" is written before the row without a source fails: neither stays, on file or in memory
    with pytest.raises(sqlite3.IntegrityError):
        clusters.assign_many([("b", OTHER, T0, "weibo"), ("c", "转发：" + NOTICE, T0, None)])
    assert [r[0] for r in rows(clusters)] == ["a"]
    b2, c = clusters.assign_many([("b2", "转发：" + OTHER, T0, "portal"), ("c", "转发：" + NOTICE, T0, "portal")])
    assert b2.is_new and (c.cluster_id, c.repost_count) == ("a", 1)


def test_raised_levels_in_one_call_answer_as_one_call_each(tmp_path):
    levels = [("s1", 1, "宣传部"), ("s2", 0, ""), ("s1", 2, "信访室"), ("s1", 0, ""), ("s3", 3, "案管室"),
              ("s1", 2, "案管室"), ("s2", 1, "宣传部"), ("s1", 1, "宣传部"), ("s3", 1, "宣传部")]
    with StoryClusters(tmp_path / "one.sqlite3") as one, StoryClusters(tmp_path / "batch.sqlite3") as batched:
        one.raise_level("s3", 2, "信访室")
        batched.raise_level("s3", 2, "信访室")
        assert batched.raise_levels(levels) == [one.raise_level(*x) for x in levels]
        assert batched.raise_levels([("s1", 0, ""), ("s3", 0, "")]) == [(2, "信访室"), (3, "案管室")]


def test_a_replayed_copy_is_a_copy_again(clusters):
    # The classify step drops an exact copy: after a crash before its offsets were committed,
    # the replayed batch must drop it again, not publish it.
    batch = [("a", NOTICE, T0, "weibo"), ("b", NOTICE, T0, "portal")]
    clusters.assign_many(batch)
    assert [(f.exact, f.is_new) for f in clusters.assign_many(batch)] == [(False, False), (True, False)]
    assert clusters.assign("b", NOTICE, T0, "portal").exact

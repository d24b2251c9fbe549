"""Crawl state: seen entries, validators, and the health an operator sees."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crawlers.state import StateStore, Validators, health

T0 = datetime(2026, 3, 5, 2, 0, tzinfo=timezone.utc)
DAY = 86400.0


def test_seen_ids_and_validators_survive_a_restart(tmp_path):
    store = StateStore(tmp_path / "s.sqlite3")
    store.mark_seen("a", ["1", "2"], T0)
    store.record_success("a", T0, status="ok", new_items=2, validators=Validators('"e"', "lm", "h"))
    store.close()
    store = StateStore(tmp_path / "s.sqlite3")
    assert store.unseen("a", ["3", "2", "1", "3"]) == ["3"]
    assert store.unseen("b", ["1"]) == ["1"]  # per source
    assert store.validators("a") == Validators('"e"', "lm", "h")
    store.close()


def test_a_304_keeps_the_validators_it_had(crawl_state):
    crawl_state.record_success("a", T0, status="ok", new_items=1, validators=Validators('"e"', "lm", "h"))
    crawl_state.record_success("a", T0, status="not_modified", new_items=0,
                               validators=Validators(None, None, None))
    assert crawl_state.validators("a") == Validators('"e"', "lm", "h")


def test_health_from_recent_rounds(crawl_state):
    assert health(crawl_state.state("a"), DAY, T0) == "unknown"
    crawl_state.record_success("a", T0, status="ok", new_items=3)
    assert health(crawl_state.state("a"), DAY, T0 + timedelta(hours=2)) == "ok"
    crawl_state.record_success("a", T0 + timedelta(hours=30), status="unchanged", new_items=0)
    # fetches succeed, nothing new for longer than quiet_after: a dead feed is reported
    assert health(crawl_state.state("a"), DAY, T0 + timedelta(hours=30)) == "quiet"
    crawl_state.record_failure("a", T0, reason="timeout", message="a: http://x: timeout")
    assert health(crawl_state.state("a"), DAY, T0) == "failing_soft"
    for _ in range(4):
        crawl_state.record_failure("a", T0, reason="unavailable", message="503")
    assert health(crawl_state.state("a"), DAY, T0) == "failing_hard"  # soft, but 5 in a row
    crawl_state.record_success("a", T0, status="ok", new_items=1)
    assert health(crawl_state.state("a"), DAY, T0) == "ok"
    crawl_state.record_failure("a", T0, reason="http_error", message="HTTP 404")
    assert health(crawl_state.state("a"), DAY, T0) == "failing_hard"  # needs an operator at once
    crawl_state.record_failure("b", T0, reason="blocked", message="521")
    state = crawl_state.state("b")
    assert health(state, DAY, T0) == "blocked" and (state.error_count, state.total_errors) == (1, 1)


def test_fetches_are_logged_with_their_snapshot(crawl_state):
    crawl_state.record_fetch("a", "http://x/1.html", "ab" * 32, T0)
    crawl_state.record_fetch("a", "http://x/1.html", "cd" * 32, T0 + timedelta(hours=1))
    assert [s for _, s in crawl_state.snapshots_of("http://x/1.html")] == ["ab" * 32, "cd" * 32]

"""``yuqing storage`` (issue 19): what each store holds, and pruning what is past its retention
without touching a page that is still being fetched."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone

from crawlers.snapshots import SnapshotStore
from crawlers.state import StateStore
from pipeline.bus import RAW
from pipeline.bus.local import LocalBus
from yuqing.cli.main import main

THREE_YEARS = 3 * 365 * 86400


def test_storage_shows_every_store_and_prune_keeps_what_is_still_fetched(tmp_path, capsys):
    data = tmp_path / "data"
    snapshots = SnapshotStore(data / "snapshots")
    gone = snapshots.put(b"<html>a page removed long ago</html>")
    still = snapshots.put(b"<html>a page served unchanged for years</html>")
    fresh = snapshots.put(b"<html>today's page</html>")
    past = time.time() - THREE_YEARS
    for digest in (gone, still):
        os.utime(snapshots.path(digest), (past, past))
    assert snapshots.put(b"<html>a page served unchanged for years</html>") == still  # seen today
    state = StateStore(data / "crawl_state.sqlite3")
    now = datetime.now(timezone.utc)
    state.record_fetch("county", "https://x.gov.cn/old", gone, now - timedelta(days=3 * 365))
    state.record_fetch("county", "https://x.gov.cn/new", fresh, now)
    state.close()
    bus = LocalBus(data / "bus.sqlite3", partitions=1)
    bus.publish(RAW, b"an article", key=b"k")
    bus.close()

    assert main(["--data-dir", str(data), "storage"]) == 0
    shown = capsys.readouterr().out
    for store in ("bus", "index", "alert store", "crawl state", "snapshots", "briefings"):
        assert any(line.startswith(store + " ") for line in shown.splitlines()), store
    assert "holds 3 pages (oldest " in shown and "kept: 24 months after last fetch" in shown
    assert "holds articles.raw 1 (oldest" in shown and "kept: 7 days" in shown
    assert "2 fetches logged" in shown

    assert main(["--data-dir", str(data), "storage", "prune", "--dry-run"]) == 0
    assert "snapshots: would drop 1 pages" in capsys.readouterr().out
    assert snapshots.path(gone).exists()

    assert main(["--data-dir", str(data), "storage", "prune"]) == 0
    out = capsys.readouterr().out
    assert "snapshots: dropped 1 pages" in out and "dropped 1 fetch log rows" in out
    assert not snapshots.path(gone).exists()
    assert snapshots.get(still) == b"<html>a page served unchanged for years</html>"
    assert snapshots.get(fresh) == b"<html>today's page</html>"
    state = StateStore(data / "crawl_state.sqlite3")
    assert state.snapshots_of("https://x.gov.cn/old") == []
    assert [s for _, s in state.snapshots_of("https://x.gov.cn/new")] == [fresh]
    state.close()


def test_snapshot_retention_is_a_crawl_setting(tmp_path, capsys):
    (tmp_path / "yuqing.yaml").write_text("crawl:\n  snapshot_months: 6\n", encoding="utf-8")
    assert main(["--config", str(tmp_path / "yuqing.yaml"), "storage"]) == 0
    assert "kept: 6 months after last fetch" in capsys.readouterr().out

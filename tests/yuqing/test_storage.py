"""``yuqing storage`` (issue 19): what each store holds, and pruning what is past its retention
without touching a page that is still being fetched."""

from __future__ import annotations

import gzip
import os
import time
from datetime import datetime, timedelta, timezone

import pytest

from crawlers.snapshots import SnapshotStore
from crawlers.state import StateStore
from pipeline.bus import RAW
from pipeline.bus.local import LocalBus
from yuqing.cli.main import main

THREE_YEARS = 3 * 365 * 86400


def test_storage_shows_every_store_and_prune_keeps_what_is_still_fetched(tmp_path, capsys):
    data = tmp_path / "data"
    now = [time.time() - THREE_YEARS]
    snapshots = SnapshotStore(data / "snapshots", clock=lambda: now[0])
    gone = snapshots.put(b"<html>a page removed long ago</html>")
    still = snapshots.put(b"<html>a page served unchanged for years</html>")
    now[0] = time.time()
    fresh = snapshots.put(b"<html>today's page</html>")
    assert snapshots.put(b"<html>a page served unchanged for years</html>") == still  # seen today
    # and one file of the one-file-a-page layout, last written three years ago: pruned alike
    legacy = snapshots.path("ab" * 32)
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(gzip.compress(b"<html>kept the old way</html>"))
    os.utime(legacy, (now[0] - THREE_YEARS, now[0] - THREE_YEARS))
    snapshots.close()
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
    assert "holds 4 pages (oldest " in shown and "kept: 24 months after last fetch" in shown
    assert "holds articles.raw 1 (oldest" in shown and "kept: 7 days" in shown
    assert "2 fetches logged" in shown

    assert main(["--data-dir", str(data), "storage", "prune", "--dry-run"]) == 0
    assert "snapshots: would drop 2 pages" in capsys.readouterr().out
    assert snapshots.get(gone) and legacy.exists()

    assert main(["--data-dir", str(data), "storage", "prune"]) == 0
    out = capsys.readouterr().out
    assert "snapshots: dropped 2 pages" in out and "dropped 1 fetch log rows" in out
    snapshots = SnapshotStore(data / "snapshots")
    with pytest.raises(FileNotFoundError):
        snapshots.get(gone)
    assert not legacy.exists()
    assert snapshots.usage().files == 2
    # the page fetched again since was carried over from its old month's file, which is gone
    assert len(list((data / "snapshots").glob("*.warc.gz"))) == 1
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

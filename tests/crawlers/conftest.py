"""Fixtures for crawler tests: the local fixture server, a fetcher, crawl state, sources.

Everything runs on 127.0.0.1; sources pointed at the fixture server say ``internal: true``,
exactly as an operator would have to for an internal site.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crawlers.fetch import Fetcher
from crawlers.politeness import Politeness
from crawlers.snapshots import SnapshotStore
from crawlers.sources import Source
from crawlers.state import StateStore
from crawlers.testing import FixtureServer

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixture_server():
    """Serves tests/crawlers/fixtures (feeds/, sites/) plus whatever a test scripts with route()."""
    with FixtureServer(FIXTURES) as server:
        yield server


@pytest.fixture
def fetcher(tmp_path):
    """A fetcher with no politeness gap (tests are the only client) and snapshots in tmp_path."""
    with Fetcher(SnapshotStore(tmp_path / "snapshots"), Politeness(host_delay_s=0.0)) as f:
        yield f


@pytest.fixture
def crawl_state(tmp_path):
    store = StateStore(tmp_path / "crawl_state.sqlite3")
    yield store
    store.close()


@pytest.fixture
def make_source(fixture_server):
    """``make_source("/feeds/rss20.xml", type="rss", **fields)``: an internal source on the server."""

    def make(path: str, type: str = "rss", id: str = "fixture", **fields) -> Source:
        fields.setdefault("rate_limit_per_minute", 600)
        return Source(id=id, name=f"fixture {id}", type=type, url=fixture_server.url(path),
                      internal=True, **fields)

    return make

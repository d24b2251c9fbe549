"""Shared fixtures: the backends each contract suite runs against.

The real services are started by ``deploy/services/start`` (``.ci/run`` does it). A test that needs
one which is not reachable is skipped on a developer's machine, and FAILS when ``CI=true``: a
skipped real-service test in CI would hide exactly what the suite exists to prove.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.testing import ES_URL, KAFKA_URL, drop_test_topics, postgres_database, require_service, unique


@pytest.fixture(params=["local", pytest.param("kafka", marks=pytest.mark.kafka)])
def bus_factory(request, tmp_path):
    """Makes buses of one backend that share storage, as a restarted process would.

    Calling it twice gives two clients of the same log (the same file, or the same topics),
    which is how the contract tests simulate a restart.
    """
    opened = []
    if request.param == "local":
        from pipeline.bus.local import LocalBus

        path = tmp_path / "bus.sqlite3"

        def make():
            bus = LocalBus(path, partitions=3)
            opened.append(bus)
            return bus
    else:
        require_service("Kafka", KAFKA_URL)
        from pipeline.bus.kafka import KafkaBus

        prefix = unique("test.") + "."

        def make():
            bus = KafkaBus(KAFKA_URL, partitions=3, topic_prefix=prefix)
            opened.append(bus)
            return bus

    make.backend = request.param
    yield make
    for bus in opened:
        try:
            bus.close()
        except Exception:
            pass
    if request.param == "kafka":
        drop_test_topics(KAFKA_URL, prefix)


@pytest.fixture(params=["sqlite", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def index_factory(request, tmp_path):
    """Makes indexes of one backend over the same storage (a second call = a restart)."""
    opened = []
    if request.param == "sqlite":
        from pipeline.index.sqlite import SqliteIndex

        def make():
            index = SqliteIndex(tmp_path / "index.sqlite3")
            opened.append(index)
            return index
    else:
        require_service("Elasticsearch", ES_URL)
        from pipeline.index.elasticsearch import ElasticsearchIndex

        name = unique("test-")

        def make():
            index = ElasticsearchIndex(ES_URL, name=name)
            opened.append(index)
            return index

    make.backend = request.param
    yield make
    if request.param == "elasticsearch" and opened:
        opened[0].delete_index()
    for index in opened:
        try:
            index.close()
        except Exception:
            pass


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """A URL of an empty alert database (SQLite, or a fresh database on the real PostgreSQL);
    opening it twice is how a test restarts the service."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'alerts.sqlite3'}"
        return
    with postgres_database() as url:
        yield url


def pytest_ignore_collect(collection_path, config):
    """tests/cluster runs against deploy/services/cluster (``make test-cluster``): collected when
    its addresses are set or ``-m cluster`` asks for it, never by the ordinary run."""
    if collection_path.name != "cluster" or collection_path.parent != Path(__file__).parent:
        return None
    asked = "cluster" in (config.getoption("markexpr") or "")
    if os.environ.get("YUQING_CLUSTER_KAFKA_URL") or asked:
        return None
    return True


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "cluster: needs deploy/services/cluster (make test-cluster; "
        "YUQING_CLUSTER_KAFKA_URL, YUQING_CLUSTER_ES_URL)")

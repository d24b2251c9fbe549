"""The cluster suite: run by ``make test-cluster`` against ``deploy/services/cluster``.

Its addresses come from ``YUQING_CLUSTER_KAFKA_URL`` and ``YUQING_CLUSTER_ES_URL`` (the cluster
script prints them and writes them to cluster.env). Without them this folder is not collected by
the ordinary run (tests/conftest.py); asked for anyway (``-m cluster``), a missing cluster skips
on a developer's machine and FAILS under ``CI=true``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from pipeline.testing import IN_CI, require_service

@dataclass(frozen=True)
class Cluster:
    kafka_url: str
    es_url: str


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    kafka_url = os.environ.get("YUQING_CLUSTER_KAFKA_URL")
    es_url = os.environ.get("YUQING_CLUSTER_ES_URL")
    if not (kafka_url and es_url):
        message = ("YUQING_CLUSTER_KAFKA_URL and YUQING_CLUSTER_ES_URL are not set; run "
                   "`make test-cluster` (or deploy/services/cluster start, then export them)")
        if IN_CI:
            pytest.fail(f"{message} (CI=true: the cluster tests were asked for and must not be skipped)")
        pytest.skip(message)
    require_service("the Kafka cluster", kafka_url)
    require_service("the Elasticsearch cluster", es_url)
    return Cluster(kafka_url, es_url)

"""Fixtures of the alerting tests: stores over the URLs of tests/conftest.py (SQLite and a fresh
database on the real PostgreSQL), a service on a manual clock at NINE, and real SMTP and HTTP
receivers on loopback."""

from __future__ import annotations

import pytest

from alerting.clock import ManualClock
from alerting.config import AlertingConfig
from alerting.notify.testing import SmtpReceiver, WebhookReceiver
from alerting.service import AlertService
from alerting.store import open_store
from alerting.testing import NINE
from pipeline.testing import postgres_database


@pytest.fixture
def postgres_url():
    with postgres_database() as url:
        yield url


@pytest.fixture
def store_factory(store_url):
    opened = []

    def make():
        store = open_store(store_url)
        opened.append(store)
        return store

    make.url = store_url
    yield make
    for store in opened:
        store.close()


@pytest.fixture
def clock():
    return ManualClock(NINE)


@pytest.fixture
def service(store_factory, clock):
    """The default configuration, no notification channels."""
    return AlertService(store_factory(), AlertingConfig(), clock=clock, channels={})


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1 (aiosmtpd) collecting what it is sent."""
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
def hook():
    """A real HTTP receiver on 127.0.0.1 answering like the chat bots' servers."""
    with WebhookReceiver() as receiver:
        yield receiver

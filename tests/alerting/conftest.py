"""The alert store on both databases: SQLite (embedded) and the real PostgreSQL that
``deploy/services/start postgres`` runs. Each PostgreSQL test gets a database of its own."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from alerting.notify.testing import SmtpReceiver, WebhookReceiver
from alerting.store import open_store
from pipeline.testing import PG_URL, require_service, unique


@contextmanager
def postgres_database():
    """A fresh database on the real PostgreSQL server, dropped afterwards."""
    require_service("PostgreSQL", PG_URL)
    name = unique("test_").replace("-", "_")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """A URL of an empty alert database; opening it twice is how a test restarts the service."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'alerts.sqlite3'}"
        return
    with postgres_database() as url:
        yield url


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
def smtp():
    """A real SMTP server on 127.0.0.1 (aiosmtpd) collecting what it is sent."""
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
def hook():
    """A real HTTP receiver on 127.0.0.1 answering like the chat bots' servers."""
    with WebhookReceiver() as receiver:
        yield receiver

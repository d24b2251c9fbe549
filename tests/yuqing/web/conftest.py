"""Fixtures of the console tests: an alert store on SQLite and on the real PostgreSQL, a service
on a manual clock, the accounts of several offices, and logged-in API clients.
``store_url`` (SQLite and the real PostgreSQL) comes from tests/conftest.py.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from alerting.accounts import add_user
from alerting.clock import ManualClock
from alerting.config import AlertingConfig
from alerting.service import AlertService
from alerting.store import open_store
from yuqing.web import ConsoleOptions, create_app

START = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)  # 09:00 in Beijing
PASSWORD = "correct horse 9"
#: name: (office, role)
ACCOUNTS = {"xc": ("宣传部", "staff"), "xf": ("信访室", "staff"), "ag": ("案管室", "staff"),
            "zz": ("", "leader"), "fx": ("宣传部", "analyst"), "yw": ("", "operator")}


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """argon2 with small costs: the default (64 MiB, 3 passes, ~0.2 s a hash) is for real
    passwords; tests make six accounts each. test_users checks the production parameters."""
    from argon2 import PasswordHasher

    from alerting import accounts

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'alerts.sqlite3'}"


def make_service(url: str, clock=None) -> AlertService:
    store = open_store(url)
    service = AlertService(store, AlertingConfig(), clock=clock or ManualClock(START), channels={})
    for name, (office, role) in ACCOUNTS.items():
        add_user(store, name, role, office, PASSWORD, service.config.offices, service.clock.now(), "test")
    return service


@pytest.fixture
def service(store_url):
    service = make_service(store_url)
    yield service
    service.store.close()


class Clients:
    """``clients("xc")``: a TestClient logged in as xc, with ``csrf`` for its POSTs."""

    def __init__(self, app):
        self.app = app
        self.opened = []

    def anonymous(self):
        from fastapi.testclient import TestClient

        client = TestClient(self.app, follow_redirects=False)
        client.__enter__()
        self.opened.append(client)
        return client

    def __call__(self, name: str, password: str = PASSWORD):
        client = self.anonymous()
        response = client.post("/api/login", json={"name": name, "password": password})
        assert response.status_code == 200, response.text
        client.csrf = response.json()["csrf_token"]
        client.headers["X-CSRF-Token"] = client.csrf
        return client

    def close(self):
        for client in self.opened:
            client.__exit__(None, None, None)


@pytest.fixture
def app(service, tmp_path):
    return create_app(service, ConsoleOptions(briefings=tmp_path / "briefings", poll_interval=0.1))


@pytest.fixture
def clients(app):
    made = Clients(app)
    yield made
    made.close()


@pytest.fixture
def service_factory():
    """``service_factory(url, clock=None)``: a service with the test accounts, closed afterwards."""
    made = []

    def make(url: str, clock=None) -> AlertService:
        service = make_service(url, clock)
        made.append(service)
        return service

    yield make
    for service in made:
        service.store.close()

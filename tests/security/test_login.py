"""The console's door against a guesser who forges proxy headers or comes from many addresses
(issue 16, item 3), and its cookies over https (item 10). Against the real ``yuqing console``
(uvicorn) on loopback, because who is believed about the client's address is uvicorn's proxy
handling as the command configures it; the many addresses are real ones: 127.0.0.0/8 is
loopback, and each client binds its own."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from alerting.accounts import add_user
from alerting.config import AlertingConfig
from alerting.store import open_store
from alerting.store.models import AuditEntry

PASSWORD = "correct horse 9"


@pytest.fixture
def settings(tmp_path) -> Path:
    """A yuqing.yaml on an embedded store holding one account, xc."""
    path = tmp_path / "yuqing.yaml"
    path.write_text(f"paths:\n  data_dir: {tmp_path / 'data'}\nstore:\n  url: sqlite:///{tmp_path / 'alerts.sqlite3'}\n",
                    encoding="utf-8")
    store = open_store(f"sqlite:///{tmp_path / 'alerts.sqlite3'}")
    from datetime import datetime, timezone

    add_user(store, "xc", "staff", "宣传部", PASSWORD, AlertingConfig().offices,
             datetime.now(timezone.utc), "test")
    store.close()
    return path


@contextmanager
def console(settings: Path, pytestconfig, *options: str):
    """``yuqing console --port 0 OPTIONS`` on 127.0.0.1; yields its base URL; stopped after."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(pytestconfig.rootpath), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, "-m", "yuqing.cli.main", "--config", str(settings),
                                "console", "--port", "0", *options], cwd=settings.parent, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        address = None
        lines = []
        while address is None and time.monotonic() < deadline and process.poll() is None:
            line = process.stdout.readline()
            lines.append(line)
            found = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
            address = found.group(1) if found else None
        assert address, f"the console did not start: {''.join(lines)}"
        yield address
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def client_from(address: str) -> httpx.Client:
    """A client whose connections come from ``address`` (any of 127.0.0.0/8)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def login(client: httpx.Client, base: str, password: str, **headers) -> int:
    return client.post(f"{base}/api/login", json={"name": "xc", "password": password},
                       headers=headers).status_code


def audited(settings: Path) -> list[dict]:
    store = open_store(f"sqlite:///{settings.parent / 'alerts.sqlite3'}")
    try:
        with store.session() as session:
            return [e.after for e in session.execute(
                select(AuditEntry).where(AuditEntry.action.in_(("login", "login_failed")))
                .order_by(AuditEntry.seq)).scalars()]
    finally:
        store.close()


def test_forged_forwarded_for_headers_neither_dodge_the_limit_nor_reach_the_audit_log(settings,
                                                                                      pytestconfig):
    # the probe of the report: a rotating X-Forwarded-For from loopback gave 50 failures and no 429
    with console(settings, pytestconfig) as base, client_from("127.0.0.1") as client:
        answers = [login(client, base, "guess guess", **{"X-Forwarded-For": f"198.51.100.{i}"})
                   for i in range(1, 11)]
        assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
        assert login(client, base, PASSWORD, **{"X-Forwarded-For": "198.51.100.99"}) == 429
    assert {entry["ip"] for entry in audited(settings)} == {"127.0.0.1"}


def test_failures_from_many_real_addresses_count_against_the_account(settings, pytestconfig):
    with console(settings, pytestconfig) as base:
        answers = []
        for host in range(2, 32):  # 30 addresses, one guess each
            with client_from(f"127.0.0.{host}") as client:
                answers.append(login(client, base, "guess guess"))
        assert 429 in answers and answers.index(429) <= 20
        with client_from("127.0.0.99") as fresh:  # even the right password, from a new address
            assert login(fresh, base, PASSWORD) == 429
    addresses = {entry["ip"] for entry in audited(settings)}
    assert len(addresses) == 31  # the real addresses, each recorded


def test_proxy_headers_are_believed_only_from_the_trusted_proxies(settings, pytestconfig):
    with console(settings, pytestconfig, "--trusted-proxies", "127.0.0.1") as base:
        with client_from("127.0.0.1") as proxy:
            assert login(proxy, base, "guess guess", **{"X-Forwarded-For": "203.0.113.9"}) == 401
            secure = proxy.post(f"{base}/api/login", json={"name": "xc", "password": PASSWORD},
                                headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
            assert secure.status_code == 200 and "Secure" in secure.headers["set-cookie"]
        with client_from("127.0.0.7") as stranger:
            assert login(stranger, base, "guess guess", **{"X-Forwarded-For": "203.0.113.10"}) == 401
            plain = stranger.get(f"{base}/login", headers={"X-Forwarded-Proto": "https"})
            assert "Secure" not in plain.headers["set-cookie"]  # a client cannot claim https
    assert [entry["ip"] for entry in audited(settings)] == ["203.0.113.9", "203.0.113.9", "127.0.0.7"]


def test_trusting_every_address_is_not_an_option(settings, pytestconfig):
    done = subprocess.run([sys.executable, "-m", "yuqing.cli.main", "--config", str(settings),
                           "console", "--trusted-proxies", "*"], capture_output=True, text=True,
                          cwd=settings.parent, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(pytestconfig.rootpath)})
    assert done.returncode == 2 and "never '*'" in done.stderr


def test_every_cookie_carries_secure_over_https(tmp_path):
    """The login form's CSRF cookie and the one-time message, not only the session."""
    from datetime import datetime, timezone

    from fastapi.testclient import TestClient

    from alerting.clock import ManualClock
    from alerting.service import AlertService
    from yuqing.web import create_app

    service = AlertService(open_store(f"sqlite:///{tmp_path / 'a.sqlite3'}"), AlertingConfig(),
                           clock=ManualClock(datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)),
                           channels={})
    add_user(service.store, "xc", "staff", "宣传部", PASSWORD, service.config.offices,
             service.clock.now(), "test")
    try:
        with TestClient(create_app(service), base_url="https://testserver",
                        follow_redirects=False) as client:
            form = client.get("/login")
            token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
            done = client.post("/login", data={"csrf": token, "name": "xc", "password": PASSWORD})
            queue = client.get("/queue")
            csrf = re.search(r'name="csrf" value="([^"]+)"', queue.text).group(1)
            flashed = client.post("/tasks/1/complete", data={"csrf": csrf})  # no result: a flash
            shown = client.get("/queue")  # the message shown, its cookie deleted
            me = client.get("/api/me").json()
            out = client.post("/api/logout", headers={"X-CSRF-Token": me["csrf_token"]})
            cookies = [form.headers.get_list("set-cookie"), done.headers.get_list("set-cookie"),
                       flashed.headers.get_list("set-cookie"), shown.headers.get_list("set-cookie"),
                       out.headers.get_list("set-cookie")]
    finally:
        service.store.close()
    every = [c for answer in cookies for c in answer]
    assert {c.split("=", 1)[0] for c in every} >= {"yuqing_login_csrf", "yuqing_session", "yuqing_flash"}
    assert all("Secure" in c for c in every), [c for c in every if "Secure" not in c]

"""``yuqing users`` and ``yuqing console``'s refusals (the server itself runs in test_e2e_browser)."""

from __future__ import annotations

import io
import json

import pytest

from yuqing.cli import main as cli


def run(args, tmp_path, stdin: str = "", monkeypatch=None):
    if monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli.main(["--data-dir", str(tmp_path), *args])


def test_users_add_list_passwd_disable(tmp_path, capsys, monkeypatch):
    assert run(["users", "list"], tmp_path) == 0
    assert "yuqing users add admin --role admin" in capsys.readouterr().out
    assert run(["users", "add", "admin", "--role", "admin", "--password-stdin"], tmp_path,
               "a long secret 1\n", monkeypatch) == 0
    assert run(["users", "add", "li", "--role", "staff", "--office", "信访室", "--password-stdin"], tmp_path,
               "a long secret 2\n", monkeypatch) == 0
    assert run(["users", "add", "li", "--role", "staff", "--office", "信访室", "--password-stdin"], tmp_path,
               "a long secret 2\n", monkeypatch) == 2
    assert "already a user 'li'" in capsys.readouterr().err
    assert run(["users", "add", "wu", "--role", "staff", "--password-stdin"], tmp_path, "a long secret 3\n",
               monkeypatch) == 2
    assert "needs --office" in capsys.readouterr().err
    assert run(["users", "passwd", "li", "--password-stdin"], tmp_path, "short\n", monkeypatch) == 2
    assert run(["users", "passwd", "nobody", "--password-stdin"], tmp_path, "a long secret 4\n", monkeypatch) == 2
    assert run(["users", "passwd", "li", "--password-stdin"], tmp_path, "a long secret 4\n", monkeypatch) == 0
    assert run(["users", "disable", "li"], tmp_path) == 0
    capsys.readouterr()
    assert run(["users", "list", "--json"], tmp_path) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(u["name"], u["role"], u["office"], u["disabled"]) for u in listed] == [
        ("admin", "admin", "", False), ("li", "staff", "信访室", True)]


def test_typed_passwords_must_match(tmp_path, capsys, monkeypatch):
    typed = iter(["first secret 1", "other secret 1"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    assert run(["users", "add", "admin", "--role", "admin"], tmp_path) == 2
    assert "differ" in capsys.readouterr().err


def test_the_console_refuses_to_start_without_accounts(tmp_path, capsys):
    assert run(["console", "--port", "0"], tmp_path) == 2
    err = capsys.readouterr().err
    assert "no default password" in err and "yuqing users add admin --role admin" in err


def test_console_demo_only_on_the_demos_data(tmp_path, capsys):
    assert run(["console", "--demo", "--port", "0"], tmp_path) == 2
    assert "run `yuqing demo` first" in capsys.readouterr().err


def test_demo_accounts_are_made_once_and_reset_with_new_passwords(tmp_path):
    from alerting.config import AlertingConfig
    from alerting.clock import SystemClock
    from alerting.store import open_store
    from alerting.accounts import list_users
    from yuqing.cli.console import DEMO_USERS, demo_accounts

    store = open_store(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    try:
        first = demo_accounts(store, AlertingConfig().offices, SystemClock().now())
        second = demo_accounts(store, AlertingConfig().offices, SystemClock().now())
        assert [u.name for u in list_users(store)] == sorted(name for name, *_ in DEMO_USERS)
        assert {p for _, p, *_ in first}.isdisjoint({p for _, p, *_ in second})
        assert all(len(p) >= 10 for _, p, *_ in second)
    finally:
        store.close()

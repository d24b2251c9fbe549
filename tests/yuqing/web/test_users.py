"""Accounts: argon2 hashes, checks on role, office and password, sessions ended by a new password
or a disabled account, and every change in the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from alerting import accounts as users
from alerting.accounts import UserError, add_user, list_users, set_disabled, set_password
from alerting.store.models import AuditEntry, User

PASSWORD = "correct horse 9"


def test_passwords_are_kept_as_argon2id_hashes_with_the_default_costs(service, monkeypatch):
    monkeypatch.setattr(users, "_hasher", users.PasswordHasher())  # production parameters
    add_user(service.store, "wang", "staff", "案管室", "another secret 1", service.config.offices,
             service.clock.now(), "admin")
    with service.store.session() as session:
        stored = session.execute(select(User.password_hash).where(User.name == "wang")).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and "another secret" not in stored


@pytest.mark.parametrize("name, role, office, password, says", [
    ("li", "boss", "宣传部", PASSWORD, "role 'boss'"),
    ("li", "staff", "", PASSWORD, "needs --office"),
    ("li", "staff", "财务室", PASSWORD, "office '财务室'"),
    ("li", "staff", "宣传部", "short", "at least 10"),
    ("xc", "staff", "宣传部", PASSWORD, "already a user 'xc'"),
    (" li", "staff", "宣传部", PASSWORD, "not a usable name"),
])
def test_bad_accounts_are_refused_saying_what_is_allowed(service, name, role, office, password, says):
    with pytest.raises(UserError, match=says):
        add_user(service.store, name, role, office, password, service.config.offices, service.clock.now(), "t")


def test_a_new_password_or_disabling_ends_the_sessions(service, clients):
    client = clients("xf")
    set_password(service.store, "xf", "a brand new one", service.clock.now(), "cli:root")
    assert client.get("/api/me").status_code == 401
    assert clients.anonymous().post("/api/login", json={"name": "xf", "password": PASSWORD}).status_code == 401
    client = clients("xf", "a brand new one")
    set_disabled(service.store, "xf", True, service.clock.now(), "cli:root")
    assert client.get("/api/me").status_code == 401
    assert clients.anonymous().post("/api/login", json={"name": "xf", "password": "a brand new one"}).status_code == 401
    set_disabled(service.store, "xf", False, service.clock.now(), "cli:root")
    assert clients.anonymous().post("/api/login", json={"name": "xf", "password": "a brand new one"}).status_code == 200
    with service.store.session() as session:
        actions = [(e.actor, e.action, e.after["user"]) for e in session.execute(
            select(AuditEntry).where(AuditEntry.action.like("user_%")).order_by(AuditEntry.seq)).scalars()]
    assert actions[-3:] == [("cli:root", "user_passwd", "xf"), ("cli:root", "user_disable", "xf"),
                            ("cli:root", "user_enable", "xf")]
    assert ("test", "user_add", "xc") in actions
    assert [u.name for u in list_users(service.store)] == sorted(["xc", "xf", "ag", "zz", "fx", "yw"])

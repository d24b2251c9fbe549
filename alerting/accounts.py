"""Console accounts: who may log in, with which office and role, and their password hashes.

The command line (``yuqing users add|passwd|list|disable|enable``) and the console's login both
come here. Passwords are hashed with argon2id (argon2-cffi's defaults); a hash made with older
parameters is upgraded at the next successful login. Adding an account, changing a password and
disabling one are written to the audit log (``user_add``, ``user_passwd``, ``user_disable``,
``user_enable``) in the same transaction, as every workflow action is.

Roles (the console shows each its pages; what a person may do to an alert is still decided by
:class:`alerting.access.Access` from the :class:`~alerting.access.Actor` made here)::

    staff     an office's worker: the queue (宣传部 sees all, other offices their own), tasks
    leader    组长: the overview, approves proposals; sees everything
    analyst   search, stories, trends (reads alerts as their office does, takes no action)
    operator  crawl sources: health, the YAML, test fetches
    admin     everything
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select

from alerting import audit
from alerting.access import Actor
from alerting.errors import AlertingError, Forbidden, NotFound
from alerting.store import Store
from alerting.store.models import User, WebSession

__all__ = ["ROLES", "ROLE_LABELS", "UserError", "Account", "add_user", "set_password", "set_disabled",
           "list_users", "count_users", "check_password", "end_sessions", "actor_for", "acting_actor", "ACTING_ROLES", "MIN_PASSWORD", "get_user"]

ROLES = ("staff", "leader", "analyst", "operator", "admin")
ROLE_LABELS = {"staff": "办公室人员", "leader": "组长", "analyst": "分析人员", "operator": "运维人员",
               "admin": "管理员"}
#: roles whose accounts need an office (the service decides visibility by office)
OFFICE_ROLES = ("staff", "analyst")
MIN_PASSWORD = 10

_hasher = PasswordHasher()
# A hash of nothing anyone knows: unknown names are checked against it so that a login for a name
# that does not exist takes as long as one with a wrong password (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("yuqing: no such user")


class UserError(AlertingError):
    """An account request that cannot be done: an unknown role or office, a taken name, a short
    password. The message says what is allowed."""


@dataclass(frozen=True)
class Account:
    """A user as the console passes it around (no password hash)."""

    id: int
    name: str
    office: str
    role: str
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> "Account":
        return cls(user.id, user.name, user.office, user.role, user.disabled, user.created_at)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def actor_for(account: Account) -> Actor:
    """The workflow's view of a console user: analysts and operators act as staff of their office
    (the console offers them no actions; the service still checks whatever reaches it)."""
    role = account.role if account.role in ("staff", "leader", "admin") else "staff"
    return Actor(account.name, account.office, role)


#: roles that act on alerts; analysts and operators read only
ACTING_ROLES = ("staff", "leader", "admin")


def acting_actor(account: Account) -> Actor:
    """The Actor for an action; raises Forbidden for the read-only roles (analyst, operator).
    Everything else about who may do what is the service's to decide."""
    if account.role not in ACTING_ROLES:
        raise Forbidden(f"{account.name}（{ROLE_LABELS.get(account.role, account.role)}）只能查看，不能办理预警")
    return actor_for(account)


def _check(name: str, role: str, office: str, offices: list[str]) -> None:
    if not name or len(name) > 80 or name != name.strip() or any(c in name for c in "\r\n\t"):
        raise UserError(f"{name!r} is not a usable name: 1 to 80 characters, no spaces at the ends")
    if role not in ROLES:
        raise UserError(f"role {role!r} is not one of: {', '.join(ROLES)}")
    if office and office not in offices:
        raise UserError(f"office {office!r} is not one of: {', '.join(offices)} (alerting.yaml offices)")
    if role in OFFICE_ROLES and not office:
        raise UserError(f"a {role} account needs --office (one of: {', '.join(offices)})")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password needs at least {MIN_PASSWORD} characters")


def add_user(store: Store, name: str, role: str, office: str, password: str, offices: list[str],
             now: datetime, by: str) -> Account:
    """Create an account; raises :class:`UserError` for a taken name, bad role/office or password."""
    _check(name, role, office, offices)
    _check_password(password)
    with store.session() as session:
        if session.execute(select(User.id).where(User.name == name)).first() is not None:
            raise UserError(f"there is already a user {name!r}; change the password with: "
                            f"yuqing users passwd {name}")
        user = User(name=name, office=office, role=role, password_hash=_hasher.hash(password),
                    disabled=False, created_at=now)
        session.add(user)
        session.flush()
        audit.append(session, now, by, "user_add", None, None, {"user": name, "office": office, "role": role})
        return Account.of(user)


def _user(session, name: str) -> User:
    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {name!r}; see them with: yuqing users list")
    return user


def get_user(store: Store, name: str) -> Account:
    with store.session() as session:
        return Account.of(_user(session, name))


def set_password(store: Store, name: str, password: str, now: datetime, by: str) -> None:
    """Change a password; every session of that user ends (a stolen cookie stops working)."""
    _check_password(password)
    with store.session() as session:
        user = _user(session, name)
        user.password_hash = _hasher.hash(password)
        session.query(WebSession).filter(WebSession.user_id == user.id).delete()
        audit.append(session, now, by, "user_passwd", None, None, {"user": name})


def set_disabled(store: Store, name: str, disabled: bool, now: datetime, by: str) -> None:
    """Disable (or enable again) an account; disabling ends its sessions."""
    with store.session() as session:
        user = _user(session, name)
        user.disabled = disabled
        if disabled:
            session.query(WebSession).filter(WebSession.user_id == user.id).delete()
        audit.append(session, now, by, "user_disable" if disabled else "user_enable", None, None,
                     {"user": name})


def end_sessions(store: Store, name: str, now: datetime, by: str) -> int:
    """End every session of ``name``: the console's and the command line's (``yuqing login``);
    returns how many there were."""
    with store.session() as session:
        user = _user(session, name)
        ended = session.query(WebSession).filter(WebSession.user_id == user.id).delete()
        audit.append(session, now, by, "user_sessions_ended", None, None, {"user": name, "sessions": ended})
    return ended


def list_users(store: Store) -> list[Account]:
    with store.session() as session:
        return [Account.of(u) for u in session.execute(select(User).order_by(User.name)).scalars()]


def count_users(store: Store) -> int:
    with store.session() as session:
        return len(session.execute(select(User.id).where(User.disabled.is_(False))).all())


def check_password(session, name: str, password: str) -> tuple[User | None, str]:
    """``(user, "")`` when ``name`` may log in with ``password``, else ``(None, reason)`` with
    reason ``unknown_user``, ``bad_password`` or ``disabled`` (for the audit log, never shown)."""
    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return None, "unknown_user"
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None, "bad_password"
    if user.disabled:
        return None, "disabled"
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user, ""

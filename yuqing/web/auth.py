"""Logging in and out, sessions, CSRF tokens and the login rate limit.

Sessions are rows in the alert database (``web_sessions``): the browser holds a random token in an
HttpOnly, SameSite=Lax cookie (Secure when the console is reached over https), the database only
its SHA-256. A session ends at logout, after :attr:`Auth.idle` without a request, after
:attr:`Auth.lifetime` in any case, and when the password changes or the account is disabled.
Keeping sessions in the database (not in signed cookies) means no secret key to manage, several
console processes share them, and a logout really ends the session.

Each session has its own CSRF token: every form carries it in a hidden ``csrf`` field and every
API POST in the ``X-CSRF-Token`` header (:meth:`Auth.check_csrf`). The login form, before there
is a session, uses a double-submit token (a cookie and a form field that must match).

Rate limit, kept in the database (``login_failures``) so that a restart does not reset it and
several processes count together. Within :attr:`Auth.window`, at most

* :attr:`Auth.max_failures` failed logins per name from one address (a person mistyping),
* :attr:`Auth.max_account_failures` per name from all addresses together, so that a guesser who
  comes from many addresses (a botnet, or forged ``X-Forwarded-For`` headers) gets no more tries
  at one account than that,
* :attr:`Auth.max_ip_failures` per address for any names (one address trying many accounts).

Beyond that :class:`LoginThrottled` says when to try again. Each attempt is counted and recorded
as a failure before its password is checked, under locks of its name and its address on
PostgreSQL (SQLite's transactions are serial already), so that parallel guesses cannot all count
the same failures; a success takes its record back. The address is the client's as the
console sees it: the connected peer, or what a proxy listed in ``yuqing console
--trusted-proxies`` forwarded, and nothing a client may write itself. The price of the
per-account limit is that a guesser can keep one account throttled for as long as it keeps
guessing; the audit log shows it (``login_failed`` with ``rate_limited``), and an administrator
answers it at the network, not by removing the limit. Logins, failed logins (with the reason)
and logouts are written to the audit log.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text

from alerting import audit
from alerting.accounts import Account, check_password
from alerting.clock import Clock
from alerting.errors import AlertingError
from alerting.store import Store
from alerting.store.models import LoginFailure, User, WebSession

__all__ = ["Auth", "Login", "LoginFailed", "LoginThrottled", "CsrfError", "SESSION_COOKIE",
           "LOGIN_COOKIE", "new_token", "same_token"]

SESSION_COOKIE = "yuqing_session"
LOGIN_COOKIE = "yuqing_login_csrf"


class LoginFailed(AlertingError):
    """Wrong name or password, or a disabled account: the message does not say which."""


class LoginThrottled(AlertingError):
    """Too many failed logins; ``retry_after`` is when the oldest counted failure expires."""

    def __init__(self, message: str, retry_after: datetime):
        super().__init__(message)
        self.retry_after = retry_after


class CsrfError(AlertingError):
    """A POST without the session's CSRF token (a forged request, or a page older than the session)."""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Login:
    """A live session: who, the cookie token (only at login) and the CSRF token."""

    account: Account
    csrf: str
    token: str = ""


class Auth:
    """Sessions and logins over the alert store; times from ``clock`` (a ManualClock in tests)."""

    def __init__(self, store: Store, clock: Clock, *, max_failures: int = 5, max_account_failures: int = 20,
                 max_ip_failures: int = 30, window: timedelta = timedelta(minutes=15),
                 idle: timedelta = timedelta(hours=4), lifetime: timedelta = timedelta(hours=12)):
        self.store = store
        self.clock = clock
        self.max_failures = max_failures
        self.max_account_failures = max_account_failures
        self.max_ip_failures = max_ip_failures
        self.window = window
        self.idle = idle
        self.lifetime = lifetime

    def login(self, name: str, password: str, ip: str) -> Login:
        """Check the password and open a session; raises LoginThrottled or LoginFailed.

        The attempt is counted before the password is checked: under a lock of the name and the
        address, the failures are counted and, if below the limits, this attempt is recorded as
        one, in one transaction. Parallel guesses thus each take a place that the next ones see,
        and no more passwords are checked than the limits allow. A success takes its place back.
        """
        now = self.clock.now()
        name = name.strip()[:80]
        with self.store.session() as session:
            _serialise(session, _NAME_LOCK, name)
            _serialise(session, _ADDRESS_LOCK, ip)
            since = now - self.window
            session.execute(delete(LoginFailure).where(LoginFailure.at < since))

            def failures(*where):
                return session.execute(select(func.count(), func.min(LoginFailure.at)).where(
                    LoginFailure.at >= since, *where)).one()

            counted = ((failures(LoginFailure.name == name, LoginFailure.ip == ip), self.max_failures),
                       (failures(LoginFailure.name == name), self.max_account_failures),
                       (failures(LoginFailure.ip == ip), self.max_ip_failures))
            retry = max((oldest + self.window for (count, oldest), limit in counted if count >= limit),
                        default=None)
            if retry is not None:
                # the password is not even checked: a guesser learns nothing while throttled
                audit.append(session, now, name or "-", "login_failed", None, None,
                             {"ip": ip, "reason": "rate_limited"})
            else:
                attempt = LoginFailure(name=name, ip=ip, at=now)
                session.add(attempt)
        # raised outside the transaction so that the audit entry is kept
        if retry is not None:
            raise LoginThrottled(f"登录失败次数过多，请于 {_minutes(retry - now)} 分钟后再试", retry)
        # the password is checked outside the locks: one slow hash must not hold up others' logins
        with self.store.session() as session:
            user, reason = check_password(session, name, password)
            if user is None:
                audit.append(session, now, name or "-", "login_failed", None, None, {"ip": ip, "reason": reason})
            else:
                session.execute(delete(LoginFailure).where(LoginFailure.id == attempt.id))
                token, csrf = new_token(), new_token()
                session.add(WebSession(token_hash=_digest(token), user_id=user.id, csrf=csrf, ip=ip,
                                       created_at=now, last_seen=now, expires_at=now + self.lifetime))
                session.execute(delete(WebSession).where(WebSession.expires_at < now))
                audit.append(session, now, user.name, "login", None, None,
                             {"ip": ip, "office": user.office, "role": user.role})
        if user is None:
            raise LoginFailed("用户名或密码错误")
        return Login(Account.of(user), csrf, token)

    def session(self, token: str | None) -> Login | None:
        """The live session of a cookie token, or None (unknown, expired, idle too long, disabled)."""
        if not token:
            return None
        now = self.clock.now()
        with self.store.session() as session:
            row = session.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                                  .where(WebSession.token_hash == _digest(token))).one_or_none()
            if row is None:
                return None
            web, user = row
            if user.disabled or now >= web.expires_at or now - web.last_seen > self.idle:
                session.delete(web)
                return None
            # write the time seen at most once a minute: a page polling must not write every second
            if now - web.last_seen > timedelta(minutes=1):
                web.last_seen = now
            return Login(Account.of(user), web.csrf)

    def logout(self, token: str | None, ip: str) -> None:
        if not token:
            return
        now = self.clock.now()
        with self.store.session() as session:
            row = session.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                                  .where(WebSession.token_hash == _digest(token))).one_or_none()
            if row is not None:
                session.delete(row[0])
                audit.append(session, now, row[1].name, "logout", None, None, {"ip": ip})

    @staticmethod
    def check_csrf(login: Login, given: str | None) -> None:
        if not same_token(login.csrf, given):
            raise CsrfError("请求缺少有效的安全令牌（CSRF）；请刷新页面后重试")


#: the classes of the advisory locks of the rate limit (pg_advisory_xact_lock(class, key))
_NAME_LOCK, _ADDRESS_LOCK = 0x7971_0001, 0x7971_0002


def _serialise(session, kind: int, value: str) -> None:
    """Hold ``value`` of ``kind`` locked until the transaction ends, so that its failed logins are
    counted and recorded by one login at a time. PostgreSQL's default isolation lets parallel
    transactions count the same rows; SQLite needs nothing, as its every transaction starts with
    BEGIN IMMEDIATE (one writer at a time). Locks are always taken name first, then address, so
    two logins never wait for each other in a circle."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:kind, hashtext(:value))"),
                        {"kind": kind, "value": value})


def _minutes(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 59) // 60)

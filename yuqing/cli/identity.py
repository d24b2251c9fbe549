"""Who acts on the command line: the account logged in with ``yuqing login``, never a name typed
on the command line.

``yuqing login NAME`` checks the password as the console does (the same throttling, the same audit
entries) and keeps the session's token in the user's home (``~/.config/yuqing/credentials.json``,
mode 600, or ``$YUQING_CREDENTIALS``), one per alert store. Workflow commands act as that account,
with the permissions the console gives it; the token ends with ``yuqing logout``, after
:data:`LIFETIME`, when the password changes, when the account is disabled, or when an
administrator ends its sessions (``yuqing users revoke NAME``).

``--override REASON`` lets the service account act when nobody can log in (an outage of the
accounts, an emergency): only root or the operating-system user that owns the audit log's key file
may use it, it acts as an administrator named ``override:<os user>``, and the reason and the
command are written to the audit log first.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import socket
import sys
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

from sqlalchemy.engine import make_url

from alerting import audit
from alerting.access import Actor
from alerting.accounts import acting_actor, actor_for
from alerting.errors import Forbidden, LoginRequired
from alerting.service import AlertService
from pipeline.config import Settings
from pipeline.errors import UsageError
from yuqing.app import open_service
from yuqing.cli.common import settings_from
from yuqing.web.auth import Auth, Login

__all__ = ["actor_options", "acting", "may_override", "credentials_path", "cli_auth", "remember", "recall", "forget",
           "LIFETIME", "where_from"]

#: how long a command-line login lasts (idle or not)
LIFETIME = timedelta(days=30)


def actor_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("who acts: the account of `yuqing login` (recorded in the audit log)")
    group.add_argument("--override", metavar="REASON",
                       help="act as the service account when nobody can log in; needs read access to "
                       "the audit key, and the reason goes to the audit log")


def credentials_path() -> Path:
    if os.environ.get("YUQING_CREDENTIALS"):
        return Path(os.environ["YUQING_CREDENTIALS"])
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "yuqing" / "credentials.json"


def _store_key(settings: Settings) -> str:
    """The store a login belongs to, as the credentials file names it (never with a password)."""
    return make_url(settings.store.url.replace("postgresql://", "postgresql+psycopg://", 1)) \
        .render_as_string(hide_password=True)


def _read(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise UsageError(f"{path}: not the credentials file yuqing writes; remove it and run yuqing login") from None
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    scratch = path.with_suffix(".tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=1)
    os.replace(scratch, path)


def remember(settings: Settings, name: str, token: str, expires: datetime) -> Path:
    """Keep the token of ``name``'s login to this store in the credentials file."""
    path = credentials_path()
    data = _read(path)
    data[_store_key(settings)] = {"name": name, "token": token, "expires": expires.isoformat()}
    _write(path, data)
    return path


def recall(settings: Settings) -> tuple[str, str] | None:
    """(name, token) of the login to this store, or None."""
    entry = _read(credentials_path()).get(_store_key(settings))
    if not isinstance(entry, dict) or not entry.get("token"):
        return None
    return str(entry.get("name", "")), str(entry["token"])


def forget(settings: Settings) -> None:
    path = credentials_path()
    data = _read(path)
    if data.pop(_store_key(settings), None) is not None:
        _write(path, data)


def where_from() -> str:
    """What the audit log says a command-line login came from."""
    return f"cli:{getpass.getuser()}@{socket.gethostname()}"[:64]


def cli_auth(service: AlertService) -> Auth:
    """The console's logins and sessions, with the command line's lifetime."""
    return Auth(service.store, service.clock, idle=LIFETIME, lifetime=LIFETIME)


def _logged_in(settings: Settings, service: AlertService) -> Login:
    remembered = recall(settings)
    login = cli_auth(service).session(remembered[1]) if remembered else None
    if login is None:
        state = "has ended (expired, logged out, password changed or account disabled)" if remembered \
            else "is not logged in"
        raise LoginRequired(f"{getpass.getuser()} {state} on {_store_key(settings)}: run "
                            "`yuqing login NAME` with a console account (yuqing users add makes one)")
    return login


def may_override(settings: Settings, reason: str) -> None:
    """Root, or the owner of the audit key file (the service account); with a reason."""
    if not reason.strip():
        raise UsageError("--override needs a reason; it is kept in the audit log")
    key_file = settings.store.audit_key_file
    try:
        owner = key_file.stat().st_uid if key_file is not None else None
    except OSError:  # not there, or a folder this user may not look into
        owner = None
    if os.geteuid() != 0 and owner != os.geteuid():
        raise Forbidden(f"{getpass.getuser()} may not override: only the service account, which owns "
                        f"the audit key ({key_file}), may act without a login")


def _override(service: AlertService, reason: str, argv: list[str]) -> Actor:
    actor = Actor(f"override:{getpass.getuser()}"[:80], "", "admin")
    with service.store.session() as session:
        audit.append(session, service.clock.now(), actor.name, "cli_override", None, None,
                     {"reason": reason, "command": argv, "from": where_from()})
    return actor


@contextmanager
def acting(args: argparse.Namespace, read_only: bool = False) -> Iterator[tuple[AlertService, Actor]]:
    """The service and who acts: the logged-in account (LoginRequired otherwise), or the recorded
    override; the store closes after. ``read_only`` lets analysts and operators read what their
    office may see; acting needs an acting role, as in the console."""
    settings = settings_from(args)
    override = getattr(args, "override", None)
    if override is not None:
        may_override(settings, override)  # before anything is opened
    service = open_service(settings)
    try:
        if override is not None:
            actor = _override(service, override, getattr(args, "argv", sys.argv[1:]))
        else:
            account = _logged_in(settings, service).account
            actor = actor_for(account) if read_only else acting_actor(account)
        yield service, actor
    finally:
        service.store.close()

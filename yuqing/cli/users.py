"""``yuqing users add|passwd|list|disable|enable|revoke``: the console's (and ``yuqing login``'s) accounts.

Passwords are read from the terminal twice (never from the command line, where ``ps`` and the
shell history would keep them), or with ``--password-stdin`` one line from standard input for
scripts. Every change is written to the audit log with the operating-system user who made it.
The console refuses to start until one account exists: create the first with
``yuqing users add admin --role admin``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import datetime

from alerting.accounts import (
    MIN_PASSWORD, add_user, end_sessions, get_user, list_users, set_disabled, set_password,
)
from alerting.clock import SystemClock
from alerting.config import AlertingConfig, load_alerting_config
from alerting.store import Store
from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.records import beijing_minute
from yuqing.app import open_alert_store
from yuqing.cli.common import settings_from

ROLE_HELP = "staff (an office), leader (组长), analyst, operator, admin"


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="create an account (asks for the password twice)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("staff", "leader", "analyst", "operator", "admin"),
                     help=ROLE_HELP)
    add.add_argument("--office", default="", help="the office, e.g. 宣传部 or 信访室 (staff and analysts need one)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(run=run_add)
    passwd = actions.add_parser("passwd", help="set a new password; the user's sessions end")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(run=run_passwd)
    listing = actions.add_parser("list", help="every account with office, role and state")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=run_list)
    for name, help_ in (("disable", "stop an account from logging in; its sessions end"),
                        ("enable", "allow a disabled account again")):
        p = actions.add_parser(name, help=help_)
        p.add_argument("name")
        p.set_defaults(run=run_disable if name == "disable" else run_enable)
    revoke = actions.add_parser("revoke", help="end every session of an account: the console's and "
                                "the command line's (yuqing login)")
    revoke.add_argument("name")
    revoke.set_defaults(run=run_revoke)


def open_store_and_config(args) -> tuple[Store, AlertingConfig, Settings]:
    settings = settings_from(args)
    return open_alert_store(settings), load_alerting_config(settings.alerting.file), settings


def read_password(args) -> str:
    """The new password: one line of stdin, or typed twice on the terminal (exit 2 if they differ)."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise ConfigError("the two passwords differ; nothing was changed")
    return password


def _now() -> datetime:
    return SystemClock().now()


def _by() -> str:
    return f"cli:{getpass.getuser()}"


def run_add(args: argparse.Namespace) -> int:
    store, config, _ = open_store_and_config(args)
    try:
        if not args.password_stdin:
            print(f"new password for {args.name} (at least {MIN_PASSWORD} characters)")
        account = add_user(store, args.name, args.role, args.office, read_password(args), config.offices,
                           _now(), _by())
    finally:
        store.close()
    print(f"user {account.name} added: {account.role}" + (f" of {account.office}" if account.office else ""))
    return 0


def run_passwd(args: argparse.Namespace) -> int:
    store, _, _ = open_store_and_config(args)
    try:
        get_user(store, args.name)  # say "no such user" before asking for a password
        set_password(store, args.name, read_password(args), _now(), _by())
    finally:
        store.close()
    print(f"password of {args.name} changed; their sessions have ended")
    return 0


def run_list(args: argparse.Namespace) -> int:
    store, _, _ = open_store_and_config(args)
    try:
        users = list_users(store)
    finally:
        store.close()
    if args.json:
        for u in users:
            print(json.dumps({"name": u.name, "office": u.office, "role": u.role, "disabled": u.disabled,
                              "created_at": u.created_at.isoformat()}, ensure_ascii=False))
        return 0
    if not users:
        print("no users yet; create the first with: yuqing users add admin --role admin")
        return 0
    for u in users:
        print(f"{u.name:<16} {u.role:<9} {u.office or '-':<8} {'disabled' if u.disabled else 'active':<9} "
              f"{beijing_minute(u.created_at)}")
    return 0


def _set_disabled(args, disabled: bool) -> int:
    store, _, _ = open_store_and_config(args)
    try:
        set_disabled(store, args.name, disabled, _now(), _by())
    finally:
        store.close()
    print(f"user {args.name} {'disabled' if disabled else 'enabled'}")
    return 0


def run_disable(args: argparse.Namespace) -> int:
    return _set_disabled(args, True)


def run_enable(args: argparse.Namespace) -> int:
    return _set_disabled(args, False)


def run_revoke(args: argparse.Namespace) -> int:
    store, _, _ = open_store_and_config(args)
    try:
        ended = end_sessions(store, args.name, _now(), _by())
    finally:
        store.close()
    print(f"user {args.name}: {ended} sessions ended")
    return 0

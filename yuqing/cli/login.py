"""``yuqing login|logout|whoami``: the account the command line acts as (:mod:`yuqing.cli.identity`)."""

from __future__ import annotations

import argparse
import getpass
import sys

from alerting.clock import SystemClock
from pipeline.errors import UsageError
from pipeline.records import beijing_minute
from yuqing.app import open_service
from yuqing.cli.common import settings_from
from yuqing.cli.identity import LIFETIME, cli_auth, credentials_path, forget, recall, remember, where_from

COMMANDS = ("login", "logout", "whoami")


def configure(parser: argparse.ArgumentParser) -> None:
    command = parser.prog.split()[-1]
    if command == "login":
        parser.description = (f"Log in with a console account (yuqing users add makes one); the session "
                              f"is kept in {credentials_path()} for {LIFETIME.days} days, and the workflow "
                              "commands act as that account.")
        parser.add_argument("name", help="the account's name")
        parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        parser.set_defaults(run=run_login)
    elif command == "logout":
        parser.set_defaults(run=run_logout)
    else:
        parser.set_defaults(run=run_whoami)


def run_login(args: argparse.Namespace) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
    if not password:
        raise UsageError("no password given")
    settings = settings_from(args)
    service = open_service(settings)
    try:
        login = cli_auth(service).login(args.name, password, where_from())
    finally:
        service.store.close()
    expires = SystemClock().now() + LIFETIME
    path = remember(settings, login.account.name, login.token, expires)
    print(f"logged in as {login.account.name} ({login.account.office or '-'}, {login.account.role_label}) "
          f"until {beijing_minute(expires)}; kept in {path}")
    return 0


def run_logout(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    remembered = recall(settings)
    if remembered is None:
        print("not logged in")
        return 0
    service = open_service(settings)
    try:
        cli_auth(service).logout(remembered[1], where_from())
    finally:
        service.store.close()
    forget(settings)
    print(f"logged out {remembered[0]}")
    return 0


def run_whoami(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    remembered = recall(settings)
    service = open_service(settings)
    try:
        login = cli_auth(service).session(remembered[1]) if remembered else None
    finally:
        service.store.close()
    if login is None:
        print("not logged in: yuqing login NAME")
        return 1
    print(f"{login.account.name} ({login.account.office or '-'}, {login.account.role_label})")
    return 0

"""``yuqing audit verify|log``: the accountability record (问责留痕).

``verify`` recomputes the hash chain of the whole audit log and exits 1 when an entry was changed,
deleted or cut off, naming the entry; ``log`` prints the entries (of one alert with ``--alert``).
"""

from __future__ import annotations

import argparse
import json

from alerting import audit
from alerting.store import Store, open_store
from pipeline.records import beijing_minute
from yuqing.cli.common import settings_from


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("verify", help="check that no entry was changed, deleted or removed").set_defaults(run=run_verify)
    log = actions.add_parser("log", help="print entries, oldest first")
    log.add_argument("--alert", metavar="ALERT_ID")
    log.add_argument("--json", action="store_true")
    log.set_defaults(run=run_log)


def _store(args) -> Store:
    return open_store(settings_from(args).store.url)


def run_verify(args) -> int:
    store = _store(args)
    try:
        with store.session() as session:
            checked, problems = audit.verify(session)
    finally:
        store.close()
    for problem in problems:
        print(problem)
    print(f"audit log: {checked} entries checked, " + ("chain intact" if not problems else f"{len(problems)} problems"))
    return 1 if problems else 0


def run_log(args) -> int:
    store = _store(args)
    try:
        with store.session() as session:
            for e in audit.entries(session, args.alert):
                if args.json:
                    print(json.dumps({"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                                      "alert_id": e.alert_id, "before": e.before, "after": e.after,
                                      "hash": e.hash}, ensure_ascii=False))
                else:
                    print(f"{e.seq:>6}  {beijing_minute(e.at)}  {e.actor:<8} {e.action:<16} {e.alert_id or '-'}  "
                          + json.dumps(e.after or {}, ensure_ascii=False)[:120])
    finally:
        store.close()
    return 0

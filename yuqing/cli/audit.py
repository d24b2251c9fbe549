"""``yuqing audit verify|log|anchor``: the accountability record (问责留痕).

``verify`` recomputes the keyed chain of the whole audit log, compares it with the anchors kept
outside the database (the anchor file; ``--anchors FILE`` for a copy kept elsewhere) and every
alert with the last state the log recorded for it; it exits 1 naming each entry or alert that was
changed, deleted, cut off, rewritten or changed without an entry. ``log`` prints the entries (of
one alert with ``--alert``). ``anchor`` writes the head to the anchor file now (the ticker writes
one a day, and every briefing does).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

from alerting import anchors, audit
from alerting.store import Store
from pipeline.records import beijing_minute
from yuqing.app import open_alert_store
from yuqing.cli.common import settings_from


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = actions.add_parser("verify", help="check that no entry was changed, deleted, cut off or "
                                "rewritten, and that every alert's state has its entry")
    verify.add_argument("--anchors", type=Path, action="append", metavar="FILE",
                        help="anchor file to check against (repeatable; default: store.audit_anchors)")
    verify.set_defaults(run=run_verify)
    log = actions.add_parser("log", help="print entries, oldest first")
    log.add_argument("--alert", metavar="ALERT_ID")
    log.add_argument("--json", action="store_true")
    log.set_defaults(run=run_log)
    anchor = actions.add_parser("anchor", help="write the log's head to the anchor file now")
    anchor.add_argument("--reason", default="manual", help="what the line says (default: manual)")
    anchor.set_defaults(run=run_anchor)


def _store(args) -> tuple[Store, Path]:
    settings = settings_from(args)
    return open_alert_store(settings), settings.store.audit_anchors


def run_verify(args) -> int:
    store, default_anchors = _store(args)
    files = args.anchors or ([default_anchors] if default_anchors.exists() else [])
    try:
        with store.session() as session:
            checked, problems = audit.verify(session)
            for path in files:
                problems += anchors.check(session, anchors.read(path))
            problems += audit.verify_states(session)
    finally:
        store.close()
    for problem in problems:
        print(problem)
    against = f"checked against {', '.join(map(str, files))}" if files else \
        "no anchor file yet (the ticker writes one a day: yuqing run, or yuqing audit anchor)"
    verdict = "chain intact, every alert's state has its entry" if not problems else f"{len(problems)} problems"
    print(f"audit log: {checked} entries checked, {verdict}; {against}")
    return 1 if problems else 0


def run_log(args) -> int:
    store, _ = _store(args)
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


def run_anchor(args) -> int:
    store, path = _store(args)
    try:
        with store.session() as session:
            anchor = anchors.take(session, datetime.now(timezone.utc), args.reason)
    finally:
        store.close()
    anchors.write(path, anchor)
    print(f"{path}: {anchor.line()}")
    return 0

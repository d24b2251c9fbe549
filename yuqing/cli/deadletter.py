"""``yuqing deadletter list|replay``: what a stage could not process, and sending it back."""

from __future__ import annotations

import argparse
import json
import re
import uuid

from pipeline.backends import open_bus
from pipeline.bus import DEADLETTER
from yuqing.cli.common import settings_from

_ORIGIN = re.compile(r"^(?P<topic>[\w.\-]+)\[(?P<partition>\d+)\]@(?P<offset>\d+)$")


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = actions.add_parser("list", help="print dead letters (stage, origin, reason)")
    ls.add_argument("--stage", help="only this stage (classify, index, alert)")
    ls.add_argument("--limit", type=int, default=50)
    ls.set_defaults(run=run_list)
    rp = actions.add_parser("replay", help="send dead letters back to the topic they came from")
    rp.add_argument("--stage", help="only this stage")
    rp.set_defaults(run=run_replay)


def _read(message) -> dict:
    try:
        return json.loads(message.value)
    except ValueError:
        return {"stage": "?", "origin": "?", "reason": "unreadable dead letter"}


def _letters(bus, group: str):
    """Every letter on the topic, for a group that never commits (listing moves no offsets)."""
    consumer = bus.consumer(DEADLETTER, group)
    try:
        while batch := consumer.poll(max_records=500, timeout_s=2.0):
            for message in batch:
                yield message, _read(message)
    finally:
        consumer.close()


def run_list(args: argparse.Namespace) -> int:
    bus = open_bus(settings_from(args))
    shown = 0
    try:
        # A throwaway group: listing never moves anyone's offsets.
        for message, letter in _letters(bus, f"deadletter-list-{uuid.uuid4().hex[:8]}"):
            if args.stage and letter.get("stage") != args.stage:
                continue
            print(f"{message.where}  {letter.get('at', '?')[:19]}  {letter.get('stage')}  "
                  f"{letter.get('origin')}  {letter.get('reason')}")
            shown += 1
            if shown >= args.limit:
                break
    finally:
        bus.close()
    print(f"{shown} dead letters shown")
    return 0


def run_replay(args: argparse.Namespace) -> int:
    """Send the letters back, then count them as done: everything is read first (so that letters
    put back on the topic below are not read again), the records are written and flushed, and
    only then does the replay group's offset move. A letter of another stage than ``--stage``
    goes back on the dead-letter topic to wait for its own replay; a second letter of one record
    (a batch retried after an outage dead-letters its bad record again) is not replayed twice."""
    bus = open_bus(settings_from(args))
    replayed = skipped = kept = repeated = 0
    consumer = bus.consumer(DEADLETTER, "deadletter-replay")
    try:
        messages = []
        while batch := consumer.poll(max_records=500, timeout_s=2.0):
            messages += batch
        done: set[str] = set()
        for message in messages:
            letter = _read(message)
            if args.stage and letter.get("stage") != args.stage:
                bus.publish(DEADLETTER, message.value, key=message.key)
                kept += 1
                continue
            origin = _ORIGIN.match(str(letter.get("origin", "")))
            if not origin or letter.get("encoding") != "utf-8":
                skipped += 1
                continue
            if origin.group(0) in done:
                repeated += 1
                continue
            done.add(origin.group(0))
            bus.publish(origin["topic"], letter["value"].encode("utf-8"), key=message.key)
            replayed += 1
        bus.flush()
        consumer.commit()
    finally:
        consumer.close()
        bus.close()
    print(f"replayed {replayed} dead letters to their topics; skipped {skipped} "
          f"(no topic of origin, or bytes that were not UTF-8)"
          + (f"; {repeated} repeated letters of one record" if repeated else "")
          + (f"; {kept} of other stages kept for their own replay" if kept else ""))
    return 0

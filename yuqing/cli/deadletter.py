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


def _letters(bus, group: str, commit: bool):
    consumer = bus.consumer(DEADLETTER, group)
    try:
        while batch := consumer.poll(max_records=500, timeout_s=2.0):
            for message in batch:
                try:
                    yield message, json.loads(message.value)
                except ValueError:
                    yield message, {"stage": "?", "origin": "?", "reason": "unreadable dead letter"}
            if commit:
                consumer.commit()
    finally:
        consumer.close()


def run_list(args: argparse.Namespace) -> int:
    bus = open_bus(settings_from(args))
    shown = 0
    try:
        # A throwaway group: listing never moves anyone's offsets.
        for message, letter in _letters(bus, f"deadletter-list-{uuid.uuid4().hex[:8]}", False):
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
    bus = open_bus(settings_from(args))
    replayed = skipped = 0
    try:
        # One group for replays, committed as it goes: a letter is replayed once.
        for message, letter in _letters(bus, "deadletter-replay", True):
            if args.stage and letter.get("stage") != args.stage:
                continue
            origin = _ORIGIN.match(str(letter.get("origin", "")))
            if not origin or letter.get("encoding") != "utf-8":
                skipped += 1
                continue
            bus.publish(origin["topic"], letter["value"].encode("utf-8"), key=message.key)
            replayed += 1
        bus.flush()
    finally:
        bus.close()
    print(f"replayed {replayed} dead letters to their topics; skipped {skipped} "
          f"(no topic of origin, or bytes that were not UTF-8)")
    return 0

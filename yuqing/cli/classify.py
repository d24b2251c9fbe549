"""``yuqing classify --input FILE.jsonl``: score texts with the default (or a chosen) model.

Input: articles as JSON Lines (:mod:`pipeline.jsonl`: ``content`` or ``text``, and optionally
``id``, ``title`` and the rest). Output: one JSON line per input on stdout with ``id``,
``relevance``, ``sensitivity``, ``level``, ``department``, ``explanation`` (and ``matched_rules``).
A line that cannot be used is reported on stderr as ``FILE:LINE: skipped: ...`` naming the field,
and the rest are still scored; the exit code is then 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.errors import RecordError
from pipeline.jsonl import ArticleLine, read_articles
from yuqing.app import Application
from yuqing.cli.common import settings_from

BATCH = 256


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, metavar="FILE.jsonl", help="'-' reads stdin")
    parser.add_argument("--model", metavar="VERSION", help="model version (default: the current one)")
    parser.add_argument("--rules", metavar="FILE", type=Path,
                        help="keyword schemes YAML (default: the shipped classifiers/rules.yaml)")
    parser.add_argument("--no-rules", action="store_true", help="the model alone, without schemes")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    scorer = Application(settings_from(args), model=args.model, rules=args.rules,
                         no_rules=args.no_rules).scorer
    name = "<stdin>" if args.input == "-" else args.input
    try:
        stream = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8", errors="replace")
    except OSError as exc:
        print(f"{name}: cannot read: {exc.strerror}", file=sys.stderr)
        return 2
    problems = 0
    batch: list[ArticleLine] = []

    def flush() -> None:
        for line, j in zip(batch, scorer.judge_many([line.text() for line in batch])):
            print(json.dumps({"id": line.id, "relevance": j.relevance, "sensitivity": j.sensitivity,
                              "level": j.level, "department": j.department,
                              "explanation": list(j.explanation),
                              "matched_rules": list(j.matched_rules)}, ensure_ascii=False))
        batch.clear()

    with stream:
        for item in read_articles(stream, name):
            if isinstance(item, RecordError):
                print(f"{item.where}: skipped: {item.reason}", file=sys.stderr)
                problems += 1
                continue
            batch.append(item)
            if len(batch) >= BATCH:
                flush()
    flush()
    return 1 if problems else 0

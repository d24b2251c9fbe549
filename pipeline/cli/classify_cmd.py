"""``yuqing classify --input FILE.jsonl``: score texts with the default (or a chosen) model.

Input: JSON Lines with ``id``, ``text`` and optionally ``title``. Output: one JSON line per input
on stdout with ``id``, ``relevance``, ``sensitivity``, ``level``, ``department``, ``explanation``
(and ``matched_rules``). A line that is not valid JSON, or lacks ``text``, is reported on stderr as
``FILE:LINE: ...`` and the rest are still scored; the exit code is then 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

BATCH = 256


def register(sub) -> None:
    parser = sub.add_parser("classify", help="score JSON Lines texts: relevance, level, office")
    parser.add_argument("--input", required=True, metavar="FILE.jsonl", help="'-' reads stdin")
    parser.add_argument("--model", metavar="VERSION", help="model version (default: the current one)")
    parser.add_argument("--rules", metavar="FILE", type=Path,
                        help="keyword schemes YAML (default: the shipped classifiers/rules.yaml)")
    parser.add_argument("--no-rules", action="store_true", help="the model alone, without schemes")
    parser.set_defaults(run=run)


def open_scorer(args: argparse.Namespace):
    from classifiers import registry
    from classifiers.rules import load_rules
    from classifiers.scorer import ModelScorer
    from pipeline.cli.main import settings_from

    settings = settings_from(args)
    model = registry.load(args.model, settings.paths.data_dir)
    rules = None if getattr(args, "no_rules", False) else load_rules(getattr(args, "rules", None))
    return ModelScorer(model, rules)


def run(args: argparse.Namespace) -> int:
    scorer = open_scorer(args)
    name = "<stdin>" if args.input == "-" else args.input
    try:
        stream = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8", errors="replace")
    except OSError as exc:
        print(f"{name}: cannot read: {exc.strerror}", file=sys.stderr)
        return 2
    problems = 0
    batch: list[tuple[object, str]] = []

    def flush() -> None:
        for (id_, _), j in zip(batch, scorer.judge_many([t for _, t in batch])):
            print(json.dumps({"id": id_, "relevance": j.relevance, "sensitivity": j.sensitivity,
                              "level": j.level, "department": j.department,
                              "explanation": list(j.explanation),
                              "matched_rules": list(j.matched_rules)}, ensure_ascii=False))
        batch.clear()

    with stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                    raise ValueError("expected an object with a string 'text'")
                title = obj.get("title") or ""
                if not isinstance(title, str):
                    raise ValueError("'title' must be a string")
            except ValueError as exc:  # JSONDecodeError is a ValueError
                print(f"{name}:{number}: skipped: {exc}", file=sys.stderr)
                problems += 1
                continue
            batch.append((obj.get("id"), f"{title}\n{obj['text']}" if title else obj["text"]))
            if len(batch) >= BATCH:
                flush()
    flush()
    return 1 if problems else 0

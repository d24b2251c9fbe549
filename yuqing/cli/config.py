"""``yuqing config validate|show``: check a settings file, or print the effective settings."""

from __future__ import annotations

import argparse
import json

from pipeline.config import describe
from yuqing.cli.common import settings_from


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    validate = actions.add_parser(
        "validate", help="check a settings file; prints FILE:LINE: problems, exit code 2 if any"
    )
    validate.add_argument("file", nargs="?", help="settings file (default: --config or ./yuqing.yaml)")
    validate.set_defaults(run=run_validate)
    show = actions.add_parser("show", help="print the effective settings as JSON (no secrets)")
    show.set_defaults(run=run_show)


def run_validate(args: argparse.Namespace) -> int:
    if args.file:
        args.config = args.file
    settings = settings_from(args)  # raises ConfigError → exit code 2
    print(f"{settings.source or 'defaults'}: ok — {describe(settings)}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    print(json.dumps(settings.model_dump(mode="json"), ensure_ascii=False, indent=2))
    return 0

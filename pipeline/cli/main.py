"""``yuqing``: the one command-line entry point; each subcommand lives in a module of its own.

Exit codes: 0 success, 1 the command ran but found problems, 2 usage or configuration error,
3 a backend (Kafka, Elasticsearch, ...) could not be reached.
"""

from __future__ import annotations

import argparse
import logging
import sys

from pipeline.errors import BackendUnavailable, ConfigError, YuqingError

COMMANDS = ("config_cmd", "demo", "search", "classify_cmd", "model_cmd", "sources_cmd", "crawl",
            "eval_cmd", "worker", "deadletter_cmd", "alerts_cmd", "consult_cmd", "audit_cmd", "report_cmd", "console_cmd", "users_cmd", "index_cmd")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yuqing",
        description="舆情监测与应对处置 — media monitoring for a discipline inspection commission.",
        epilog="Settings come from yuqing.yaml (or --config / $YUQING_CONFIG); the defaults run "
        "everything embedded under ./data with no servers.",
    )
    parser.add_argument("--config", metavar="FILE", help="settings file (default: ./yuqing.yaml)")
    parser.add_argument("--data-dir", metavar="DIR", help="override paths.data_dir")
    parser.add_argument("--bus-url", metavar="URL", help="override bus.url (sqlite:///... or kafka://...)")
    parser.add_argument("--index-url", metavar="URL", help="override index.url (sqlite:///... or http://...)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = __import__(f"pipeline.cli.{name}", fromlist=["register"])
        module.register(sub)
    return parser


def settings_from(args: argparse.Namespace):
    """Settings with the command line's overrides applied (the highest precedence)."""
    from pipeline.config import load_settings

    overrides = {}
    for option, key in (("data_dir", ("paths", "data_dir")), ("bus_url", ("bus", "url")),
                        ("index_url", ("index", "url"))):
        value = getattr(args, option, None)
        if value:
            overrides[key] = value
    return load_settings(args.config, overrides=overrides)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.run(args) or 0
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except BackendUnavailable as exc:
        print(f"yuqing: {exc}", file=sys.stderr)
        return 3
    except YuqingError as exc:  # a refused request (illegal transition, unknown office ...)
        print(f"yuqing: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into head: not an error of ours
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())

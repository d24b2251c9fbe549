"""``yuqing``: the one command-line entry point; each subcommand lives in a module of its own.

:data:`COMMANDS` lists the commands with their one-line help. Only the module of the command
being run is imported (its ``configure(parser)`` adds its options and sets ``run``), so
``yuqing alerts list`` does not load the classifier, Scrapy or the console, and ``yuqing --help``
loads none of them.

Exit codes: 0 success, 1 the command ran but found problems, 2 usage or configuration error,
3 a backend (Kafka, Elasticsearch, ...) could not be reached — ``exit_code`` of the
:class:`pipeline.errors.YuqingError` raised.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from dataclasses import dataclass

from pipeline.errors import ConfigError, YuqingError

__all__ = ["main", "build_parser", "COMMANDS", "Command"]


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, its module under ``yuqing.cli`` and the line ``--help`` shows."""

    name: str
    module: str
    help: str


COMMANDS = (
    Command("config", "config", "check or show the settings (yuqing.yaml)"),
    Command("demo", "demo", "run sample articles through bus → classifier → index"),
    Command("search", "search", "full-text search of indexed articles (Chinese works)"),
    Command("classify", "classify", "score JSON Lines texts: relevance, level, office"),
    Command("model", "model", "train, evaluate and correct the classifier"),
    Command("sources", "sources", "check crawl sources, show their health, test one"),
    Command("crawl", "crawl", "poll every enabled source on its schedule and publish new articles"),
    Command("eval", "evaluate", "measure extraction and feed handling on saved pages"),
    Command("worker", "worker", "run one stream step (classify, index, alert or intake)"),
    Command("run", "run", "crawl and run every step in one process until stopped (embedded default)"),
    Command("deadletter", "deadletter", "list or replay records a stage could not process"),
    Command("alerts", "alerts", "the alert queue and the response workflow (研判预警)"),
    Command("consult", "consult", "即时会商: split an alert into tasks with offices, people, deadlines"),
    Command("audit", "audit", "verify or print the audit log (who did what, when)"),
    Command("report", "report", "例会通报: a daily, weekly or date-range briefing (HTML + PDF); "
            "approve or return one"),
    Command("drill", "drill", "演练: run a marked drill alert through the workflow, then its report"),
    Command("console", "console", "serve the web console (队列、研判、任务、检索、趋势、采集源、通报)"),
    Command("users", "users", "console accounts: add, change password, list, disable, end sessions"),
    Command("login", "login", "log in with a console account: the workflow commands act as it"),
    Command("logout", "login", "end this command line's login"),
    Command("whoami", "login", "the account this command line acts as"),
    Command("index", "index", "maintain the search index (retention)"),
    Command("storage", "storage", "what each store holds and for how long; prune what is past it"),
)


def _global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="settings file (default: ./yuqing.yaml)")
    parser.add_argument("--data-dir", metavar="DIR", help="override paths.data_dir")
    parser.add_argument("--bus-url", metavar="URL", help="override bus.url (sqlite:///... or kafka://...)")
    parser.add_argument("--index-url", metavar="URL", help="override index.url (sqlite:///... or http://...)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")


def _chosen(argv: list[str]) -> str | None:
    """The command named in ``argv`` (after the global options), None when there is none yet."""
    probe = argparse.ArgumentParser(add_help=False)
    _global_options(probe)
    probe.add_argument("command", nargs="?")
    try:
        known, _ = probe.parse_known_args(argv)
    except SystemExit:  # a global option without its value: the real parser will say so
        return None
    return known.command


def build_parser(command: str | None = None, every: bool = False) -> argparse.ArgumentParser:
    """The parser with the options of ``command`` filled in (of every command with ``every``);
    the other commands are listed with their help only."""
    parser = argparse.ArgumentParser(
        prog="yuqing",
        description="舆情监测与应对处置 — media monitoring for a discipline inspection commission.",
        epilog="Settings come from yuqing.yaml (or --config / $YUQING_CONFIG); the defaults run "
        "everything embedded under ./data with no servers.",
    )
    _global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS:
        child = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        if every or cmd.name == command:
            # Importing the module here and not at the top is the point of the table: a command
            # loads what it needs (the classifier, Scrapy, the console) and nothing else.
            importlib.import_module(f"yuqing.cli.{cmd.module}").configure(child)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_chosen(argv))
    args = parser.parse_args(argv)
    args.argv = argv  # what was typed, for the audit log of an override
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.run(args) or 0
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return exc.exit_code
    except YuqingError as exc:  # a refused request, an unreachable backend ...: the message says why
        print(f"yuqing: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into head: not an error of ours
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())

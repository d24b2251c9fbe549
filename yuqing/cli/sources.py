"""``yuqing sources validate|list|test``: check the crawl sources, see their health, try one out.

Thin: the work is in ``crawlers.sources`` (loading, validation), ``crawlers.state`` (health) and
``crawlers.poll`` (one round of one source).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

from crawlers.base import FetchError
from crawlers.fetch import Fetcher
from crawlers.poll import PollSource
from crawlers.politeness import Politeness
from crawlers.rsshub import instance_of
from crawlers.sources import load_sources
from crawlers.state import StateStore, health
from pipeline.errors import ConfigError, UsageError
from pipeline.records import beijing_minute
from yuqing.cli.common import crawl_options, settings_from

DEFAULT_PATHS = ("sources.yaml", "sources")
#: Times are shown as the commission's staff read them, whatever the server's zone.


def default_sources_path(given: str | None) -> Path:
    """``given``, else ./sources.yaml, else ./sources/; ConfigError when there is none."""
    if given:
        return Path(given)
    for candidate in DEFAULT_PATHS:
        if Path(candidate).exists():
            return Path(candidate)
    raise ConfigError("no sources.yaml or sources/ folder here; give a PATH (copy "
                      "crawlers/sources.example.yaml to start)")


def found_sources_path(given: str | None = None) -> Path | None:
    """:func:`default_sources_path`, or None when there is none (for commands that run without)."""
    try:
        return default_sources_path(given)
    except ConfigError:
        return None


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    validate = actions.add_parser(
        "validate", help="check sources YAML; prints FILE:LINE:COL problems, exit code 2 if any")
    validate.add_argument("path", nargs="?", metavar="PATH",
                          help="a sources YAML file or a folder of them (default: ./sources.yaml)")
    validate.add_argument("--sources", metavar="PATH", help="the same as PATH, as crawl takes it")
    validate.set_defaults(run=run_validate)

    listing = actions.add_parser(
        "list", help="every source with its health, last fetch, errors and pages waiting for a retry")
    listing.add_argument("path", nargs="?", metavar="PATH", help="sources file or folder")
    listing.add_argument("--sources", metavar="PATH", help="the same as PATH, as crawl takes it")
    listing.add_argument("--json", action="store_true", help="one JSON object per source")
    listing.set_defaults(run=run_list)

    test = actions.add_parser(
        "test", help="fetch one source once and print what it would publish (publishes nothing)",
        description="Fetch the source once, as the crawler would, and print the articles it would "
        "publish: title, date, URL and the start of the text. Nothing is published and nothing "
        "is marked seen. Use it before setting 'enabled: true' on a new source.")
    test.add_argument("id", help="the source's id")
    test.add_argument("--sources", metavar="PATH", help="sources file or folder")
    test.add_argument("--chars", type=int, default=60, help="characters of text to show (60)")
    crawl_options(test)
    test.set_defaults(run=run_test)


def _path(args: argparse.Namespace) -> str | None:
    """PATH or --sources (not both: which one was meant?)."""
    if args.path and args.sources and args.path != args.sources:
        raise UsageError(f"two sources given ({args.path} and --sources {args.sources}); give one")
    return args.path or args.sources


def run_validate(args: argparse.Namespace) -> int:
    loaded = load_sources(default_sources_path(_path(args)))  # ConfigError -> exit code 2
    print(f"{', '.join(map(str, loaded.files))}: {loaded.summary()}")
    hubs: dict[str, int] = {}
    for source in loaded.sources:
        if source.type == "rsshub" and source.url and source.route:
            instance = instance_of(source.url, source.route)  # never the access key
            hubs[instance] = hubs.get(instance, 0) + 1
    for instance, count in hubs.items():
        print(f"  {count} RSSHub route{'s' if count != 1 else ''} through {instance}")
    return 0


def _when(moment: datetime | None) -> str:
    return beijing_minute(moment)


def run_list(args: argparse.Namespace) -> int:
    loaded = load_sources(default_sources_path(_path(args)))
    settings = settings_from(args)
    store = StateStore(settings.paths.data_dir / "crawl_state.sqlite3")
    try:
        states = store.states()
        waiting: dict[str, list[int]] = {}  # source -> [waiting for a retry, given up]
        for kept in store.pending():
            waiting.setdefault(kept.source_id, [0, 0])[kept.gave_up_at is not None] += 1
    finally:
        store.close()
    now = datetime.now(timezone.utc)
    rows = []
    for source in loaded.sources:
        state = states.get(source.id)
        rows.append({
            "id": source.id, "type": source.type, "enabled": source.enabled,
            "health": health(state, source.quiet_after, now) if source.enabled else "disabled",
            "last_fetch": state.last_fetch_at.isoformat() if state and state.last_fetch_at else None,
            "last_new": state.last_new_at.isoformat() if state and state.last_new_at else None,
            "status": state.last_status if state else None,
            "errors": state.error_count if state else 0,
            "last_error": state.last_error if state else None,
            "pages_waiting": waiting.get(source.id, [0, 0])[0],
            "pages_given_up": waiting.get(source.id, [0, 0])[1],
            "name": source.name,
        })
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    print(f"{'ID':<24} {'TYPE':<8} {'HEALTH':<13} {'LAST FETCH':<17} {'STATUS':<13} ERR  NAME")
    for row, source in zip(rows, loaded.sources):
        state = states.get(source.id)
        print(f"{row['id']:<24} {row['type']:<8} {row['health']:<13} "
              f"{_when(state.last_fetch_at if state else None):<17} {row['status'] or '-':<13} "
              f"{row['errors']:>3}  {row['name']}")
        if row["last_error"] and row["errors"]:
            print(f"{'':<24} └ {row['last_error']}")
        if row["pages_waiting"] or row["pages_given_up"]:
            print(f"{'':<24} └ article pages: {row['pages_waiting']} waiting for a retry, "
                  f"{row['pages_given_up']} given up")
    return 0


def run_test(args: argparse.Namespace) -> int:
    loaded = load_sources(default_sources_path(args.sources))
    try:
        source = loaded.get(args.id)
    except KeyError as exc:
        raise ConfigError(str(exc.args[0])) from None
    crawl = settings_from(args).crawl
    # no snapshots, no state: a dry run leaves no trace
    with Fetcher(politeness=Politeness(crawl.host_delay_s), threads=crawl.workers,
                 default_rate_per_minute=crawl.rate_limit_per_minute) as fetcher:
        try:
            result = PollSource(fetcher, state=None).run(source)
        except FetchError as exc:
            print(f"{source.id}: failed: {exc}")
            return 1
    for c in result.candidates:
        a = c.article
        when = beijing_minute(a.published) if a.published else "(no date)"
        text = " ".join(a.content.split())[: args.chars]
        print(f"{when}  {a.title}\n    {a.url}\n    {text}")
    for warning in result.warnings:
        print(f"warning: {warning}")
    print(f"{source.id}: {len(result.candidates)} articles would be published "
          f"({len(result.warnings)} warnings); nothing was published")
    return 0 if result.candidates and not result.warnings else 1

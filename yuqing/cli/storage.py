"""``yuqing storage``: what each store holds and for how long; ``yuqing storage prune`` gives back
the space of what is past its retention.

    yuqing storage                 every store: where, its size on disk, what it holds, its retention
    yuqing storage prune           snapshots and their fetch log past crawl.snapshot_months, the
                                   embedded bus past bus.retention_days; then the SQLite files are
                                   compacted (VACUUM) so the space goes back to the disk
    yuqing storage prune --dry-run only count

The search index has its own retention (``yuqing index prune --keep-months 24``): it drops whole
months and is the analysts' record, so it is never pruned as a side effect here. Kafka applies
``bus.retention_days`` itself (retention.ms on the topics, set at start).
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from crawlers.snapshots import SnapshotStore
from crawlers.state import StateStore
from pipeline.backends import open_index, sqlite_path
from pipeline.bus.local import LocalBus
from pipeline.config import Settings
from pipeline.index import Query
from yuqing.cli.common import settings_from
from yuqing.cli.index import cutoff


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.split("\n\n")[0].replace("``", "'")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    prune = actions.add_parser("prune", help="drop what is past its retention and give the space back")
    prune.add_argument("--dry-run", action="store_true", help="only count what would go")
    prune.set_defaults(run=run_prune)
    parser.set_defaults(run=run_show)


def size(path: Path) -> int:
    """Bytes on disk under ``path`` (a file, with SQLite's -wal and -shm, or a folder)."""
    if not path.exists():
        return 0
    if path.is_file():
        return sum(p.stat().st_blocks * 512 for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
                   if p.exists())
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())


def human(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def _day(ms_or_dt) -> str:
    if ms_or_dt is None:
        return "-"
    when = ms_or_dt if isinstance(ms_or_dt, datetime) else \
        datetime.fromtimestamp(ms_or_dt / 1000, timezone.utc)
    return f"{when:%Y-%m-%d}"


def _local(url: str) -> Path | None:
    return Path(sqlite_path(url)) if urlsplit(url).scheme == "sqlite" else None


def rows(settings: Settings) -> list[tuple[str, str, str, str, str]]:
    """``(store, where, size, holds, kept)`` for every store."""
    data = settings.paths.data_dir
    out = []
    bus_file = _local(settings.bus.url)
    kept_bus = f"{settings.bus.retention_days:g} days"
    if bus_file is not None:
        holds = "empty"
        if bus_file.exists():
            bus = LocalBus(bus_file, settings.bus.partitions, settings.bus.topic_prefix)
            try:
                holds = "; ".join(f"{topic} {n} (oldest {_day(oldest)})"
                                  for topic, (n, oldest) in sorted(bus.usage().items())) or "empty"
            finally:
                bus.close()
        out.append(("bus", str(bus_file), human(size(bus_file)), holds, kept_bus))
    else:
        out.append(("bus", settings.bus.url, "(on Kafka)", "-", f"{kept_bus} (retention.ms)"))
    index_file = _local(settings.index.url)
    index = open_index(settings)
    try:
        total = index.search(Query(limit=0)).total
    finally:
        index.close()
    out.append(("index", str(index_file or settings.index.url),
                human(size(index_file)) if index_file else "(on Elasticsearch)", f"{total} articles",
                "yuqing index prune --keep-months N"))
    store_file = _local(settings.store.url)
    out.append(("alert store", str(store_file or settings.store.url),
                human(size(store_file)) if store_file else "(on PostgreSQL)",
                "alerts, workflow, audit log", "kept (the record)"))
    state_file = data / "crawl_state.sqlite3"
    holds = "empty"
    if state_file.exists():
        state = StateStore(state_file)
        try:
            c = state.counts()
        finally:
            state.close()
        holds = (f"{c['source_state']} sources, {c['seen']} entries seen, {c['fetch_log']} fetches "
                 f"logged, {c['pending']} pages pending, {c['robots']} robots.txt")
    months = settings.crawl.snapshot_months
    out.append(("crawl state", str(state_file), human(size(state_file)), holds,
                f"fetch log {months} months"))
    usage = SnapshotStore(data / "snapshots").usage()
    out.append(("snapshots", str(data / "snapshots"), human(usage.disk_bytes),
                f"{usage.files} pages (oldest {_day(usage.oldest)})",
                f"{months} months after last fetch"))
    briefings = data / "briefings"
    count = sum(1 for p in briefings.glob("*.pdf")) if briefings.exists() else 0
    out.append(("briefings", str(briefings), human(size(briefings)), f"{count} PDFs", "kept"))
    return out


def run_show(args: argparse.Namespace) -> int:
    table = rows(settings_from(args))
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    for store, where, disk, holds, kept in table:
        print(f"{store:<{widths[0]}}  {disk:>{widths[2]}}  {where}\n"
              f"{'':<{widths[0]}}  {'':>{widths[2]}}  holds {holds}; kept: {kept}")
    return 0


def run_prune(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    data = settings.paths.data_dir
    now = datetime.now(timezone.utc)
    before = cutoff(now, settings.crawl.snapshot_months)
    verb = "would drop" if args.dry_run else "dropped"
    went = SnapshotStore(data / "snapshots").prune(before, dry_run=args.dry_run)
    print(f"snapshots: {verb} {went.files} pages last fetched before {before:%Y-%m-%d} "
          f"({human(went.disk_bytes)})")
    state_file = data / "crawl_state.sqlite3"
    if state_file.exists():
        state = StateStore(state_file)
        try:
            print(f"crawl state: {verb} {state.prune_fetch_log(before, args.dry_run)} fetch log "
                  f"rows from before {before:%Y-%m-%d}")
            if not args.dry_run:
                state.vacuum()
        finally:
            state.close()
    bus_file = _local(settings.bus.url)
    if bus_file is not None and bus_file.exists():
        bus = LocalBus(bus_file, settings.bus.partitions, settings.bus.topic_prefix)
        try:
            older = int(now.timestamp() * 1000 - settings.bus.retention_days * 86_400_000)
            if args.dry_run:
                print(f"bus: records older than {settings.bus.retention_days:g} days are dropped "
                      "as the bus writes; prune drops them now")
            else:
                print(f"bus: dropped {bus.prune(older)} records older than "
                      f"{settings.bus.retention_days:g} days")
                bus.vacuum()
        finally:
            bus.close()
    print("the search index keeps its own months: yuqing index prune --keep-months N")
    return 0

"""``yuqing console``: serve the web console (uvicorn) on the alert store of the settings.

Refuses to start while no account exists (exit 2, saying to run ``yuqing users add admin --role
admin`` first): there is no default password. ``--demo`` is the exception, and only on the data
``yuqing demo`` wrote: it creates (or resets) demo accounts with random passwords, prints them
with the address, serves the demo web again on loopback so that the operators' test fetch works,
and keeps the deadlines ticking. ``yuqing demo`` itself never starts the console (``make demo``
runs both, one after the other).

Proxy headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are believed only from the addresses
given with ``--trusted-proxies`` (the unit's HTTPS reverse proxy); without it they are ignored,
whoever sends them, so a client cannot choose the address the login limit counts and the audit
log records, nor claim https.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import secrets
import threading
import time
from datetime import datetime
from pathlib import Path

import uvicorn

from alerting.accounts import add_user, count_users, list_users, set_password
from alerting.store import Store
from alerting.timekeeper import Ticker
from crawlers.testing import FixtureServer
from pipeline.backends import open_index
from pipeline.errors import ConfigError
from yuqing.app import Application, open_service
from yuqing.cli.common import settings_from
from yuqing.demo.site import sources_yaml
from yuqing.web import ConsoleOptions, create_app

log = logging.getLogger(__name__)

#: name, office, role, what the account is for (the demo's accounts)
DEMO_USERS = (
    ("xuanchuan", "宣传部", "staff", "宣传部（协调小组办公室）：预警队列、研判、预警、会商、上报"),
    ("xinfang", "信访室", "staff", "信访室：本室的预警与核实任务"),
    ("zuzhang", "", "leader", "组长：总览、审定处置意见"),
    ("fenxi", "宣传部", "analyst", "分析人员：检索、事件、趋势"),
    ("yunwei", "", "operator", "运维人员：采集源"),
)


class LazyScorer:
    """The pipeline's classifier for the 报送 form, loaded on the first item handed in (the model
    takes a few seconds to load, and most console sessions hand nothing in)."""

    def __init__(self, settings):
        self.settings = settings
        self.scorer = None
        self.lock = threading.Lock()

    def __call__(self, article):
        with self.lock:
            if self.scorer is None:
                self.scorer = Application(self.settings).scorer
        return self.scorer.score(article)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Serve the web console. Accounts come from `yuqing users add`; "
                          "with --demo (on the data of `yuqing demo` only) demo accounts are made.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    parser.add_argument("--sources", metavar="PATH", help="sources.yaml or folder for the operators' page "
                        "(default: ./sources.yaml or ./sources/ if present)")
    parser.add_argument("--kibana-url", metavar="URL", help="Kibana's address, linked from the analysts' pages")
    parser.add_argument("--tick", type=float, default=None, metavar="SECONDS",
                        help="also fire reminders and escalations every SECONDS (when no `yuqing run` does)")
    parser.add_argument("--demo", action="store_true",
                        help="on the demo's data: make demo accounts with printed passwords, then serve")
    parser.add_argument("--trusted-proxies", metavar="ADDRESSES", type=trusted_proxies, default=[],
                        help="comma-separated addresses or networks of the reverse proxies whose "
                        "X-Forwarded-For/-Proto headers are believed (default: none, the headers "
                        "are ignored); e.g. 127.0.0.1 when nginx on this machine forwards")
    parser.set_defaults(run=run)


def trusted_proxies(text: str) -> list[str]:
    """``"10.0.0.5, 127.0.0.1"`` -> the addresses/networks; argparse's error for anything else
    (``*`` too: trusting every client's headers is what the option exists to prevent)."""
    found = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{item!r} is not an address or network (e.g. 127.0.0.1, 10.0.0.0/24); list the "
                "proxies themselves, never '*'") from None
    return found


def _sources_path(args, data_dir: Path) -> Path | None:
    if args.sources:
        return Path(args.sources)
    for candidate in (Path("sources.yaml"), Path("sources")):
        if candidate.exists():
            return candidate
    return None


def demo_accounts(store: Store, offices, now: datetime) -> list[tuple[str, str, str, str, str]]:
    """Create or reset the demo accounts; returns (name, password, office, role, purpose)."""
    existing = {u.name for u in list_users(store)}
    made = []
    for name, office, role, purpose in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        if name in existing:
            set_password(store, name, password, now, "yuqing console --demo")
        else:
            add_user(store, name, role, office, password, offices, now, "yuqing console --demo")
        made.append((name, password, office, role, purpose))
    return made


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    data_dir = settings.paths.data_dir
    demo_web = data_dir / "demo-web"
    if args.demo and not (demo_web / "site").is_dir():
        raise ConfigError(f"--demo serves the data of `yuqing demo`, and {data_dir} has none; run "
                          f"`yuqing demo` first (or leave out --demo and create accounts with yuqing users add)")
    service = open_service(settings)
    accounts = []
    if args.demo:
        accounts = demo_accounts(service.store, service.config.offices, service.clock.now())
    elif count_users(service.store) == 0:
        service.store.close()
        raise ConfigError("no console accounts yet, and there is no default password: create the first with\n"
                          f"  yuqing users add admin --role admin\n"
                          f"then the offices' accounts, e.g. yuqing users add zhang --office {service.config.coordinating_office} --role staff")

    stop = threading.Event()
    demo_server = None
    sources = _sources_path(args, data_dir)
    crawl_state = data_dir / "crawl_state.sqlite3"
    if args.demo:
        demo_server, sources = _serve_demo_web(demo_web)
        crawl_state = data_dir / "demo-crawl-state.sqlite3"
    tick = args.tick if args.tick is not None else (5.0 if args.demo else None)
    if tick:
        threading.Thread(target=Ticker(service, tick).run, args=(stop,), daemon=True, name="ticker").start()

    options = ConsoleOptions(sources=sources, crawl_state=crawl_state, briefings=data_dir / "briefings",
                             special_reports=data_dir / "special-reports",
                             kibana_url=args.kibana_url, open_index=lambda: open_index(settings),
                             score=LazyScorer(settings))
    app = create_app(service, options)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning",
                            timeout_graceful_shutdown=3, proxy_headers=bool(args.trusted_proxies),
                            forwarded_allow_ips=args.trusted_proxies)
    server = uvicorn.Server(config)
    announce = threading.Thread(target=_announce, args=(server, args.host, accounts), daemon=True)
    announce.start()
    try:
        server.run()
    finally:
        stop.set()
        if demo_server is not None:
            demo_server.stop()
        service.store.close()
    return 0


def _serve_demo_web(demo_web: Path) -> tuple[FixtureServer, Path]:
    """The demo web again, on a new port; its sources.yaml is rewritten to point there."""
    server = FixtureServer(demo_web / "site")
    server.start()
    sources = demo_web / "sources.yaml"
    sources.write_text(sources_yaml(server.url("").rstrip("/")), encoding="utf-8")
    return server, sources


def _announce(server, host: str, accounts) -> None:
    """Print the address once uvicorn listens (the port may have been picked by the system)."""
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1] if server.servers else "?"
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    lines = [f"\nyuqing console: http://{shown}:{port}/   (Ctrl-C stops it)"]
    if accounts:
        lines.append("demo accounts (passwords are new each time `yuqing console --demo` starts):")
        for name, password, office, role, purpose in accounts:
            lines.append(f"  {name:<10} {password:<14} {purpose}")
        lines.append("log in with one of them; 宣传部 (xuanchuan) sees the whole queue.")
    else:
        lines.append("log in with an account made by `yuqing users add`.")
    print("\n".join(lines), flush=True)

"""What every request of the console needs: the :class:`Console` (the service, sessions, the
change feed, the options, the templates), who is logged in, and which role may open which page.

Pages (:mod:`yuqing.web.pages`) and the API (:mod:`yuqing.web.api`) both build on this module;
:mod:`yuqing.web.app` puts them together.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.templating import Jinja2Templates

from alerting.accounts import ROLE_LABELS, Account
from alerting.errors import Forbidden, LoginRequired, NotFound
from alerting.service import AlertService
from pipeline.index import Index
from pipeline.records import Article, ScoredArticle
from yuqing.web import views
from yuqing.web.auth import SESSION_COOKIE, Auth, Login
from yuqing.web.events import ChangeFeed

__all__ = ["Console", "ConsoleOptions", "PAGES", "STATIC", "ECHARTS", "console_of", "login_of",
           "require_login", "require_page", "client_ip", "set_session_cookie", "templates", "safe_href",
           "cookie_secure"]

HERE = Path(__file__).parent
STATIC = HERE / "static"
ECHARTS = STATIC / "vendor" / "echarts.min.js"

#: page: (title, roles allowed; "coordinating" = staff of the coordinating office)
PAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "overview": ("总览", ("leader", "admin")),
    "queue": ("预警队列", ("staff", "leader", "admin", "analyst")),
    "tasks": ("任务", ("staff", "leader", "admin")),
    "intake": ("报送", ("staff", "leader", "admin")),
    "search": ("检索", ("analyst", "leader", "admin", "coordinating")),
    "trends": ("趋势", ("analyst", "leader", "admin", "coordinating")),
    "briefings": ("通报", ("analyst", "leader", "admin", "coordinating")),
    "accountability": ("迟报漏报", ("leader", "admin")),
    "sources": ("采集源", ("operator", "admin")),
}
@dataclass
class ConsoleOptions:
    """What the console serves besides the alert queue (all optional)."""

    #: sources.yaml (or a folder of them) for the operators' page
    sources: Path | None = None
    #: the crawler's state file (health, last fetch)
    crawl_state: Path | None = None
    #: where ``yuqing report`` writes briefings (DATA_DIR/briefings)
    briefings: Path | None = None
    #: where 舆情专报 are written and served from (DATA_DIR/special-reports; yuqing.web.special)
    special_reports: Path | None = None
    #: Kibana, for analysts' deeper work (a link only)
    kibana_url: str | None = None
    #: seconds between two looks at the database for the live queue
    poll_interval: float = 1.5
    #: opens the search index (``pipeline.backends.open_index``); None: no search or trends
    open_index: Callable[[], Index] | None = None
    #: the classifier the pipeline uses, for items the offices hand in; None: no 报送 form
    score: Callable[[Article], ScoredArticle] | None = None


@dataclass
class Console:
    """Everything a request needs: the service, sessions, the change feed, the options."""

    service: AlertService
    auth: Auth
    feed: ChangeFeed
    options: ConsoleOptions
    templates: Jinja2Templates
    _index: Index | None = None
    _index_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def config(self):
        return self.service.config

    def index(self):
        """The search index, opened at first use and kept (both backends are thread-safe)."""
        if self.options.open_index is None:
            raise NotFound("this console has no search index configured")
        with self._index_lock:
            if self._index is None:
                self._index = self.options.open_index()
            return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    def can(self, account: Account, page: str) -> bool:
        roles = PAGES[page][1]
        if account.role in roles:
            return True
        return "coordinating" in roles and account.role == "staff" and \
            account.office == self.config.coordinating_office

    def nav(self, account: Account) -> list[tuple[str, str]]:
        return [(name, title) for name, (title, _) in PAGES.items() if self.can(account, name)]

    def home(self, account: Account) -> str:
        for page in ("overview", "queue", "search", "sources"):
            if self.can(account, page):
                return "/" + page
        return "/briefings"


def console_of(request: Request) -> Console:
    return request.app.state.console


def login_of(request: Request) -> Login | None:
    if not hasattr(request.state, "login"):
        request.state.login = console_of(request).auth.session(request.cookies.get(SESSION_COOKIE))
    return request.state.login


def require_login(request: Request) -> Login:
    login = login_of(request)
    if login is None:
        raise LoginRequired("not logged in")
    return login


def require_page(page: str):
    """A dependency: the logged-in user, who must be allowed on ``page`` (else 403)."""
    def dependency(request: Request) -> Login:
        login = require_login(request)
        if not console_of(request).can(login.account, page):
            raise Forbidden(f"{login.account.name}（{ROLE_LABELS.get(login.account.role)}）无权访问“{PAGES[page][0]}”")
        return login
    return dependency


def client_ip(request: Request) -> str:
    return (request.client.host if request.client else "") or "-"


def cookie_secure(request: Request) -> bool:
    """Whether cookies set in answer to ``request`` carry ``Secure``: every one of them does over
    https (the scheme a trusted proxy forwarded counts, ``yuqing console --trusted-proxies``)."""
    return request.url.scheme == "https"


def set_session_cookie(request: Request, response, token: str) -> None:
    """HttpOnly (no script reads it), SameSite=Lax (no cross-site POST carries it), Secure over https."""
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=cookie_secure(request), path="/")


def safe_href(url: str | None) -> str:
    """``url`` when it is an http(s) link, else ``#``: an address from crawled content (or from
    an old or tampered record) is never rendered as a ``javascript:`` or ``data:`` link; Jinja
    escapes it for the attribute."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return "#"
    if parts.scheme.lower() in ("http", "https") and parts.hostname and \
            not any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return url
    return "#"


def _bjiso(text: str | None) -> str:
    """An ISO time from the views, as Beijing month-day hour:minute."""
    return views.bj(datetime.fromisoformat(text)) if text else "—"


def templates() -> Jinja2Templates:
    """The Jinja2 templates with the filters and names the pages use."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.filters.update(bj=views.bj, iso=views.iso, bjiso=_bjiso, safe_href=safe_href)
    env.globals.update(LEVEL_NAMES=views.LEVEL_NAMES, STATE_LABELS=views.STATE_LABELS, ROLE_LABELS=ROLE_LABELS)
    return templates

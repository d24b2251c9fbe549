"""The console application: :func:`create_app` builds the FastAPI app around one AlertService.

    create_app(service, options) ─▶ FastAPI
        /login /logout            auth.Auth (sessions in the alert DB, CSRF, rate limit)
        /, /queue, /alerts/..     pages.py   (Jinja2 templates, a little vanilla JS)
        /api/...                  api.py     (JSON; OpenAPI at /api/openapi.json)
        /api/events               events.py  (Server-Sent Events: the queue changed)
        /static/...               console.css, console.js, vendor/echarts.min.js (served here, never a CDN)

Who may open which page is decided here by role (:data:`PAGES`); what a user may see and do to
an alert is decided by the service, with the user's Actor. The service's errors become HTTP
statuses: NotFound 404, Forbidden 403, IllegalTransition 409, UnknownOffice 422.
Every response carries a Content-Security-Policy that allows scripts, styles and images from
the console itself only.
"""

from __future__ import annotations

import json
import logging
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from alerting.errors import AlertingError, Forbidden, IllegalTransition, NotFound, UnknownOffice
from alerting.web import views
from alerting.web.auth import Auth, CsrfError, Login, LoginFailed, LoginThrottled, SESSION_COOKIE
from alerting.web.events import ChangeFeed
from alerting.web.users import ROLE_LABELS, Account

__all__ = ["create_app", "ConsoleOptions", "Console", "NotLoggedIn", "PAGES", "STATIC", "ECHARTS"]

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
STATIC = HERE / "static"
ECHARTS = STATIC / "vendor" / "echarts.min.js"

#: page: (title, roles allowed; "coordinating" = staff of the coordinating office)
PAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "overview": ("总览", ("leader", "admin")),
    "queue": ("预警队列", ("staff", "leader", "admin", "analyst")),
    "tasks": ("任务", ("staff", "leader", "admin")),
    "search": ("检索", ("analyst", "leader", "admin", "coordinating")),
    "trends": ("趋势", ("analyst", "leader", "admin", "coordinating")),
    "briefings": ("通报", ("analyst", "leader", "admin", "coordinating")),
    "sources": ("采集源", ("operator", "admin")),
}
STATUS = {NotFound: 404, Forbidden: 403, IllegalTransition: 409, UnknownOffice: 422, CsrfError: 403,
          LoginFailed: 401, LoginThrottled: 429}


class NotLoggedIn(Exception):
    """No live session: pages redirect to the login form, the API answers 401."""


@dataclass
class ConsoleOptions:
    """What the console serves besides the alert queue (all optional)."""

    #: sources.yaml (or a folder of them) for the operators' page
    sources: Path | None = None
    #: the crawler's state file (health, last fetch)
    crawl_state: Path | None = None
    #: where ``yuqing report`` writes briefings (DATA_DIR/briefings)
    briefings: Path | None = None
    #: Kibana, for analysts' deeper work (a link only)
    kibana_url: str | None = None
    #: seconds between two looks at the database for the live queue
    poll_interval: float = 1.5
    #: opens the search index (``pipeline.backends.open_index``); None: no search or trends
    open_index: Callable[[], object] | None = None


@dataclass
class Console:
    """Everything a request needs: the service, sessions, the change feed, the options."""

    service: object
    auth: Auth
    feed: ChangeFeed
    options: ConsoleOptions
    templates: Jinja2Templates
    _index: object | None = None
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
        raise NotLoggedIn()
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


def _bjiso(text: str | None) -> str:
    """An ISO time from the views, as Beijing month-day hour:minute."""
    from datetime import datetime

    return views.bj(datetime.fromisoformat(text)) if text else "—"


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.filters.update(bj=views.bj, iso=views.iso, bjiso=_bjiso)
    env.globals.update(LEVEL_NAMES=views.LEVEL_NAMES, STATE_LABELS=views.STATE_LABELS, ROLE_LABELS=ROLE_LABELS)
    return templates


_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def create_app(service, options: ConsoleOptions | None = None, auth: Auth | None = None) -> FastAPI:
    """The console for ``service`` (whose store also keeps the accounts and sessions)."""
    from alerting.web import api, pages

    options = options or ConsoleOptions()
    feed = ChangeFeed(service.store, service.clock, options.poll_interval)
    console = Console(service, auth or Auth(service.store, service.clock), feed, options, _templates())

    @asynccontextmanager
    async def lifespan(app):
        if not ECHARTS.exists():
            log.warning("console_no_echarts: %s is missing; charts will be empty. Run alerting/web/fetch-assets "
                        "(make install does)", ECHARTS)
        yield
        await feed.stop()
        console.close()

    app = FastAPI(title="yuqing 舆情 console API", version="1", lifespan=lifespan,
                  openapi_url="/api/openapi.json", docs_url=None, redoc_url=None,
                  description="The alert queue and the response workflow (研判预警, 会商, 上报), tasks, "
                  "search, trends, sources and briefings. Log in with POST /api/login (JSON), then send "
                  "the session cookie and, on every POST, the header X-CSRF-Token with the token the "
                  "login returned. Errors: 401 not logged in, 403 not allowed, 404 no such item (or "
                  "not yours), 409 not in this state, 422 bad input, 429 too many failed logins.")
    app.state.console = console
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    def is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, exc: NotLoggedIn):
        if is_api(request):
            return JSONResponse({"detail": "not logged in: POST /api/login first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)

    @app.exception_handler(AlertingError)
    async def refused(request: Request, exc: AlertingError):
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        headers = {}
        if isinstance(exc, LoginThrottled):
            headers["Retry-After"] = str(max(1, int((exc.retry_after - service.clock.now()).total_seconds())))
        if is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)
        return pages.error_page(request, status, str(exc))

    @app.exception_handler(ValidationError)
    async def invalid(request: Request, exc: ValidationError):
        # via JSON: the errors' context may hold exceptions, which JSONResponse cannot encode
        return JSONResponse({"detail": json.loads(exc.json(include_url=False))}, status_code=422)

    return app


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")

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
the console itself only. Every request body is capped before it is read (:mod:`yuqing.web.limits`).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError

from alerting.errors import AlertingError, Forbidden, IllegalTransition, LoginRequired, NotFound, UnknownOffice
from alerting.service import AlertService
from yuqing.web import api, pages
from yuqing.web.auth import Auth, CsrfError, LoginFailed, LoginThrottled
from yuqing.web.console import ECHARTS, STATIC, Console, ConsoleOptions, templates
from yuqing.web.events import ChangeFeed
from yuqing.web.inputs import BadInput
from yuqing.web.limits import BodyLimit, BodyTooLarge

__all__ = ["create_app"]

log = logging.getLogger(__name__)

STATUS = {NotFound: 404, Forbidden: 403, IllegalTransition: 409, UnknownOffice: 422, CsrfError: 403,
          LoginFailed: 401, LoginThrottled: 429}


def _problems(errors) -> list[dict]:
    """Where and what is wrong, without the input: it may be what JSON cannot encode (NaN, an
    exception in the context), and it is the client's own anyway."""
    return [{"loc": list(error.get("loc", ())), "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))}
            for error in errors]


_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def create_app(service: AlertService, options: ConsoleOptions | None = None, auth: Auth | None = None) -> FastAPI:
    """The console for ``service`` (whose store also keeps the accounts and sessions)."""
    options = options or ConsoleOptions()
    feed = ChangeFeed(service.store, service.clock, options.poll_interval)
    console = Console(service, auth or Auth(service.store, service.clock), feed, options, templates())

    @asynccontextmanager
    async def lifespan(app):
        if not ECHARTS.exists():
            log.warning("console_no_echarts: %s is missing; charts will be empty. Run yuqing/web/fetch-assets "
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

    def too_large(request: Request, exc: BodyTooLarge):
        if is_api(request):
            return JSONResponse({"detail": exc.detail}, status_code=413)
        return pages.error_page(request, 413, exc.message)

    # added before security_headers, so that its answers carry the headers too
    app.add_middleware(BodyLimit, refuse=too_large)

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

    @app.exception_handler(LoginRequired)
    async def not_logged_in(request: Request, exc: LoginRequired):
        if is_api(request):
            return JSONResponse({"detail": "not logged in: POST /api/login first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)

    @app.exception_handler(AlertingError)
    async def refused(request: Request, exc: AlertingError):
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        headers = {}
        if isinstance(exc, LoginThrottled):
            headers["Retry-After"] = str(max(1, int((exc.retry_after - service.clock.now()).total_seconds())))
        if is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)
        return pages.error_page(request, status, str(exc))

    @app.exception_handler(BodyTooLarge)
    async def body_too_large(request: Request, exc: BodyTooLarge):
        return too_large(request, exc)

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, exc: BadInput):
        if is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=422)
        return pages.error_page(request, 422, str(exc))

    @app.exception_handler(ValidationError)
    async def invalid(request: Request, exc: ValidationError):
        return JSONResponse({"detail": _problems(exc.errors(include_url=False))}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": _problems(exc.errors())}, status_code=422)

    return app

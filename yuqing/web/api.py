"""The JSON API under ``/api/``, for the pages' scripts and for other systems.

Log in with ``POST /api/login`` (a JSON body; the answer carries the CSRF token and sets the
session cookie), then send the cookie, and on every POST the header ``X-CSRF-Token``. Every
alert read and action goes through the alert service with the user's Actor (visibility, rights,
transitions and the audit log are the service's), exactly as the pages and ``yuqing alerts``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from starlette.concurrency import run_in_threadpool

from alerting.accounts import ACTING_ROLES, acting_actor, actor_for
from alerting.errors import Forbidden, NotFound
from yuqing.web import analysis, operations, views
from yuqing.web.actions import (
    ACTIONS, ActionResult, ApproveBriefingIn, CompleteIn, ReturnBriefingIn, ReviewResult, complete_task, perform,
    review_briefing,
)
from yuqing.web.auth import SESSION_COOKIE, Auth, Login
from yuqing.web.console import (
    client_ip, console_of, cookie_secure, require_login, require_page, set_session_cookie,
)
from yuqing.web.events import stream
from yuqing.web.inputs import RowId

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["console"])


class LoginIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=1000)


class Me(BaseModel):
    name: str
    office: str
    role: str
    csrf_token: str
    pages: list[str]


def _me(request: Request, login: Login) -> Me:
    console = console_of(request)
    return Me(name=login.account.name, office=login.account.office, role=login.account.role,
              csrf_token=login.csrf, pages=[name for name, _ in console.nav(login.account)])


def csrf_header(request: Request, login: Login = Depends(require_login)) -> Login:
    """Every API POST must carry the session's CSRF token in ``X-CSRF-Token``."""
    Auth.check_csrf(login, request.headers.get("x-csrf-token"))
    return login


@router.post("/login", response_model=Me, summary="log in; sets the session cookie")
def login(request: Request, body: LoginIn):
    # A JSON body only: a cross-site HTML form cannot send application/json without CORS,
    # which this API never grants, so no login CSRF token is needed here.
    if not request.headers.get("content-type", "").startswith("application/json"):
        return JSONResponse({"detail": "send the name and password as JSON"}, status_code=415)
    done = console_of(request).auth.login(body.name, body.password, client_ip(request))
    response = JSONResponse(_me(request, done).model_dump())
    set_session_cookie(request, response, done.token)
    return response


@router.post("/logout", summary="end the session")
def logout(request: Request, login: Login = Depends(csrf_header)):
    console_of(request).auth.logout(request.cookies.get(SESSION_COOKIE), client_ip(request))
    response = JSONResponse({"ok": True})
    response.delete_cookie(SESSION_COOKIE, path="/", secure=cookie_secure(request), httponly=True, samesite="lax")
    return response


@router.get("/me", response_model=Me, summary="who is logged in, the CSRF token, the pages they may open")
def me(request: Request, login: Login = Depends(require_login)):
    return _me(request, login)


@router.get("/alerts", summary="the alerts the user may see, most urgent first")
def alerts(request: Request, login: Login = Depends(require_login),
           state: list[str] | None = Query(default=None, description="new, judged, warned, ...; default: open ones"),
           office: str | None = None, min_level: int = Query(default=1, ge=1, le=3)) -> list[dict[str, Any]]:
    return views.queue(console_of(request).service, actor_for(login.account), states=state, office=office,
                       min_level=min_level)


@router.get("/alerts/{alert_id}", summary="one alert with articles, deadlines, tasks, reports, history")
def alert(request: Request, alert_id: str, login: Login = Depends(require_login)) -> dict[str, Any]:
    return views.alert_detail(console_of(request).service, actor_for(login.account), alert_id,
                              acts=login.account.role in ACTING_ROLES)


def _action_route(name: str):
    model = ACTIONS[name].model

    def run(request: Request, alert_id: str, body: model = Body(...),  # type: ignore[valid-type]
            login: Login = Depends(csrf_header)) -> ActionResult:
        return perform(console_of(request).service, acting_actor(login.account), alert_id, name, body)

    run.__name__ = f"alert_{name}"
    run.__annotations__["body"] = model  # a local class: the string annotation would not resolve
    router.add_api_route(f"/alerts/{{alert_id}}/{name}", run, methods=["POST"], response_model=ActionResult,
                         summary=f"{ACTIONS[name].label} ({name})", description=model.__doc__ or "")


for _name in ACTIONS:
    _action_route(_name)


@router.get("/deadlines", summary="deadlines not yet met of the alerts the user may see: missed ones "
            "(with how late) first, then the running ones, nearest first")
def deadlines(request: Request, login: Login = Depends(require_login)) -> list[dict[str, Any]]:
    service = console_of(request).service
    now = service.clock.now()
    return [{"deadline": views.deadline_dict(d, now, a.state), "alert": views.alert_row(a, now=now)}
            for d, a in service.open_deadlines(actor_for(login.account))]


@router.get("/tasks", summary="tasks of the user's office (all offices for the coordinating office)")
def tasks(request: Request, login: Login = Depends(require_login), open_only: bool = False) -> list[dict[str, Any]]:
    return views.tasks_for(console_of(request).service, actor_for(login.account), include_done=not open_only)


@router.post("/tasks/{task_id}/complete", response_model=ActionResult,
             summary="report a verification (核实反馈) or finish a consultation task")
def task_complete(request: Request, task_id: RowId, body: CompleteIn, login: Login = Depends(csrf_header)):
    return complete_task(console_of(request).service, acting_actor(login.account), task_id, body)


@router.get("/overview", summary="the coordinating group's overview, with the briefings waiting for approval")
def overview(request: Request, login: Login = Depends(require_page("overview"))) -> dict[str, Any]:
    console = console_of(request)
    return views.overview(console.service, actor_for(login.account), console.options.briefings)


@router.get("/search", summary="full-text search over the index (simplified and traditional alike)")
def search(request: Request, login: Login = Depends(require_page("search")), q: str = "",
           since: str = Query(default="", description="2026-11-20 (Beijing time)"), until: str = "",
           source: str = "", level: str = "", office: str = "",
           min_score: str = Query(default="", description="0..1, the larger of relevance and sensitivity"),
           sort: str = "relevance", page: int = Query(default=1, ge=1, le=500)) -> dict[str, Any]:
    form = analysis.SearchForm(q, since, until, source, level, office, min_score, sort, page)
    try:
        return analysis.search(console_of(request).index(), form)
    except ValueError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)


@router.get("/stories/{alert_id}", summary="a story: its articles, sources and spread over time")
def story(request: Request, alert_id: str, login: Login = Depends(require_login)) -> dict[str, Any]:
    console = console_of(request)
    index = console.index() if console.options.open_index else None
    return analysis.story(console.service, actor_for(login.account), alert_id, index)


@router.get("/trends", summary="articles by level over time, and rising terms")
def trends(request: Request, login: Login = Depends(require_page("trends")),
           days: int = Query(default=30, ge=1, le=90)) -> dict[str, Any]:
    console = console_of(request)
    return analysis.trends(console.index(), console.service.clock.now(), days)


@router.get("/sources", summary="crawl sources with health, last fetch, status and errors")
def sources(request: Request, login: Login = Depends(require_page("sources"))) -> dict[str, Any]:
    options = console_of(request).options
    rows, problems = operations.source_rows(options.sources, options.crawl_state,
                                            console_of(request).service.clock.now())
    return {"sources": rows, "problems": problems}


@router.post("/sources/{source_id}/test", summary="fetch a source once; nothing is published")
def source_test(request: Request, source_id: str, login: Login = Depends(csrf_header)) -> dict[str, Any]:
    console = console_of(request)
    if not console.can(login.account, "sources"):
        raise Forbidden("only operators may test sources")
    try:
        return operations.test_fetch(console.options.sources, source_id)
    except KeyError as exc:
        raise NotFound(str(exc.args[0])) from None


@router.get("/briefings", summary="briefings written by yuqing report (HTML and PDF), each with its review")
def briefings(request: Request, login: Login = Depends(require_page("briefings"))) -> list[dict[str, Any]]:
    """``review.state`` is pending (待审批), approved (已批准) or returned (已退回); ``by``, ``at``
    and ``note`` are of the last decision."""
    console = console_of(request)
    return views.briefing_rows(console.service, console.options.briefings)


@router.post("/briefings/{name}/approve", response_model=ReviewResult,
             summary="批准 a briefing (the coordinating group only)")
def briefing_approve(request: Request, name: str, body: ApproveBriefingIn | None = None,
                     login: Login = Depends(csrf_header)):
    console = console_of(request)
    return review_briefing(console.service, acting_actor(login.account), console.options.briefings, name,
                           "approve", body.note if body else "")


@router.post("/briefings/{name}/return", response_model=ReviewResult,
             summary="退回 a briefing for rework, with a note (the coordinating group only)")
def briefing_return(request: Request, name: str, body: ReturnBriefingIn, login: Login = Depends(csrf_header)):
    console = console_of(request)
    return review_briefing(console.service, acting_actor(login.account), console.options.briefings, name,
                           "return", body.note)


@router.get("/briefings/{name}", summary="one briefing file (.html or .pdf)", response_class=FileResponse)
def briefing(request: Request, name: str, login: Login = Depends(require_page("briefings"))):
    path = operations.briefing_file(console_of(request).options.briefings, name)
    if path is None:
        raise NotFound(f"no briefing {name!r}")
    if path.suffix == ".pdf":
        return FileResponse(path, media_type="application/pdf", filename=name)
    # the briefing is self-contained: nothing it contains may run or load anything
    return FileResponse(path, media_type="text/html; charset=utf-8", headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"})


@router.get("/events", summary="Server-Sent Events: 'queue' whenever alerts, deadlines or tasks change")
async def events(request: Request):
    # the session is checked once, at connection; the pages' follow-up fetches check it again
    await run_in_threadpool(require_login, request)
    return StreamingResponse(stream(console_of(request).feed, request), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

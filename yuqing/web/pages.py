"""The console's pages: server-rendered Jinja2 templates, in Chinese.

Forms POST with the session's CSRF token in a hidden ``csrf`` field and answer with a redirect
(303) back to the page, carrying a one-time message in the ``yuqing_flash`` cookie. Actions go
through :mod:`yuqing.web.actions` (the service, the audit log); a refused action comes back as
a message on the page (the service's own words), an alert the user may not see as a 404 page.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from alerting import accountability
from alerting.accounts import ACTING_ROLES, acting_actor, actor_for
from alerting.errors import AlertingError, IllegalTransition, NotFound
from alerting.handins import LEVEL_WORDS, item_article, level_of, petition_article, petition_proposal
from alerting.petitions import CHANNELS, PETITION_OFFICE
from alerting.reports import period
from alerting.routing import Proposal
from pipeline.records import SHANGHAI, beijing_time
from yuqing.web import analysis, operations, special, views
from yuqing.web.actions import (
    ACTIONS, REVIEW_WORDS, complete_task, first_problem, form_to_model, perform, review_briefing,
)
from yuqing.web.auth import LOGIN_COOKIE, SESSION_COOKIE, Auth, LoginFailed, LoginThrottled, new_token, same_token
from yuqing.web.console import (
    ECHARTS, client_ip, console_of, cookie_secure, login_of, require_login, require_page, set_session_cookie,
)
from yuqing.web.inputs import BAD_DATE, RowId, query_number

__all__ = ["router", "error_page", "render"]

router = APIRouter(include_in_schema=False)
FLASH = "yuqing_flash"


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    console = console_of(request)
    login = login_of(request)
    flash = None
    raw = request.cookies.get(FLASH)
    if raw:
        try:
            flash = json.loads(base64.urlsafe_b64decode(raw.encode()))
        except ValueError:
            flash = None
    context.update(request=request, login=login, account=login.account if login else None,
                   nav=console.nav(login.account) if login else [], unit=console.config.unit,
                   offices=console.config.offices, coordinating=console.config.coordinating_office,
                   directory=console.config.directory,
                   kibana_url=console.options.kibana_url, flash=flash, has_echarts=ECHARTS.exists(),
                   now=console.service.clock.now().isoformat(), page=context.get("page", ""))
    response = console.templates.TemplateResponse(request, template, context, status_code=status)
    if raw:
        response.delete_cookie(FLASH, path="/", secure=cookie_secure(request), httponly=True, samesite="lax")
    return response


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    titles = {401: "未登录", 403: "无权操作", 404: "未找到", 409: "当前状态不允许此操作", 413: "内容过大",
              422: "输入有误", 429: "请稍后再试"}
    return render(request, "error.html", status=status, title=titles.get(status, "出错了"), message=message)


def _back(request: Request, fallback: str, kind: str = "", text: str = "") -> RedirectResponse:
    """Redirect to the form's ``next`` (a path of this site only) with a one-time message."""
    target = fallback
    nxt = request.query_params.get("next") or ""
    if nxt.startswith("/") and not nxt.startswith("//") and not urlsplit(nxt).netloc:
        target = nxt
    response = RedirectResponse(target, status_code=303)
    if text:
        # base64: a cookie value is ASCII, the message is Chinese
        value = base64.urlsafe_b64encode(json.dumps({"kind": kind, "text": text[:600]}).encode()).decode()
        response.set_cookie(FLASH, value, httponly=True, samesite="lax", path="/", max_age=60,
                            secure=cookie_secure(request))
    return response


async def _posted(request: Request):
    """The logged-in user and the form of a POST whose CSRF token matches the session's."""
    login = await run_in_threadpool(require_login, request)
    form = await request.form()
    Auth.check_csrf(login, form.get("csrf"))
    return login, form


# ---- logging in -------------------------------------------------------------------------------

@router.get("/login")
def login_form(request: Request, next: str = "/", error: str = ""):
    token = new_token()
    response = render(request, "login.html", login_csrf=token, next=next, error=error, page="login")
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/login", max_age=3600,
                        secure=cookie_secure(request))
    return response


@router.post("/login")
async def login_submit(request: Request):
    form = await request.form()
    nxt = form.get("next") or "/"
    if not same_token(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
        return render(request, "login.html", status=403, login_csrf=request.cookies.get(LOGIN_COOKIE, ""),
                      next=nxt, error="登录页已过期，请重新输入", page="login")
    console = console_of(request)
    try:
        done = await run_in_threadpool(console.auth.login, str(form.get("name") or ""),
                                       str(form.get("password") or ""), client_ip(request))
    except (LoginFailed, LoginThrottled) as exc:
        status = 429 if isinstance(exc, LoginThrottled) else 401
        return render(request, "login.html", status=status, login_csrf=request.cookies.get(LOGIN_COOKIE, ""),
                      next=nxt, error=str(exc), name=form.get("name") or "", page="login")
    target = nxt if nxt.startswith("/") and not nxt.startswith("//") else "/"
    if target in ("/", "/login"):
        target = console.home(done.account)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, done.token)
    response.delete_cookie(LOGIN_COOKIE, path="/login", secure=cookie_secure(request), httponly=True,
                           samesite="strict")
    return response


@router.post("/logout")
async def logout(request: Request):
    login, _ = await _posted(request)
    await run_in_threadpool(console_of(request).auth.logout, request.cookies.get(SESSION_COOKIE), client_ip(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=cookie_secure(request), httponly=True, samesite="lax")
    return response


@router.get("/")
def home(request: Request, login=Depends(require_login)):
    return RedirectResponse(console_of(request).home(login.account), status_code=303)


# ---- the queue and one alert ------------------------------------------------------------------

def _queue_args(request: Request) -> dict:
    q = request.query_params
    states = None
    if q.get("all"):
        states = list(views.STATE_LABELS)
    level = query_number(q, "level", 1, 3, 1)
    return {"states": states, "office": q.get("office") or None, "min_level": level}


@router.get("/queue")
def queue(request: Request, login=Depends(require_page("queue"))):
    console = console_of(request)
    rows = views.queue(console.service, actor_for(login.account), **_queue_args(request))
    return render(request, "queue.html", rows=rows, page="queue", filters=request.query_params,
                  coordinator=views.coordinates(console.service, actor_for(login.account))
                  and login.account.role in ("staff", "leader", "admin"))


@router.get("/queue/rows")
def queue_rows(request: Request, login=Depends(require_page("queue"))):
    """The rows alone, fetched by the page when the event stream says the queue changed."""
    console = console_of(request)
    actor = actor_for(login.account)
    rows = views.queue(console.service, actor, **_queue_args(request))
    return render(request, "_queue_rows.html", rows=rows,
                  coordinator=views.coordinates(console.service, actor) and login.account.role in ("staff", "leader", "admin"))


@router.get("/alerts/{alert_id}")
def alert_page(request: Request, alert_id: str, login=Depends(require_login)):
    console = console_of(request)
    detail = views.alert_detail(console.service, actor_for(login.account), alert_id,
                                acts=login.account.role in ACTING_ROLES)
    return render(request, "alert.html", a=detail, page="queue", actions=ACTIONS)


@router.post("/alerts/{alert_id}/act/{action}")
async def alert_act(request: Request, alert_id: str, action: str):
    login, form = await _posted(request)
    if action not in ACTIONS:
        raise NotFound(f"no action {action!r}")
    back = f"/alerts/{alert_id}"
    try:
        body = form_to_model(action, form)
        result = await run_in_threadpool(perform, console_of(request).service, acting_actor(login.account),
                                         alert_id, action, body)
    except ValidationError as exc:
        return _back(request, back, "error", f"{ACTIONS[action].label}：{first_problem(exc)}")
    except NotFound:
        raise
    except AlertingError as exc:
        return _back(request, back, "error", f"{ACTIONS[action].label}未完成：{exc}")
    extra = f"（任务 {'、'.join('#' + str(t) for t in result.tasks)}）" if result.tasks else ""
    if result.outcome == "proposed":
        return _back(request, back, "ok", f"{alert_id}：排除申请已提交，待组长决定；决定前预警和时限照常运行")
    return _back(request, back, "ok", f"{alert_id}：已{result.label}{extra}")


# ---- 报送 and 信访 ------------------------------------------------------------------------------

def _handed_in(console, actor, article, proposal) -> str | None:
    """Score ``article`` with the pipeline's classifier and hand it in; None when nothing opens."""
    if console.options.score is None:
        raise IllegalTransition("this console has no classifier to score items with; use yuqing alerts new")
    return console.service.hand_in(console.options.score(article), proposal, actor)


@router.get("/intake")
def intake_page(request: Request, login=Depends(require_page("intake"))):
    console = console_of(request)
    actor = actor_for(login.account)
    return render(request, "intake.html", page="intake", offices=console.service.config.offices,
                  levels=list(LEVEL_WORDS), channels=CHANNELS, scoring=console.options.score is not None,
                  petitions=actor.office == PETITION_OFFICE or views.coordinates(console.service, actor))


@router.post("/intake")
async def intake_submit(request: Request):
    login, form = await _posted(request)
    console = console_of(request)
    actor = acting_actor(login.account)
    try:
        now = console.service.clock.now()
        article = item_article(form.get("title", ""), form.get("source", ""), now, form.get("link") or None,
                               form.get("text", ""))
        proposal = Proposal(form.get("office") or actor.office, level_of(form.get("level")),
                            form.get("reason", "").strip())
        alert_id = await run_in_threadpool(_handed_in, console, actor, article, proposal)
    except (ValueError, AlertingError) as exc:
        return _back(request, "/intake", "error", f"报送未完成：{exc}")
    if alert_id is None:
        return _back(request, "/intake", "error", "模型判定与纪检监察无关且未建议级别，未立项；如确属相关请选择建议级别后再报送")
    return _back(request, f"/alerts/{alert_id}", "ok", f"已报送，进入预警队列：{alert_id}")


def _record_petition(console, actor, form) -> tuple[str, int]:
    received = _form_time(form.get("received"), console.service.clock.now())
    channel, summary = form.get("channel", ""), form.get("summary", "")
    console.service.check_petition(actor, channel, summary, received)
    alert_id = form.get("alert_id") or None
    if alert_id is None:
        article = petition_article(channel, summary, received, form.get("title", ""))
        alert_id = _handed_in(console, actor, article, petition_proposal(channel, form.get("level")))
    number = console.service.record_petition(alert_id, actor, channel, summary, received,
                                             named=form.get("named") == "on")
    return alert_id, number


def _form_time(text: str | None, now):
    """A datetime-local field on the Beijing clock; now when empty."""
    if not text:
        return now
    try:
        return beijing_time(text)
    except BAD_DATE:
        raise ValueError(f"收到时间 {text!r} 不是有效时间") from None


@router.post("/intake/petition")
async def petition_submit(request: Request):
    login, form = await _posted(request)
    console = console_of(request)
    back = f"/alerts/{form.get('alert_id')}" if form.get("alert_id") else "/intake"
    try:
        alert_id, number = await run_in_threadpool(_record_petition, console, acting_actor(login.account), form)
    except NotFound:
        raise
    except (ValueError, AlertingError) as exc:
        return _back(request, back, "error", f"信访登记未完成：{exc}")
    return _back(request, f"/alerts/{alert_id}", "ok", f"信访 #{number} 已登记（{alert_id}）")


@router.post("/alerts/{alert_id}/special")
async def alert_special(request: Request, alert_id: str):
    """生成舆情专报: DOCX and PDF, listed on the alert's page for download."""
    login, form = await _posted(request)
    console = console_of(request)
    kind = (form.get("kind") or "首报").strip()
    lines = [line.strip() for line in (form.get("next_steps") or "").splitlines() if line.strip()]
    back = f"/alerts/{alert_id}"
    try:
        written = await run_in_threadpool(special.make, console.service, console.options,
                                          acting_actor(login.account), alert_id, kind, lines)
    except NotFound:
        raise
    except AlertingError as exc:
        return _back(request, back, "error", f"舆情专报未生成：{exc}")
    return _back(request, back, "ok", f"已生成{written.report.heading}：{written.docx.name}、{written.pdf.name}")


@router.get("/alerts/{alert_id}/special/{name}")
def alert_special_file(request: Request, alert_id: str, name: str, login=Depends(require_login)):
    console = console_of(request)
    path = special.file_of(console.service, console.options, actor_for(login.account), alert_id, name)
    return FileResponse(path, filename=path.name)


@router.get("/tasks")
def tasks(request: Request, login=Depends(require_page("tasks"))):
    console = console_of(request)
    actor = actor_for(login.account)
    rows = views.tasks_for(console.service, actor)
    return render(request, "tasks.html", tasks=rows, page="tasks", all_offices=views.coordinates(console.service, actor))


@router.post("/tasks/{task_id}/complete")
async def task_complete(request: Request, task_id: RowId):
    login, form = await _posted(request)
    try:
        body = form_to_model("task_done", form)
        result = await run_in_threadpool(complete_task, console_of(request).service, acting_actor(login.account),
                                         task_id, body)
    except ValidationError:
        return _back(request, "/tasks", "error", "请填写核实或办理情况")
    except NotFound:
        raise
    except AlertingError as exc:
        return _back(request, "/tasks", "error", f"任务 #{task_id} 未完成：{exc}")
    return _back(request, "/tasks", "ok", f"任务 #{task_id} 已反馈（{result.alert_id}）")


def _accountability(request: Request):
    """The 迟报漏报 data of ``?from=&to=`` (default: this month so far), and the dates."""
    console = console_of(request)
    today = console.service.clock.now().astimezone(SHANGHAI).date()
    try:
        first = date.fromisoformat(request.query_params.get("from") or today.replace(day=1).isoformat())
        last = date.fromisoformat(request.query_params.get("to") or today.isoformat())
        start, end, _, _ = period("range", start=first, end=last)
    except BAD_DATE:
        raise NotFound("dates are YYYY-MM-DD, with from not after to") from None
    data = accountability.gather(console.service.store, console.service.config, start, end,
                                 console.service.clock.now())
    return data, first, last


@router.get("/accountability")
def accountability_page(request: Request, login=Depends(require_page("accountability"))):
    data, first, last = _accountability(request)
    return render(request, "accountability.html", data=data, by_office=data.by_office, first=first, last=last,
                  page="accountability")


@router.get("/accountability/export")
def accountability_export(request: Request, fmt: str = "pdf", login=Depends(require_page("accountability"))):
    if fmt not in ("pdf", "xlsx", "html"):
        raise NotFound("export as pdf, xlsx or html")
    data, _, _ = _accountability(request)
    folder = Path(tempfile.mkdtemp(prefix="yuqing-accountability-"))
    written = accountability.write_accountability(data, folder)
    path = {"pdf": written.pdf, "xlsx": written.xlsx, "html": written.html}[fmt]
    # the three files are made for this download only: gone once it is sent
    return FileResponse(path, filename=path.name,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@router.get("/overview")
def overview(request: Request, login=Depends(require_page("overview"))):
    console = console_of(request)
    data = views.overview(console.service, actor_for(login.account), console.options.briefings)
    return render(request, "overview.html", o=data, page="overview")


@router.post("/briefings/{name}/{decision}")
async def briefing_review(request: Request, name: str, decision: str):
    """批准 / 退回 from the overview's forms; the service decides who may (the coordinating group)."""
    login, form = await _posted(request)
    if decision not in REVIEW_WORDS:
        raise NotFound(f"no action {decision!r} on a briefing")
    console = console_of(request)
    word = REVIEW_WORDS[decision][1]
    try:
        await run_in_threadpool(review_briefing, console.service, acting_actor(login.account),
                                console.options.briefings, name, decision, str(form.get("note") or ""))
    except AlertingError as exc:
        return _back(request, "/overview", "error", f"通报 {name} {word}未完成：{exc}")
    return _back(request, "/overview", "ok", f"通报 {name}：已{word}")


# ---- analysts ---------------------------------------------------------------------------------

@router.get("/search")
def search(request: Request, login=Depends(require_page("search"))):
    q = request.query_params
    page = query_number(q, "page", 1, 500, 1)
    form = analysis.SearchForm(q.get("q", ""), q.get("since", ""), q.get("until", ""), q.get("source", ""),
                               q.get("level", ""), q.get("office", ""), q.get("min_score", ""),
                               q.get("sort", "relevance"), page)
    result, error = None, ""
    try:
        result = analysis.search(console_of(request).index(), form)
    except ValueError as exc:
        error = str(exc)
    base = "&".join(f"{k}={quote(v)}" for k, v in q.items() if k != "page" and v)
    return render(request, "search.html", status=422 if error else 200, form=form, result=result, error=error,
                  page="search", base=base)


@router.get("/stories/{alert_id}")
def story(request: Request, alert_id: str, login=Depends(require_login)):
    console = console_of(request)
    index = console.index() if console.options.open_index else None
    data = analysis.story(console.service, actor_for(login.account), alert_id, index)
    return render(request, "story.html", s=data, page="search" if console.can(login.account, "search") else "queue")


@router.get("/trends")
def trends(request: Request, login=Depends(require_page("trends"))):
    days = query_number(request.query_params, "days", 1, 90, 30)
    console = console_of(request)
    data = analysis.trends(console.index(), console.service.clock.now(), days)
    return render(request, "trends.html", t=data, days=days, page="trends")


@router.get("/briefings")
def briefings(request: Request, login=Depends(require_page("briefings"))):
    console = console_of(request)
    folder = console.options.briefings
    return render(request, "briefings.html", rows=views.briefing_rows(console.service, folder), folder=folder,
                  page="briefings")


# ---- operators --------------------------------------------------------------------------------

def _source_file(request: Request, name: str | None):
    options = console_of(request).options
    files = operations.source_files(options.sources)
    chosen = next((f for f in files if f.name == name), files[0] if files else None)
    return options.sources, files, chosen


@router.get("/sources")
def sources(request: Request, login=Depends(require_page("sources"))):
    console = console_of(request)
    path, files, chosen = _source_file(request, request.query_params.get("file"))
    rows, problems = operations.source_rows(path, console.options.crawl_state, console.service.clock.now())
    text = chosen.read_text(encoding="utf-8") if chosen else ""
    return render(request, "sources.html", rows=rows, problems=problems, files=files, chosen=chosen,
                  text=text, page="sources", checked=None, preview=None)


@router.post("/sources")
async def sources_submit(request: Request):
    login, form = await _posted(request)
    console = console_of(request)
    if not console.can(login.account, "sources"):
        raise NotFound("no such page")
    path, files, chosen = _source_file(request, form.get("file"))
    if chosen is None:
        raise NotFound("no sources file to edit; start the console with --sources PATH")
    text = str(form.get("text") or "").replace("\r\n", "\n")
    if form.get("do") == "save":
        problems = await run_in_threadpool(operations.save_yaml, console.service.store, path, chosen, text,
                                           login.account.name, console.service.clock.now())
        if not problems:
            return _back(request, f"/sources?file={quote(chosen.name)}", "ok", f"{chosen.name} 已校验并保存")
    else:
        problems = await run_in_threadpool(operations.check_yaml, path, chosen, text)
    rows, current = operations.source_rows(path, console.options.crawl_state, console.service.clock.now())
    return render(request, "sources.html", status=200 if not problems else 422, rows=rows, problems=current,
                  files=files, chosen=chosen, text=text, page="sources", checked=problems, preview=None)


@router.post("/sources/{source_id}/test")
async def source_test(request: Request, source_id: str):
    login, form = await _posted(request)
    console = console_of(request)
    if not console.can(login.account, "sources"):
        raise NotFound("no such page")
    path, files, chosen = _source_file(request, None)
    try:
        preview = await run_in_threadpool(operations.test_fetch, path, source_id)
    except KeyError as exc:
        raise NotFound(str(exc.args[0])) from None
    rows, problems = operations.source_rows(path, console.options.crawl_state, console.service.clock.now())
    text = chosen.read_text(encoding="utf-8") if chosen else ""
    return render(request, "sources.html", rows=rows, problems=problems, files=files, chosen=chosen, text=text,
                  page="sources", checked=None, preview=preview)


@router.get("/briefings/{name}")
def briefing_file(request: Request, name: str, login=Depends(require_page("briefings"))):
    return RedirectResponse(f"/api/briefings/{quote(name)}", status_code=303)


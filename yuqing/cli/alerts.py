"""``yuqing alerts ...``: the alert queue and the workflow from the command line.

Every action goes through :class:`alerting.service.AlertService`, as in the web console, so it is
checked and written to the audit log the same way. Who acts is the account logged in with
``yuqing login`` (:mod:`yuqing.cli.identity`), with the permissions the console gives it.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

from alerting import deadlines, outbox
from alerting.chain import RECEIPT_VIAS
from alerting.config import STATE_LABELS, TASK_LABELS, load_alerting_config, parse_duration
from alerting.handling import HANDLING_KINDS, describe
from alerting.locality import LOCALITY_LABELS
from alerting.messages import time_left
from alerting.queries import HISTORY_WORDS
from alerting.routing import LEVEL_NAMES
from alerting.service import AlertService
from alerting.store.models import Deadline
from pipeline.records import ScoredArticle, beijing_minute
from yuqing.app import Application, open_service
from yuqing.cli import handin
from yuqing.cli.common import settings_from, stop_on_signals
from yuqing.cli.identity import acting, actor_options
from yuqing.cli.sources import found_sources_path


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, help: str, run, alert: bool = True):
        p = actions.add_parser(name, help=help)
        if alert:
            p.add_argument("alert_id", metavar="ALERT_ID")
        actor_options(p)
        p.set_defaults(run=run)
        return p

    p = action("list", "open alerts, most urgent first", run_list, alert=False)
    p.add_argument("--all", action="store_true", help="closed and dismissed ones too")
    p.add_argument("--state", action="append", help="only these states (new, judged, warned ...)")
    p.add_argument("--office", help="only this office's alerts")
    p.add_argument("--level", type=int, default=1, choices=(1, 2, 3), help="lowest level shown")
    p.add_argument("--json", action="store_true")
    p = action("show", "one alert: articles, deadlines, tasks, reports, messages, history", run_show)
    p.add_argument("--json", action="store_true")
    action("ack", "签收: the office has seen it", lambda a: _do(a, "ack"))
    p = action("assign", "改派 to another office", lambda a: _do(a, "assign", a.to, a.note))
    p.add_argument("--to", required=True, metavar="OFFICE")
    p.add_argument("--note", default="")
    p = action("advance", "move to the next state (judged, warned, deep_judged, proposed, handling, "
               "closed, dismissed)", run_advance)
    p.add_argument("--to", required=True, metavar="STATE")
    p.add_argument("--note", default="", help="the judgement, proposal or reason")
    p.add_argument("--office", action="append", default=[], help="offices to warn (--to warned)")
    p = action("judge", "初步研判, optionally correcting level, office and urgency", run_judge)
    p.add_argument("--note", required=True)
    p.add_argument("--level", type=int, choices=(1, 2, 3))
    p.add_argument("--office")
    p.add_argument("--overall", action="store_true", help="可能影响全局: the 2-hour upward report")
    p.add_argument("--emergency", action="store_true", help="紧急: report at once")
    p = action("warn", "预警 to the offices concerned, who verify within the time limit", run_warn)
    p.add_argument("--office", action="append", required=True)
    p.add_argument("--within", help="time limit, e.g. 45m (default clocks.verification)")
    p.add_argument("--note", default="")
    p = action("task-done", "an office reports its verification or finishes a task", run_task_done,
               alert=False)
    p.add_argument("task_id", type=int, metavar="TASK_ID")
    p.add_argument("--result", required=True, help="what was found or done")
    p = action("report", "上报/知会 upward, level by level, to units of the directory (default: every "
               "unit its deadlines still need)", run_report)
    p.add_argument("--to", action="append", metavar="UNIT",
                   help="a unit of the directory in alerting.yaml, e.g. 市纪委监委宣传部 or 县委 (repeatable)")
    p.add_argument("--note", default="")
    p.add_argument("--skip-reason", default="", help="the 组长's reason to report past a level not yet "
                   "reported to (logged in as leader)")
    p = action("receipt", "回执: who at the unit confirmed a report, and how", run_receipt)
    p.add_argument("--unit", required=True, help="the unit reported to")
    p.add_argument("--by", required=True, metavar="NAME", help="who at the unit confirmed it")
    p.add_argument("--via", required=True, choices=RECEIPT_VIAS)
    p.add_argument("--note", default="")
    p = action("handle", "舆情处置: record a 回应, 澄清, 辟谣 or 信息发布 (--link, --text), a 线索移交 "
               "(--office) or a 协同 with a partner (--partner)", run_handle)
    p.add_argument("--kind", required=True, choices=HANDLING_KINDS)
    p.add_argument("--text", required=True, help="what was published, handed over or done")
    p.add_argument("--link", help="where it was published (http/https)")
    p.add_argument("--office", help="线索移交: the office that receives the clue (it signs for it)")
    p.add_argument("--partner", help="协同: a partner of the directory (上级纪委, 公安, 检察院 ...)")
    p = action("dismiss", "排除误报, with the reason: at once for 一般 items (and for the 组长); "
               "from 较大 up a request the 组长 approves", run_dismiss)
    p.add_argument("--reason", required=True)
    p = action("dismissal", "the 组长 decides a request to dismiss: approve, or return with a note",
               run_dismissal)
    p.add_argument("decision", choices=("approve", "return"))
    p.add_argument("--note", default="", help="why (required to return)")
    p = action("exempt", "免于上报: the 组长 lets an upward report go unmade, with the reason", run_exempt)
    p.add_argument("--deadline", required=True, choices=("major", "overall"), help="which report")
    p.add_argument("--reason", required=True)
    p = action("escalate", "raise the level, mark urgent / of overall effect, or the commission's own",
               run_escalate)
    p.add_argument("--level", type=int, choices=(2, 3))
    p.add_argument("--emergency", action="store_true")
    p.add_argument("--overall", action="store_true")
    p.add_argument("--local", action="store_true",
                   help="属地: the item is this commission's own, whatever places it names (its clocks run)")
    p.add_argument("--note", required=True)
    action("deadlines", "deadlines not yet met, missed ones first, with time left or how late",
           run_deadlines, alert=False)
    p = action("tick", "fire due reminders and escalations, deliver messages", run_tick, alert=False)
    p.add_argument("--loop", action="store_true", help="keep going every --interval seconds")
    p.add_argument("--interval", type=float, default=5.0)
    p = action("new", "报送: hand in an item your office found (scored, then queued like the rest)",
               handin.run_new, alert=False)
    handin.configure(p)
    p = action("petition", "信访室 records a 来信/来访/来电/网上举报 linked to an alert (or handed in)",
               handin.run_petition, alert=False)
    handin.configure_petition(p)
    p = action("ingest", "open alerts from a JSON Lines file of scored articles (the pipeline's "
               "articles.scored records; for an item of your own use `alerts new`)", run_ingest, alert=False)
    p.add_argument("--input", required=True, metavar="FILE.jsonl")
    p = actions.add_parser("config-check", help="validate an alerting.yaml")
    p.add_argument("file", nargs="?", help="default: alerting.file of yuqing.yaml")
    p.set_defaults(run=run_config_check)


def open_cli_service(args) -> AlertService:
    """The service for the system's own commands (tick, ingest), which act as yuqing itself."""
    return open_service(settings_from(args))


def parse_within(text: str | None) -> timedelta | None:
    if text is None:
        return None
    return parse_duration(text)


def _do(args, method: str, *rest) -> int:
    with acting(args) as (service, actor):
        getattr(service, method)(args.alert_id, actor, *rest)
    print(f"{args.alert_id}: {method} done")
    return 0


def deadline_words(d: Deadline, now) -> str:
    """How a deadline stands, in the offices' words: time left or how late, ``已超时`` once it
    was missed (and escalated), or its final state with when the work was done."""
    if d.done_at is None and d.status in ("open", "missed"):
        late = "（已超时，已报组长）" if d.status == "missed" else ""
        return time_left(d.due_at, now) + late
    done = f" {beijing_minute(d.done_at)}" if d.done_at else ""
    return deadlines.STATUS_LABELS.get(d.status, d.status) + done


def run_list(args) -> int:
    with acting(args, read_only=True) as (service, actor):
        states = args.state or (list(STATE_LABELS) if args.all else None)
        queue = service.queue(actor, states=states, office=args.office, min_level=args.level)
        now = service.clock.now()
    if args.json:
        for a, d in queue:
            print(json.dumps({"id": a.id, "level": a.level, "state": a.state, "office": a.office,
                              "title": a.title, "articles": a.articles, "first_seen": a.first_seen.isoformat(),
                              "deadline": d.due_at.isoformat() if d else None,
                              "deadline_label": d.label if d else None,
                              "deadline_status": d.status if d else None,
                              "overdue": bool(d and d.due_at < now)}, ensure_ascii=False))
        return 0
    if not queue:
        print("no open alerts" if not args.all else "no alerts")
        return 0
    for a, d in queue:
        left = f"{d.label}{time_left(d.due_at, now)}" if d else "-"
        where = "" if a.locality in ("local", "unknown", None) else f"［{LOCALITY_LABELS[a.locality]}］"
        print(f"{a.id}  {LEVEL_NAMES[a.level]}{'!' if a.emergency else ' '} {STATE_LABELS[a.state]:<5} "
              f"{a.office:<6} {left:<16} {a.articles:>3}篇/{len(a.sources)}源  {where}{a.title}")
    return 0


def run_show(args) -> int:
    with acting(args, read_only=True) as (service, actor):
        detail = service.show(args.alert_id, actor)
        now = service.clock.now()
    a = detail.alert
    if args.json:
        print(json.dumps({
            "id": a.id, "title": a.title, "level": a.level, "state": a.state, "office": a.office,
            "emergency": a.emergency, "overall": a.overall, "locality": a.locality, "reasons": a.level_reasons,
            "deadlines": [{"label": d.label, "due": d.due_at.isoformat(), "status": d.status} for d in detail.deadlines],
            "tasks": [{"id": t.id, "kind": t.kind, "office": t.office, "state": t.state} for t in detail.tasks],
            "reports": [{"unit": r.recipient, "at": r.at.isoformat(), "by": r.actor, "skip_reason": r.skip_reason,
                         "received_by": r.received_by, "received_via": r.received_via,
                         "received_at": r.received_at.isoformat() if r.received_at else None}
                        for r in detail.reports],
            "handlings": [{"kind": h.kind, "text": h.text, "link": h.link, "office": h.office,
                           "partner": h.partner, "task": h.task_id, "by": h.actor, "at": h.at.isoformat()}
                          for h in detail.handlings],
            "notifications": [{"channel": n.channel, "status": n.status, "attempts": n.attempts,
                               "error": n.last_error} for n in detail.notifications],
            "petitions": [{"id": p.id, "channel": p.channel, "received": p.received_at.isoformat(),
                           "summary": p.summary, "named": p.named} for p in detail.petitions],
        }, ensure_ascii=False))
        return 0
    print(f"{a.id}  【{LEVEL_NAMES[a.level]}】{a.title}")
    print(f"  状态 {STATE_LABELS[a.state]}  承办 {a.office}  首发 {a.first_source} {beijing_minute(a.first_seen)}"
          f"  传播 {a.articles}篇/{len(a.sources)}源" + ("  紧急" if a.emergency else "")
          + ("  可能影响全局" if a.overall else "") + f"  属地 {LOCALITY_LABELS[a.locality or 'unknown']}")
    print(f"  依据 {'；'.join(a.level_reasons)}")
    for d in detail.deadlines:
        print(f"  时限 {d.label}  {beijing_minute(d.due_at)}  {deadline_words(d, now)}"
              + (f"  责任人 {d.person}" if d.person else ""))
    for t in detail.tasks:
        print(f"  任务 #{t.id} {t.title}  {t.office} {t.person}  {beijing_minute(t.due_at)}  "
              f"{TASK_LABELS.get(t.state, t.state)}" + (f"  反馈：{t.result}" if t.result else ""))
    for r in detail.reports:
        receipt = (f"  回执 {r.received_by}（{r.received_via}）{beijing_minute(r.received_at)}" if r.received_at
                   else "  回执未确认")
        print(f"  上报 {r.recipient}  {beijing_minute(r.at)}  {r.actor}{receipt}"
              + (f"  越级：{r.skip_reason}" if r.skip_reason else ""))
    for p in detail.petitions:
        print(f"  信访 #{p.id} {p.channel}{'（实名）' if p.named else ''}  {beijing_minute(p.received_at)}  {p.summary}")
    for h in detail.handlings:
        print(f"  处置 {beijing_minute(h.at)}  {h.actor}  {describe(h)}")
    for n in detail.notifications:
        if n.status != "sent":
            print(f"  通知 {n.channel} {outbox.STATUS_LABELS.get(n.status, n.status)} 尝试{n.attempts}次"
                  + (f"  失败：{n.last_error}" if n.last_error else ""))
    for e in detail.history:
        print(f"  记录 {beijing_minute(e.at)}  {e.actor}  {HISTORY_WORDS.get(e.action, e.action)}")
    return 0


def run_dismiss(args) -> int:
    with acting(args) as (service, actor):
        outcome = service.dismiss(args.alert_id, actor, args.reason)
    if outcome == "proposed":
        print(f"{args.alert_id}: 排除申请已提交，待组长决定；决定前预警和时限照常运行")
    else:
        print(f"{args.alert_id}: 已排除")
    return 0


def run_dismissal(args) -> int:
    with acting(args) as (service, actor):
        if args.decision == "approve":
            service.approve_dismissal(args.alert_id, actor, args.note)
        else:
            service.return_dismissal(args.alert_id, actor, args.note)
    print(f"{args.alert_id}: {'同意排除，已排除' if args.decision == 'approve' else '排除申请已退回'}")
    return 0


def run_exempt(args) -> int:
    with acting(args) as (service, actor):
        service.exempt(args.alert_id, actor, args.deadline, args.reason)
    print(f"{args.alert_id}: {args.deadline} 免于上报（{args.reason}）")
    return 0


def run_advance(args) -> int:
    with acting(args) as (service, actor):
        service.advance(args.alert_id, actor, args.to, args.note, offices=args.office)
    print(f"{args.alert_id}: now {STATE_LABELS.get(args.to, args.to)} ({args.to})")
    return 0


def run_judge(args) -> int:
    with acting(args) as (service, actor):
        service.judge(args.alert_id, actor, args.note, level=args.level,
                      office=args.office, overall=args.overall or None, emergency=args.emergency or None)
    print(f"{args.alert_id}: judged")
    return 0


def run_warn(args) -> int:
    with acting(args) as (service, actor):
        tasks = service.warn(args.alert_id, actor, args.office, args.note,
                             parse_within(args.within))
    print(f"{args.alert_id}: warned; verification tasks {', '.join(map(str, tasks))}")
    return 0


def run_task_done(args) -> int:
    with acting(args) as (service, actor):
        alert_id = service.complete_task(args.task_id, actor, args.result)
    print(f"task {args.task_id} of {alert_id}: done")
    return 0


def run_report(args) -> int:
    with acting(args) as (service, actor):
        made = service.report(args.alert_id, actor, args.to, args.note, args.skip_reason)
        receipt = service.config.clocks.receipt
    print(f"{args.alert_id}: reported to {'、'.join(made)}; confirm each receipt within "
          f"{int(receipt.total_seconds() // 60)} minutes (yuqing alerts receipt {args.alert_id} --unit UNIT "
          "--by NAME --via 电话)")
    return 0


def run_receipt(args) -> int:
    with acting(args) as (service, actor):
        service.confirm_receipt(args.alert_id, actor, args.unit, args.by, args.via, args.note)
    print(f"{args.alert_id}: {args.unit} 回执已登记（{args.by}，{args.via}）")
    return 0


def run_handle(args) -> int:
    with acting(args) as (service, actor):
        service.handle(args.alert_id, actor, args.kind, args.text, args.link, args.office, args.partner)
        line = service.show(args.alert_id, actor).handlings[-1]
    print(f"{args.alert_id}: 已记录 {describe(line)}")
    return 0


def run_escalate(args) -> int:
    with acting(args) as (service, actor):
        service.escalate(args.alert_id, actor, args.note, level=args.level,
                         emergency=args.emergency, overall=args.overall, local=args.local)
    print(f"{args.alert_id}: escalated")
    return 0


def run_deadlines(args) -> int:
    with acting(args, read_only=True) as (service, actor):
        rows = service.open_deadlines(actor)
        now = service.clock.now()
    for d, a in rows:
        print(f"{beijing_minute(d.due_at)}  {deadline_words(d, now):<12} {d.label:<10} {d.office:<6} {a.id}  {a.title}")
    if not rows:
        print("no deadlines running or missed")
    return 0


def run_tick(args) -> int:
    with Application(settings_from(args)) as app:
        if args.loop:
            app.ticker(args.interval, sources=found_sources_path()).run(stop_on_signals())
            return 0
        r = app.service.tick()
    print(f"reminders {r.reminders}, escalations {r.escalations}, sent {r.sent}, failed {r.failed}")
    return 0


def run_ingest(args) -> int:
    service = open_cli_service(args)
    started = service.clock.now()
    taken, problems = [], 0
    try:
        with open(args.input, encoding="utf-8") as lines:
            for n, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    article = ScoredArticle.model_validate_json(line)
                except ValueError as exc:
                    print(f"{args.input}:{n}: not a scored article: {str(exc).splitlines()[0]}"
                          + (SCORES_ONLY if _scores_only(line) else ""))
                    problems += 1
                    continue
                if service.ingest(article):
                    taken.append(article.id)
        # every alert the articles went to: their stories', and the volume alerts they opened or joined
        alerts = service.queries.alerts_of(taken)
    finally:
        service.store.close()
    opened = sum(1 for a in alerts if a.created_at >= started)
    print(f"{len(alerts)} alert{'' if len(alerts) == 1 else 's'} from {args.input}: {opened} opened, "
          f"{len(alerts) - opened} already open" + (f"; {problems} lines skipped" if problems else ""))
    return 1 if problems else 0


SCORES_ONLY = ("; this line is `yuqing classify` output (the scores of a text, not an article with its "
               "source, address and time): hand an item in with `yuqing alerts new --title ... --text ... "
               "--source ... --office ...`, which scores it too")


def _scores_only(line: str) -> bool:
    """Whether a JSON line looks like ``yuqing classify`` output: scores without an article."""
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and {"relevance", "level"} <= record.keys() and "source_id" not in record


def run_config_check(args) -> int:
    path = args.file or settings_from(args).alerting.file
    config = load_alerting_config(path)
    print(f"{path or '(built-in defaults)'}: ok — {len(config.offices)} offices, {len(config.routing)} "
          f"routing rules, {len(config.notify.channels)} channels, {len(config.notify.routes)} routes")
    return 0

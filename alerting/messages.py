"""What the notifications say, in Chinese, so an office reading a phone knows what to do.

A message is written when its cause happens but may go out later (a digest, quiet hours, a
retry): :func:`current` brings its spread line (``传播：N 篇，M 个来源``) up to date as it leaves,
so the numbers a reader sees are never stale.
"""

from __future__ import annotations

import re
from datetime import datetime

from alerting.routing import LEVEL_NAMES
from alerting.store.models import Alert, Deadline
from pipeline.records import beijing_minute

__all__ = ["time_left", "minutes_between", "current", "opened", "raised", "reminder", "escalation", "warned",
           "task_assigned", "proposal", "dismissal_proposed", "receipt_unconfirmed", "clue_handed"]


def minutes_between(start: datetime, end: datetime) -> int:
    """Whole minutes from ``start`` to ``end``, rounded to the nearest (half up) as a reader
    expects: a reminder fired a few seconds late two minutes before the deadline says 2, not 1.
    Negative when ``end`` is earlier."""
    seconds = (end - start).total_seconds()
    minutes = int(abs(seconds) / 60 + 0.5)
    return minutes if seconds >= 0 else -minutes


def _span(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours}小时" + (f"{rest}分" if rest else "") if hours else f"{minutes}分"


def time_left(due: datetime, now: datetime) -> str:
    """``剩23分`` (``剩1小时5分``) before the deadline, ``超时5分`` (``超时1小时5分``) after it."""
    minutes = minutes_between(now, due)
    if now > due:
        return f"超时{_span(max(1, -minutes))}"
    return f"剩{_span(minutes)}"


def _link(alert: Alert, console_url: str | None) -> str:
    return f"\n处理：{console_url.rstrip('/')}/alerts/{alert.id}" if console_url else f"\n处理：yuqing alerts show {alert.id}"


_SPREAD = re.compile(r"^传播：\d+ 篇，\d+ 个来源$", re.MULTILINE)


def _spread(alert: Alert) -> str:
    return f"传播：{alert.articles} 篇，{len(alert.sources)} 个来源"


def current(body: str, alert: Alert) -> str:
    """``body`` with its spread line showing ``alert``'s numbers now."""
    return _SPREAD.sub(lambda _: _spread(alert), body, count=1)


def _facts(alert: Alert) -> str:
    lines = [f"级别：{LEVEL_NAMES[alert.level]}" + ("（紧急）" if alert.emergency else ""),
             f"承办：{alert.office}",
             f"首发：{alert.first_source}，{beijing_minute(alert.first_seen)}",
             _spread(alert)]
    if alert.url:
        lines.append(f"原文：{alert.url}")
    return "\n".join(lines)


def _deadlines(deadlines: list[Deadline]) -> str:
    return "".join(f"\n时限：{d.label}，须于 {beijing_minute(d.due_at)} 前完成" for d in deadlines)


def opened(alert: Alert, deadlines: list[Deadline], console_url: str | None) -> tuple[str, str]:
    subject = f"【{LEVEL_NAMES[alert.level]}舆情】{alert.title}"
    return subject, _facts(alert) + _deadlines(deadlines) + _link(alert, console_url)


def raised(alert: Alert, old: int, why: str, deadlines: list[Deadline], console_url: str | None) -> tuple[str, str]:
    """The level went up: why, and the clocks the alert is now under (with when they fall due)."""
    subject = f"【升级为{LEVEL_NAMES[alert.level]}】{alert.title}"
    body = f"由{LEVEL_NAMES[old]}升为{LEVEL_NAMES[alert.level]}：{why}\n" + _facts(alert)
    return subject, body + _deadlines(deadlines) + _link(alert, console_url)


def reminder(alert: Alert, deadline: Deadline, now: datetime, console_url: str | None) -> tuple[str, str]:
    minutes = max(0, minutes_between(now, deadline.due_at))
    subject = f"【时限提醒】{deadline.label}还剩{minutes}分钟：{alert.title}"
    body = (f"{deadline.label}须于 {beijing_minute(deadline.due_at)} 前完成，承办：{_owner(deadline)}。\n"
            + _facts(alert))
    return subject, body + _link(alert, console_url)


def _owner(deadline: Deadline) -> str:
    """``信访室 李强`` — the office and its 责任人, when one is known."""
    return f"{deadline.office} {deadline.person}" if deadline.person else deadline.office


def escalation(alert: Alert, deadline: Deadline, console_url: str | None) -> tuple[str, str]:
    subject = f"【超时未办·报组长】{deadline.label}已超时：{alert.title}"
    body = (f"{deadline.label}时限 {beijing_minute(deadline.due_at)} 已过，尚未完成，承办：{_owner(deadline)}。"
            "此情况已记入问责记录。\n" + _facts(alert))
    return subject, body + _link(alert, console_url)


def warned(alert: Alert, office: str, due: datetime, note: str, console_url: str | None) -> tuple[str, str]:
    subject = f"【舆情预警·请核实】{alert.title}"
    body = (f"请{office}于 {beijing_minute(due)} 前核实并反馈第一手情况。"
            + (f"\n研判意见：{note}" if note else "") + "\n" + _facts(alert))
    return subject, body + _link(alert, console_url)


def task_assigned(alert: Alert, title: str, office: str, person: str, due: datetime,
                  console_url: str | None) -> tuple[str, str]:
    subject = f"【即时会商任务】{title}"
    body = (f"事项：{alert.title}\n任务：{title}\n责任：{office}{(' ' + person) if person else ''}\n"
            f"时限：{beijing_minute(due)} 前完成")
    return subject, body + _link(alert, console_url)


def proposal(alert: Alert, text: str, console_url: str | None) -> tuple[str, str]:
    subject = f"【处置意见·请协调小组审定】{alert.title}"
    return subject, f"处置意见：{text}\n" + _facts(alert) + _link(alert, console_url)


def dismissal_proposed(alert: Alert, by: str, reason: str, console_url: str | None) -> tuple[str, str]:
    subject = f"【排除申请·请组长决定】{alert.title}"
    body = (f"{by}申请将此{LEVEL_NAMES[alert.level]}舆情排除为误报，理由：{reason}\n"
            "组长同意前，预警和时限照常运行。\n" + _facts(alert))
    return subject, body + _link(alert, console_url)


def receipt_unconfirmed(alert: Alert, deadline: Deadline, console_url: str | None) -> tuple[str, str]:
    """A report upward whose receipt (回执) nobody has confirmed by its time."""
    unit = deadline.label.split("·", 1)[-1]
    subject = f"【回执未确认】{unit}：{alert.title}"
    body = (f"向{unit}的上报应于 {beijing_minute(deadline.due_at)} 前确认收到，尚未确认，承办：{_owner(deadline)}。"
            f"请电话核实并登记回执（yuqing alerts receipt {alert.id} --unit {unit} --by 姓名 --via 电话）。\n"
            + _facts(alert))
    return subject, body + _link(alert, console_url)


def clue_handed(alert: Alert, office: str, text: str, due: datetime, console_url: str | None) -> tuple[str, str]:
    """A clue handed over (线索移交) to ``office``, which signs for it by ``due``."""
    subject = f"【线索移交·请签收】{alert.title}"
    body = (f"移交{office}：{text}\n请于 {beijing_minute(due)} 前签收并反馈办理情况。\n" + _facts(alert))
    return subject, body + _link(alert, console_url)

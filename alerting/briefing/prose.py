"""The briefing's sentences, written from the numbers (no template logic in Chinese grammar).

Every function takes the :class:`BriefingData` (or a part of it) and returns plain text; the
template escapes it. Times are on the Beijing clock. The phrasing follows the commission's own
documents: 较前一日增加…条、上升…%, 重大舆情…条, 按时完成率…%.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from alerting.briefing.data import LEVEL_NAMES, BriefingData, Change
from pipeline.records import SHANGHAI

__all__ = [
    "change_text",
    "cn_date",
    "deadlines_text",
    "document_title",
    "issue_number",
    "lateness_text",
    "overview",
    "percent",
    "period_text",
    "previous_label",
    "rising_text",
    "short_time",
    "sources_text",
    "stories_text",
    "tasks_text",
]

KIND_WORDS = {"daily": "日报", "weekly": "周报", "range": "通报"}


def _bj(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI)


def cn_date(moment: datetime) -> str:
    """``2026年11月26日``."""
    m = _bj(moment)
    return f"{m.year}年{m.month}月{m.day}日"


def short_time(moment: datetime | None) -> str:
    """``11-26 20:15`` for tables; ``—`` for no time."""
    if moment is None:
        return "—"
    return _bj(moment).strftime("%m-%d %H:%M")


def percent(part: float, whole: float) -> str:
    """``36.8%``; ``—`` when ``whole`` is 0."""
    return f"{100 * part / whole:.1f}%" if whole else "—"


def _is_midnight(m: datetime) -> bool:
    return (m.hour, m.minute, m.second) == (0, 0, 0)


def period_text(data: BriefingData) -> str:
    """The period in words: ``2026年11月26日0时至24时``, ``2026年11月20日至26日``..."""
    start, end = _bj(data.period_start), _bj(data.period_end)
    if _is_midnight(start) and _is_midnight(end):
        last = end - timedelta(days=1)
        if last.date() == start.date():
            return f"{cn_date(start)}0时至24时"
        if (last.year, last.month) == (start.year, start.month):
            return f"{cn_date(start)}至{last.day}日"
        if last.year == start.year:
            return f"{cn_date(start)}至{last.month}月{last.day}日"
        return f"{cn_date(start)}至{cn_date(last)}"
    tail = f"{end.month}月{end.day}日{end.hour}时" if end.year == start.year else f"{cn_date(end)}{end.hour}时"
    return f"{cn_date(start)}{start.hour}时至{tail}"


def previous_label(data: BriefingData) -> str:
    return {"daily": "前一日", "weekly": "上周"}.get(data.kind, "上一周期")


def issue_number(data: BriefingData) -> int | None:
    """第…期: ``data.issue``, else the day of the year (daily) or ISO week (weekly)."""
    if data.issue is not None:
        return data.issue
    start = _bj(data.period_start)
    if data.kind == "daily":
        return start.timetuple().tm_yday
    if data.kind == "weekly":
        return start.isocalendar().week
    return None


def document_title(data: BriefingData) -> str:
    """The red header's words: ``会昌县纪委监委舆情日报``."""
    return f"{data.unit}舆情{KIND_WORDS[data.kind]}"


def change_text(change: Change, label: str) -> str:
    """``较前一日(38条)增加14条、上升36.8%``, or 持平, or the previous period had none."""
    if change.previous == 0:
        return f"{label}无此类信息" if change.current else f"与{label}相同"
    if change.delta == 0:
        return f"与{label}（{change.previous}条）持平"
    verb, trend = ("增加", "上升") if change.delta > 0 else ("减少", "下降")
    return f"较{label}（{change.previous}条）{verb}{abs(change.delta)}条、{trend}{abs(change.ratio) * 100:.1f}%"


def _peak(data: BriefingData) -> tuple[datetime, int] | None:
    per_bucket: Counter[datetime] = Counter()
    for point in data.volume:
        if point.level > 0:
            per_bucket[_bj(point.bucket)] += point.count
    if not per_bucket:
        return None
    bucket, count = min(per_bucket.items(), key=lambda kv: (-kv[1], kv[0]))
    return bucket, count


def _counted(items: Counter[str], unit: str) -> str:
    return "、".join(f"{name}{n}{unit}" for name, n in sorted(items.items(), key=lambda kv: (-kv[1], kv[0])))


def stories_text(data: BriefingData) -> str:
    """The 重要舆情 sentence: the number of rows of table 1, by level and by where they stand."""
    if not data.stories:
        return "本期无纳入重要舆情管理的事件（较大、重大舆情）。"
    levels = data.story_levels
    by_level = "、".join(f"{LEVEL_NAMES[lv]}{levels[lv]}起" for lv in (3, 2, 1) if levels[lv])
    text = f"本期纳入重要舆情管理{len(data.stories)}起（{by_level}）"
    carried = data.carried_stories
    if carried:
        text += f"，其中本期新发{len(data.stories) - carried}起、此前发生本期仍在处置或继续传播{carried}起"
    states = Counter(s.state for s in data.stories)
    text += f"；按处置状态：{_counted(states, '起')}。"
    missed = len(data.missed_deadlines)
    if missed:
        text += f"有{missed}项时限事项未按时完成，详见第六部分。"
    return text


def overview(data: BriefingData) -> list[str]:
    """The 总体情况 paragraphs: relevant articles (first seen in the period, at their alert's
    level), the change, the peak, then the stories of table 1 in one sentence."""
    period, label = period_text(data), previous_label(data)
    totals = data.totals
    if data.relevant == 0:
        first = f"{period}，按首次监测时间统计，未监测到新的涉及纪检监察工作的舆情信息（{label}{data.change().previous}条）。"
        if totals[0]:
            first += f"采集与纪检监察工作无关的网络信息{totals[0]}条。"
        elif not data.stories:
            first += "请核实各信息源采集是否正常。"
    else:
        levels = "、".join(f"{LEVEL_NAMES[lv]}{totals[lv]}条" for lv in (3, 2, 1))
        first = (f"{period}，按首次监测时间统计，监测到涉及纪检监察工作的舆情信息{data.relevant}条，"
                 f"{change_text(data.change(), label)}。按所属舆情的研判级别，其中{levels}。")
        serious = Change(totals[3] + totals[2], data.previous[3] + data.previous[2])
        if serious.current or serious.previous:
            first += f"重大、较大合计{serious.current}条，{change_text(serious, label)}。"
        peak = _peak(data)
        if peak is not None:
            when, count = peak
            at = f"{when.day}日{when.hour}时" if data.bucket_unit == "hour" else f"{when.month}月{when.day}日"
            first += f"从时间分布看，信息量高峰出现在{at}（{count}条）。"
        if totals[0]:
            first += f"另采集与纪检监察工作无关的网络信息{totals[0]}条。"
    # no stories: section 二 says so, once
    return [first, stories_text(data)] if data.stories else [first]


def rising_text(data: BriefingData) -> str:
    """The 苗头性倾向性问题 lead sentence, or the empty-state sentence."""
    if not data.rising_terms:
        return "本期未发现讨论量明显上升的苗头性、倾向性话题。"
    label = previous_label(data)
    names = "、".join(f"“{t.term}”" for t in data.rising_terms[:3])
    new = [t.term for t in data.rising_terms if t.is_new]
    text = f"与{label}相比，{names}等话题讨论明显增多"
    if new:
        text += "，其中" + "、".join(f"“{t}”" for t in new[:3]) + ("等" if len(new) > 3 else "") + "为本期新出现"
    return text + "，需关注其发展态势，防止演变为重要敏感舆情。"


def sources_text(data: BriefingData) -> str:
    """The 主要来源 lead sentence; shares are of the relevant articles of the period."""
    if not data.sources:
        return "本期无涉及纪检监察工作的信息来源。"
    whole = data.relevant or sum(s.count for s in data.sources)
    head = data.sources[:3]
    names = "、".join(s.source for s in head)
    return (f"本期相关信息主要来自{names}，"
            f"{'合计' if len(head) > 1 else ''}占{percent(sum(s.count for s in head), whole)}。")


def tasks_text(data: BriefingData) -> str:
    """The 各部门任务 lead sentence: open and overdue tasks, naming offices with overdue ones."""
    if not data.tasks:
        return "本期无分解至各部门的处置任务。"
    total = data.task_totals
    text = f"截至通报时，各部门在办任务{total.open}项，本期办结{total.done}项"
    late = [t for t in data.tasks if t.overdue]
    if late:
        text += f"；超期未办结{total.overdue}项（" + "、".join(f"{t.office}{t.overdue}项" for t in late) + "），请抓紧办理"
    else:
        text += "，无超期任务"
    return text + "。"


def deadlines_text(data: BriefingData) -> str:
    """The 时限执行情况 lead sentence, or the empty-state sentence."""
    if not data.deadlines:
        return "本期无到期的上报、核实等时限事项。"
    c = data.deadline_counts
    decided = c["met"] + c["missed"]
    text = f"本期到期的上报、核实等时限事项{len(data.deadlines)}项，按时完成{c['met']}项，超时{c['missed']}项"
    if c["open"]:
        text += f"，尚在时限内办理{c['open']}项"
    if decided:
        text += f"，按时完成率{percent(c['met'], decided)}"
    if c["missed"]:
        return text + "。超时事项列示如下，请责任部门书面说明原因。"
    return text + "。"


def lateness_text(hours: float) -> str:
    """``2小时15分``, ``1天3小时``; ``不足1分钟`` for a miss of seconds (a miss is never shown as
    none); ``—`` for on time."""
    if hours <= 0:
        return "—"
    minutes = round(hours * 60)
    if minutes <= 0:
        return "不足1分钟"
    days, rest = divmod(minutes, 24 * 60)
    h, m = divmod(rest, 60)
    if days:
        return f"{days}天{h}小时" if h else f"{days}天"
    if h:
        return f"{h}小时{m}分" if m else f"{h}小时"
    return f"{m}分钟"

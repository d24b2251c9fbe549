"""The briefing's 预控处置意见 and 下一步工作, drafted from what is still open.

The rules ask the regular meeting to give its opinion on prevention and handling and to set the
next steps. The system cannot decide them, but it knows what is open: stories not yet closed and
where each stands, duties running against a clock, tasks the offices have not finished. From those
:func:`draft` writes one paragraph per item for the office to reword (``yuqing report edit``)
before the 组长 approves the briefing (:mod:`alerting.reviews`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from alerting.briefing.data import LEVEL_NAMES, DeadlineRecord, StoryLine
from alerting.config import STATE_LABELS
from alerting.store.models import Task
from pipeline.records import beijing_minute

__all__ = ["SECTIONS", "draft"]

#: the drafted sections, by the key an edit names, with their headings
SECTIONS = {"measures": "预控处置意见", "next_steps": "下一步工作"}

#: what a story needs next, by its workflow state (the label the briefing shows)
_ADVICE = {
    STATE_LABELS["new"]: "尚未研判，请{office}立即研判定级，按规定时限报告",
    STATE_LABELS["judged"]: "已初步研判，请{office}视情预警相关部门，防止事态扩大",
    STATE_LABELS["warned"]: "已预警，请相关部门核实情况并按时反馈",
    STATE_LABELS["verifying"]: "正在核实，请核实部门在时限内报告核实结果",
    STATE_LABELS["deep_judged"]: "已深度研判，请{office}提出处置意见报协调小组审定",
    STATE_LABELS["proposed"]: "处置意见待协调小组审定，审定后即按意见处置",
    STATE_LABELS["handling"]: "正在处置上报，请跟踪传播走势，适时发布权威信息、回应社会关切",
}


def _measure(story: StoryLine) -> str:
    advice = _ADVICE.get(story.state, "请{office}跟踪办理").format(office=story.office or "责任部门")
    text = f"“{story.title}”（{LEVEL_NAMES[story.level]}，{story.state}）：{advice}"
    if story.deadline_status == "missed":
        text += "；已超过时限，请书面说明原因"
    elif story.deadline_status == "open" and story.deadline is not None:
        text += f"；时限至{beijing_minute(story.deadline)}"
    return text + "。"


def draft(stories: Sequence[StoryLine], deadlines: Sequence[DeadlineRecord], open_tasks: Sequence[Task],
          now: datetime) -> dict[str, list[str]]:
    """``{'measures': [...], 'next_steps': [...]}``: one paragraph per open story for 预控处置意见;
    tasks by office, duties still in time and the stories to follow for 下一步工作."""
    open_stories = [s for s in stories if s.open]
    measures = [_measure(s) for s in open_stories] or [
        "本期无在办重要舆情。请各部门保持日常监测，发现苗头性、倾向性问题及时报告。"]
    steps = []
    by_office: dict[str, list[Task]] = defaultdict(list)
    for task in open_tasks:
        by_office[task.office].append(task)
    for office, tasks in sorted(by_office.items()):
        overdue = sum(1 for t in tasks if t.due_at < now)
        first = min(t.due_at for t in tasks)
        text = f"{office}办结在办任务{len(tasks)}项"
        text += f"（其中超期{overdue}项，请即办结并说明原因）" if overdue else f"（最早于{beijing_minute(first)}到期）"
        steps.append(text + "。")
    running = [d for d in deadlines if d.status == "open"]
    if running:
        steps.append(f"按时完成尚在时限内的上报、核实事项{len(running)}项，"
                     f"最近一项于{beijing_minute(min(d.due for d in running))}到期。")
    if open_stories:
        steps.append(f"持续跟踪{len(open_stories)}起在办重要舆情，处置完毕及时结报。")
    steps.append("继续做好日常监测，发现涉纪检监察舆情按规定时限报告。")
    return {"measures": measures, "next_steps": steps}

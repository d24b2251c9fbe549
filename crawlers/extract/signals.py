"""What a page says about a post besides its text: how far it spread, and how a complaint on a
message board (留言板, 问政, 12345) was handled.

* :func:`find_spread` reads the counters a post's tool bar shows (转发 12 评论 30 赞 88,
  阅读(1203), 点击：2301 回复：16, 128 人赞同) as ``{"reposts", "comments", "likes", "reads"}``.
  Only short lines that are not sentences count, and only around the post: the counters of
  comments and of related items further down belong to them.
* :func:`find_board` reads a message-board post's handling: its status (已回复 / 未回复 / 办理中),
  the unit that replied or handles it and when it replied; :func:`board_text` the complaint's
  own text under its label (留言内容, 诉求内容 ...), which boards print before a reply that is
  often longer. :meth:`BoardStatus.head` is the line
  put at the head of the article's text, where the classifier reads it: a complaint left
  unanswered is a signal of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawlers.normalize.dates import date_matches, parse_published_detail

__all__ = ["SPREAD_KEYS", "find_spread", "BoardStatus", "find_board", "spread_of_text", "board_text"]

SPREAD_KEYS = ("reposts", "comments", "likes", "reads")
_LABELS = {
    "reposts": r"转发|轉發|转载|轉載|分享",
    "comments": r"评论|評論|回复|回覆|回帖|跟帖|留言",
    "likes": r"点赞|點讚|点赞数|赞同|贊同|喜欢|喜歡|在看|赞|讚|顶",
    "reads": r"阅读量|閱讀量|阅读|閱讀|浏览次数|瀏覽次數|浏览量|浏览|瀏覽|点击数|點擊數|点击|點擊|播放量|播放|观看|觀看|人气|人氣",
}
_NUMBER = r"(\d[\d,]*(?:\.\d+)?)\s*([万萬wW千kK亿億])?\+?"
_AFTER = {key: re.compile(r"(?:" + words + r")\s*(?:数|次数)?\s*[:：(（\[]?\s*" + _NUMBER) for key, words in _LABELS.items()}
_BEFORE = {key: re.compile(_NUMBER + r"\s*(?:人|次|条|條|个|個)\s*(?:" + words + r")") for key, words in _LABELS.items()}
_SCALE = {"万": 10_000, "萬": 10_000, "w": 10_000, "W": 10_000, "千": 1_000, "k": 1_000, "K": 1_000,
          "亿": 100_000_000, "億": 100_000_000}
_DIGIT = re.compile(r"\d")
_ALONE = re.compile(r"\s*" + _NUMBER + r"\s*")  # a line that is a count and nothing else
_SENTENCE = re.compile(r"[。！？!?]")
_TOOLBAR_MAX = 80


def _count(number: str, scale: str | None) -> int:
    return int(float(number.replace(",", "")) * _SCALE.get(scale or "", 1))


def find_spread(lines: list[str], start: int = 0, end: int | None = None) -> dict[str, int]:
    """The spread counters shown on ``lines[start:end]`` (the post's header and tool bar)."""
    found: dict[str, int] = {}
    shown = lines[max(start, 0):end]
    for at, line in enumerate(shown):
        if len(line) > _TOOLBAR_MAX or _SENTENCE.search(line):
            continue
        if at + 1 < len(shown) and not _DIGIT.search(line) and _ALONE.fullmatch(shown[at + 1]):
            # a table's label cell and its value cell are lines of their own: 浏览次数： | 35820
            line = f"{line} {shown[at + 1]}"
        for key in SPREAD_KEYS:
            if key in found:
                continue
            match = _AFTER[key].search(line) or _BEFORE[key].search(line)
            if match:
                found[key] = _count(match.group(1), match.group(2))
    return found


def spread_of_text(text: str) -> dict[str, int]:
    """The spread counters in a feed entry's text (its last tool-bar-like lines only)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return find_spread(lines, max(len(lines) - 3, 0))


# -- message boards ----------------------------------------------------------------------------

_STATUS = {
    "已回复": "已回复", "已答复": "已回复", "已办结": "已回复", "已回覆": "已回复", "已辦結": "已回复",
    "已处理": "已回复", "已處理": "已回复", "已解决": "已回复",
    "未回复": "未回复", "未答复": "未回复", "待回复": "未回复", "未回覆": "未回复", "待答复": "未回复",
    "未受理": "未回复", "待受理": "未回复", "待处理": "未回复",
    "办理中": "办理中", "處理中": "办理中", "处理中": "办理中", "辦理中": "办理中", "已受理": "办理中",
    "已转办": "办理中", "已轉辦": "办理中", "转办中": "办理中",
}
_STATUS_WORDS = "|".join(sorted(_STATUS, key=len, reverse=True))
_STATUS_LABELLED = re.compile(r"(?:办理状态|辦理狀態|回复状态|回覆狀態|答复状态|处理状态|處理狀態|留言状态|"
                              r"诉求状态|状态|狀態)\s*[:：]?\s*[【\[]?(" + _STATUS_WORDS + r")")
_STATUS_LABEL_END = re.compile(r"(?:办理状态|辦理狀態|回复状态|回覆狀態|答复状态|处理状态|處理狀態|留言状态|"
                               r"诉求状态|状态|狀態)\s*[:：]?\s*$")
_STATUS_BADGE = re.compile(r"^[【\[（(]?(" + _STATUS_WORDS + r")[】\]）)]?$")
_UNIT_LABEL = (r"回复单位|答复单位|回覆單位|办理单位|辦理單位|承办单位|承辦單位|回复部门|答复部门|回复机构|"
               r"答复机构|处理单位|處理單位|受理单位|受理單位")
_UNIT = re.compile(r"(?:" + _UNIT_LABEL + r")\s*[:：]\s*(.{2,40}?)\s*(?=$|\s{2,}|回复时间|答复时间|办理时间|"
                   r"回覆時間|[|｜])")
_UNIT_ALONE = re.compile(r"(?:" + _UNIT_LABEL + r")\s*[:：]?\s*$")
_REPLY_TIME = re.compile(r"(?:回复时间|答复时间|回覆時間|答覆時間|办结时间|辦結時間|回复日期|答复日期)\s*[:：]?\s*$")
_BOARD_WINDOW = 60


@dataclass(frozen=True)
class BoardStatus:
    """How a message-board post was handled: ``status`` one of 已回复 / 未回复 / 办理中;
    ``unit`` the replying or handling unit, ``replied`` the reply time as written (both may be "")."""

    status: str
    unit: str = ""
    replied: str = ""

    def head(self) -> str:
        """The line put before the post's text: 【办理状态：已回复｜答复单位：…｜答复时间：…】."""
        parts = [f"办理状态：{self.status}"]
        if self.unit:
            parts.append(("答复单位：" if self.status == "已回复" else "办理单位：") + self.unit)
        if self.replied:
            parts.append(f"答复时间：{self.replied}")
        return "【" + "｜".join(parts) + "】"


def find_board(lines: list[str], start: int = 0, end: int | None = None,
               badges_until: int | None = None) -> BoardStatus | None:
    """The handling of the message-board post shown on ``lines[start:end]``, or None when the
    lines show no status, replying unit or reply time (not a board post).

    A status word standing alone (a badge: ``已回复``) counts only up to ``badges_until`` (the
    post's header): further down, lists of other posts show theirs."""
    window = lines[max(start, 0):end if end is not None else start + _BOARD_WINDOW]
    last_badge = len(window) if badges_until is None else badges_until - max(start, 0)
    status = unit = replied = ""
    for i, line in enumerate(window):
        previous = window[i - 1] if i > 0 else ""
        if not status:
            match = _STATUS_LABELLED.search(line) if len(line) <= 120 else None
            badge = _STATUS_BADGE.match(line)
            # a badge under its label in the next cell, or a badge in the post's header
            match = match or (badge if badge and (i <= last_badge or _STATUS_LABEL_END.search(previous))
                              else None)
            if match:
                status = _STATUS[match.group(1)]
        if not unit:
            match = _UNIT.search(line)
            if match:
                unit = match.group(1).strip()
            elif _UNIT_ALONE.search(previous) and 2 <= len(line) <= 40:
                unit = line
        if not replied:
            replied = _reply_time(line, previous)
    if not status and (unit or replied):
        status = "已回复"  # a reply shown with its unit and time, under no status label
    if not status:
        return None
    return BoardStatus(status, unit, replied if status == "已回复" else "")


def _reply_time(line: str, previous: str) -> str:
    for match in date_matches(line):
        before = line[: match.start()]
        if _REPLY_TIME.search(before[-12:]) or (not before.strip() and _REPLY_TIME.search(previous)):
            parsed = parse_published_detail(match.group(0))
            if parsed is None:
                return ""
            return parsed.value.strftime("%Y-%m-%d %H:%M" if parsed.has_time else "%Y-%m-%d")
    return ""


_TEXT_LABEL = re.compile(r"^(?:留言内容|留言內容|诉求内容|訴求內容|来信内容|來信內容|问题内容|問題內容|咨询内容|"
                         r"投诉内容|投訴內容|问题描述|問題描述|反映内容|反映內容|内容|內容)\s*[:：]?\s*")
_TEXT_STOP = re.compile(r"^(?:回复内容|答复内容|回覆內容|答覆內容|回复意见|答复意见|回复|答复|回覆|答覆|办理结果|"
                        r"辦理結果|处理结果|處理結果|办理情况|评价|評價|满意度|滿意度|附件|相关留言|相關留言|"
                        r"网友评论|網友評論|" + _UNIT_LABEL + r"|" + _STATUS_WORDS + r")")


def board_text(lines: list[str], start: int = 0, end: int | None = None) -> list[str]:
    """The lines of the post's own text under its label on a board page, up to the reply or the
    handling details; [] when no such label is on ``lines[start:end]``."""
    window = lines[max(start, 0):end if end is not None else start + _BOARD_WINDOW]
    for i, line in enumerate(window):
        match = _TEXT_LABEL.match(line)
        if match is None:
            continue
        rest = line[match.end():].strip()
        if match.group(0).strip() in ("内容", "內容") and rest:
            continue  # a bare "内容" label must stand alone
        text = [rest] if rest else []
        for following in window[i + 1:]:
            if _TEXT_STOP.match(following):
                break
            text.append(following)
        if sum(len(t) for t in text) >= 10:
            return text
    return []

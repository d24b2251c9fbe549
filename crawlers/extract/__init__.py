"""Main-text extraction: title, body, publication time and author of one article page.

    extract_article(html, url, selectors=None) -> Extracted

With ``selectors`` (a source's CSS or XPath for ``title``, ``body``, ``date``, ``author``) those
win wherever they match; everything they leave out is found automatically:

    body       crawlers.extract.body       content block by layout, else trafilatura; then cleaned
    title      crawlers.extract.title      visible heading that agrees with the page's metadata,
                                           else the one nearest above the body
    published  crawlers.extract.published  visible date line near the title, else metadata
    signals    crawlers.extract.signals    spread counters around the post; a message board's
                                           handling, put at the head of the text

The body's block is chosen first because where the text starts says which heading is its title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from crawlers.extract.body import choose_block, find_body
from crawlers.extract.html import page_lines, parse_html, squash
from crawlers.extract.published import find_published
from crawlers.extract.selectors import SelectorError, apply_selectors
from crawlers.extract.signals import BoardStatus, board_text, find_board, find_spread
from crawlers.extract.title import find_title
from crawlers.normalize.clean import clean_lines, is_prose
from crawlers.normalize.dates import parse_published_detail

__all__ = ["Extracted", "extract_article", "SelectorError", "BoardStatus"]


@dataclass(frozen=True)
class Extracted:
    """What was found on one page.

    ``content`` is the main text, paragraphs separated by ``\\n``; ``published`` is tz-aware
    (midnight when ``published_has_time`` is false: the page shows only the day); ``method``
    says how the body was found (``selectors``, ``block``, ``trafilatura`` or ``none``).
    ``spread`` holds the counters the post shows (``reposts``, ``comments``, ``likes``, ``reads``);
    ``board`` the handling of a message-board post, whose :meth:`BoardStatus.head` then opens
    ``content``.
    """

    title: str
    content: str
    published: datetime | None
    author: str | None
    method: str
    published_has_time: bool = False
    spread: dict[str, int] = field(default_factory=dict)
    board: BoardStatus | None = None


_BRACKET_HEADLINE = re.compile(r"^【([^】]{6,80})】")
# A personal name after a byline label: two or three characters, not the start of a longer word
# (记者邱某某桃园19日电 would otherwise give a name with a place glued on).
_AUTHOR = re.compile(r"(?:作者|记者|記者|撰文|撰稿)\s*[:：/／]?\s*"
                     r"([\u4e00-\u9fff·]{2,3}(?![\u4e00-\u9fff])|[A-Za-z][A-Za-z .]{1,30})")


def extract_article(html: str, url: str, selectors: dict | None = None,
                    now: datetime | None = None) -> Extracted:
    """Extract the article on ``html`` (already decoded; see ``crawlers.normalize.encoding``).

    ``url`` names the page in errors and helps trafilatura; ``now`` anchors relative times
    (``3小时前``). Raises :class:`SelectorError` (naming the URL and the field) only for a
    selector that does not compile; a selector that matches nothing falls back to automatic.
    """
    tree = parse_html(html)
    chosen = apply_selectors(tree, selectors or {}, url)
    page = page_lines(tree)  # the whole tree: broken pages leave the article outside <body>
    lines = page.lines
    block, method = (None, "selectors") if chosen.get("body") else choose_block(tree)
    text_line = _first_prose(lines, page.line_of(block)) if block is not None else -1
    found = find_title(tree, page, text_line)
    title = chosen.get("title") or found.text
    if chosen.get("body"):
        content = chosen["body"]
    else:
        content, method = find_body(tree, html, url, title, block, method)
    if text_line < 0 and content and not chosen.get("title"):
        # no block placed the text (trafilatura found it): place it by its first line instead
        text_line = _anchors(lines, "", content)[1]
        if text_line >= 0:
            found = find_title(tree, page, text_line)
            title = found.text
    if not title or title.endswith(("...", "…")):
        headline = _BRACKET_HEADLINE.match(content)
        if headline:  # microblog posts: the 【headline】 opening the post is the title
            title = headline.group(1)
    title_at, body_at = _anchors(lines, title, content, found.line if title == found.text else -1)
    start = max(title_at - 3, 0)
    board = find_board(lines, start, start + _BOARD_LINES, badges_until=max(body_at, title_at) + 3) \
        if content and not chosen.get("body") else None
    if board is not None:
        # a board prints the complaint under its label, then a reply that is often longer
        own = clean_lines(board_text(lines, start, start + _BOARD_LINES), title)
        if own:
            content = "\n".join(own)
            title_at, body_at = _anchors(lines, title, content, title_at)
    end = _body_end(lines, content, body_at)
    published = parse_published_detail(chosen["date"], now) if chosen.get("date") else None
    if published is None:
        published = find_published(tree, lines, title_at, body_at, now, end)
    header_end = body_at + 1 if body_at >= 0 else max(title_at, 0) + 6
    author = chosen.get("author") or _author(tree, lines[max(title_at, 0):header_end])
    if board is not None:
        content = board.head() + "\n" + content
    return Extracted(title=title, content=content,
                     published=published.value if published else None,
                     author=author, method=method,
                     published_has_time=bool(published and published.has_time),
                     spread=find_spread(lines, start, end + _TOOLBAR_AFTER), board=board)


_TOOLBAR_AFTER = 8  # lines after the text where a post's tool bar sits
_BOARD_LINES = 120  # lines from the title in which a board prints the post, its status and reply


def _body_end(lines: list[str], content: str, body_at: int) -> int:
    """Index of the page line holding the last line of ``content`` (the body's start if unknown)."""
    if body_at < 0:
        return -1
    last = content.rsplit("\n", 1)[-1][:15]
    return next((i for i in range(len(lines) - 1, body_at - 1, -1) if last and last in lines[i]), body_at)


def _first_prose(lines: list[str], start: int) -> int:
    """The first line of running text at or after ``start`` (-1 when ``start`` is unknown)."""
    if start < 0:
        return -1
    return next((i for i in range(start, min(len(lines), start + 200)) if is_prose(lines[i])), start)


def _anchors(lines: list[str], title: str, content: str, title_line: int = -1) -> tuple[int, int]:
    """Indexes of the title line and of the first body line among the page's lines (-1: absent)."""
    title_key = squash(title).replace(" ", "")[:12]
    title_at = title_line if title_line >= 0 else next(
        (i for i, line in enumerate(lines) if title_key and title_key in line.replace(" ", "")), -1)
    first = content.split("\n", 1)[0][:15]
    body_at = next((i for i, line in enumerate(lines)
                    if i >= title_at and first and first in line), -1)
    return title_at, body_at


def _author(tree, header: list[str]) -> str | None:
    """A 作者/记者 label between the title and the body, else the author meta.

    The byline first because CMSs fill the author meta with the site, the CMS vendor or an
    editor's user number.
    """
    for line in header:
        match = _AUTHOR.search(line)
        if match and len(line) <= 120:
            return match.group(1).strip()
    for name in ("author", "article:author", "byline"):
        for el in tree.xpath(f"//meta[@name='{name}' or @property='{name}']"):
            value = squash(el.get("content") or "")
            if value and len(value) <= 20 and not re.search(r"^\d+$|https?:|team|inc\.|ltd", value, re.I):
                return value
    return None

"""Parsing and visible text: the lxml tree and the lines a reader sees, shared by every extractor.

Chinese CMSs split one sentence over several ``<span>``s and one heading over ``<br>``s, so text is
joined inline and broken only at block elements; lines are whitespace-collapsed.
"""

from __future__ import annotations

import bisect
import re

import lxml.html
from lxml import etree

__all__ = ["parse_html", "element_lines", "element_text", "squash", "BLOCK_TAGS", "INVISIBLE_TAGS",
           "PageLines", "page_lines", "is_hidden"]

BLOCK_TAGS = frozenset(
    "p div br h1 h2 h3 h4 h5 h6 li ul ol tr td th table title section article header footer aside "
    "nav dd dt dl blockquote pre hr form figure figcaption center main caption tbody thead".split()
)
INVISIBLE_TAGS = frozenset("script style noscript template textarea select option iframe svg "
                           "button input object embed canvas video audio head".split())
_WS = re.compile(r"[ \t\r\n\f\v\u00a0\u3000\u200b\ufeff]+")


def squash(text: str) -> str:
    """Whitespace runs (including full-width and no-break spaces) to one space, stripped."""
    return _WS.sub(" ", text or "").strip()


def parse_html(html: str) -> etree._Element:
    """An lxml tree for ``html`` (any junk tolerated); an empty document for empty input.

    An XML declaration is removed first because lxml refuses one on a ``str``.
    """
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", html or "")
    if not text.strip():
        return lxml.html.fromstring("<html><body></body></html>")
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return lxml.html.fromstring("<html><body></body></html>")
    # Markup after a stray </html> becomes siblings of the root that iter() never visits; some
    # government pages keep the whole article there. Move them into <body>.
    strays = [el for el in root.itersiblings() if isinstance(el.tag, str)]
    if strays:
        body = root.find("body")
        if body is None:
            body = etree.SubElement(root, "body")
        for el in strays:
            body.append(el)
    return root


def is_hidden(el: etree._Element) -> bool:
    """True for an element its page hides (``display:none``, ``visibility:hidden``, ``hidden``)."""
    style = (el.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style or el.get("hidden") is not None


def element_lines(el: etree._Element, skip: frozenset[str] = INVISIBLE_TAGS) -> list[str]:
    """The visible lines of ``el``: inline text joined, broken at block elements, non-empty."""
    return page_lines(el, skip).lines


class PageLines:
    """The visible lines of an element and where each descendant's text starts among them.

    ``lines`` are those of :func:`element_lines`; :meth:`line_of` gives the index of the line on
    which an element's text begins, so that extractors can say "the heading just above the body"
    in lines a reader sees rather than in markup.
    """

    def __init__(self, lines: list[str], starts: dict[etree._Element, int]):
        self.lines = lines
        self._starts = starts

    def line_of(self, el: etree._Element | None) -> int:
        """Index of the first line of ``el``'s text; -1 for None or an element that shows nothing."""
        return self._starts.get(el, -1) if el is not None else -1


def page_lines(el: etree._Element, skip: frozenset[str] = INVISIBLE_TAGS) -> PageLines:
    """:class:`PageLines` of ``el``: inline text joined, broken at block elements, non-empty."""
    parts: list[str] = []
    size = 0
    entered: list[tuple[etree._Element, int]] = []

    def add(text: str) -> None:
        nonlocal size
        parts.append(text)
        size += len(text)

    def walk(node: etree._Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if not tag or tag.lower() in skip or is_hidden(node):
            return  # comments, processing instructions, scripts, hidden blocks
        block = tag.lower() in BLOCK_TAGS
        if block:
            add("\n")
        entered.append((node, size))
        if node.text:
            add(node.text)
        for child in node:
            walk(child)
            if child.tail:
                add(child.tail)
        if block:
            add("\n")

    walk(el)
    text = "".join(parts)
    lines: list[str] = []
    ends: list[int] = []  # offset just past each kept line
    offset = 0
    for raw in text.split("\n"):
        line = squash(raw)
        offset += len(raw) + 1
        if line:
            lines.append(line)
            ends.append(offset - 1)
    starts: dict[etree._Element, int] = {}
    for node, at in entered:
        # the first kept line that ends after the element's text begins
        index = bisect.bisect_right(ends, at)
        if index < len(lines):
            starts[node] = index
    return PageLines(lines, starts)


def element_text(el: etree._Element) -> str:
    """All visible text of ``el`` on one line (a heading split by ``<br>`` joins up)."""
    return join_lines(element_lines(el))


def join_lines(lines: list[str]) -> str:
    """Lines as one: CJK fragments joined directly, a space kept between Latin words."""
    out = ""
    for line in lines:
        if out and re.match(r"[A-Za-z0-9]", line[:1]) and re.search(r"[A-Za-z0-9]$", out):
            out += " "
        out += line
    return out

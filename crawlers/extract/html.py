"""Parsing and visible text: the lxml tree and the lines a reader sees, shared by every extractor.

Chinese CMSs split one sentence over several ``<span>``s and one heading over ``<br>``s, so text is
joined inline and broken only at block elements; lines are whitespace-collapsed.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

__all__ = ["parse_html", "element_lines", "element_text", "squash", "BLOCK_TAGS", "INVISIBLE_TAGS"]

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


def _is_hidden(el: etree._Element) -> bool:
    style = (el.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style or el.get("hidden") is not None


def element_lines(el: etree._Element, skip: frozenset[str] = INVISIBLE_TAGS) -> list[str]:
    """The visible lines of ``el``: inline text joined, broken at block elements, non-empty."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if not tag or tag.lower() in skip or _is_hidden(node):
            return  # comments, processing instructions, scripts, hidden blocks
        block = tag.lower() in BLOCK_TAGS
        if block:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append("\n")

    walk(el)
    lines = (squash(line) for line in "".join(parts).split("\n"))
    return [line for line in lines if line]


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

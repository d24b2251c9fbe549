"""Per-source selectors (CSS or XPath) for title, body, date and author, applied with parsel.

A selector starting with ``/`` or ``(`` is XPath, anything else CSS. A selector may end in
``::text`` or ``::attr(name)`` (CSS) or ``/@attr`` (XPath) to take an attribute, e.g. a date in
``meta[name=PubDate]::attr(content)``.
"""

from __future__ import annotations

import lxml.html
from lxml import etree
from parsel import Selector

from crawlers.extract.html import element_lines, element_text, squash
from crawlers.normalize.clean import clean_lines
from pipeline.errors import YuqingError

__all__ = ["SelectorError", "apply_selectors", "FIELDS"]

FIELDS = ("title", "body", "date", "author")


class SelectorError(YuqingError):
    """A configured selector does not compile; the message names the URL, field and selector."""


def _is_xpath(selector: str) -> bool:
    return selector.lstrip().startswith(("/", "(", "./"))


def compile_check(field: str, selector: str, where: str = "") -> None:
    """Raise :class:`SelectorError` when ``selector`` is not valid CSS/XPath."""
    try:
        probe = Selector(text="<html></html>")
        probe.xpath(selector) if _is_xpath(selector) else probe.css(selector)
    except Exception as exc:  # parsel raises cssselect and lxml errors of several types
        raise SelectorError(f"{where or 'selectors'}: {field}: {selector!r} does not compile "
                            f"({exc}); check the CSS or XPath syntax") from None


def apply_selectors(tree: etree._Element, selectors: dict, url: str) -> dict[str, str]:
    """Text each configured field selects on the page; a field that selects nothing is absent."""
    if not selectors:
        return {}
    unknown = set(selectors) - set(FIELDS)
    if unknown:
        raise SelectorError(f"{url}: unknown selector field(s) {sorted(unknown)}; use {FIELDS}")
    page = Selector(root=tree, type="html")
    found: dict[str, str] = {}
    for field, selector in selectors.items():
        if not selector:
            continue
        compile_check(field, selector, url)
        nodes = page.xpath(selector) if _is_xpath(selector) else page.css(selector)
        value = _text_of(nodes, field)
        if value:
            found[field] = value
    return found


def _text_of(nodes, field: str) -> str:
    if not nodes:
        return ""
    root = nodes[0].root
    if isinstance(root, str):  # ::text, ::attr(), /@attr, text()
        joined = "" if field == "body" else " "
        return squash(joined.join(n.root for n in nodes if isinstance(n.root, str)))
    if field == "body":
        lines: list[str] = []
        for node in nodes:
            if isinstance(node.root, lxml.html.HtmlElement | etree._Element):
                lines.extend(element_lines(node.root))
        return "\n".join(clean_lines(lines))
    return element_text(root)

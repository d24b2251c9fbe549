"""From a fetched HTML page to what a source's configuration asks of it: an article, or links.

Used by the pollers (full text of feed entries, sitemap articles, ``sources test``) and by the
Scrapy spider alike, so a source behaves the same whichever path crawls it.

* :func:`decode_page` - bytes to text with normalisation's encoding rules (declared, sniffed,
  overridden by the source).
* :func:`extract_page` - title, body, date, author with ``crawlers.extract.extract_article``: the
  source's selectors where given, automatic extraction for the rest.
* :func:`list_links` - the article links of a list page and its next page.
* :func:`article_problem` - why what was read must not be published as an article (no text,
  garbled text); the crawler reports it against the source instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from crawlers.extract import extract_article
from crawlers.normalize.encoding import decode_html, garbled
from crawlers.sources import Extraction, split_selector

__all__ = ["PageArticle", "decode_page", "extract_page", "list_links", "article_problem"]


@dataclass(frozen=True)
class PageArticle:
    """An article read from a page. ``method`` says how: ``selectors``, ``auto`` or ``mixed``."""

    title: str
    content: str
    published: datetime | None
    author: str | None
    method: str
    #: the counters the post shows (reposts, comments, likes, reads), where the page gives them
    spread: dict[str, int] = field(default_factory=dict)


def decode_page(body: bytes, content_type: str | None, override: str | None) -> tuple[str, str]:
    """``(text, codec)``; never raises (undecodable bytes are replaced, and logged by the decoder)."""
    return decode_html(body, content_type, override)


def _select(root: Selector, expression: str):
    kind, expr = split_selector(expression)
    return root.xpath(expr) if kind == "xpath" else root.css(expr)


def _for_extractor(selector: str) -> str:
    """Our selector in the extractor's convention (XPath when it starts with ``/``, ``(``, ``./``)."""
    kind, expr = split_selector(selector)
    if kind == "xpath" and not expr.startswith(("/", "(", "./")):
        return f"({expr})"
    return expr


def extract_page(html: str, url: str, extraction: Extraction) -> PageArticle:
    """Read an article page: the source's selectors win wherever they match (generic extractors
    often find only the day, a selector gives the minute), automatic extraction does the rest.
    Raises ``crawlers.extract.SelectorError`` only for a selector that does not compile."""
    selectors = {name: _for_extractor(value) for name, value in (
        ("title", extraction.title), ("body", extraction.body), ("date", extraction.date),
        ("author", extraction.author)) if value}
    found = extract_article(html, url, selectors=selectors or None)
    return PageArticle(found.title or "", found.content or "", found.published, found.author,
                       found.method, found.spread)


_ARTICLE_PATH = re.compile(r"\d{4,}|/t\d+_|/art/|/content|/detail|/article|\.s?html?$", re.I)


def list_links(html: str, url: str, extraction: Extraction) -> tuple[list[str], str | None]:
    """The article links on a list page (absolute, in page order, without duplicates) and the
    next page's URL (None when there is none).

    With ``extraction.items`` the links are ``extraction.link`` inside each item; without it,
    every link on the same site whose text reads like a headline (8 characters or more) and whose
    path looks like an article's. The next page comes from ``extraction.next_page``, else a link
    whose text is 下一页/下页/next.
    """
    root = Selector(text=html, base_url=url)
    host = urlsplit(url).hostname
    found: list[str] = []
    if extraction.items:
        for item in _select(root, extraction.items):
            hrefs = _select(item, extraction.link or "a::attr(href)").getall()
            absolute = _absolute(url, hrefs[0]) if hrefs else None
            if absolute:
                found.append(absolute)
    else:
        for anchor in root.css("a[href]"):
            absolute = _absolute(url, anchor.attrib.get("href", ""))
            text = "".join(anchor.css("::text").getall()).strip() or anchor.attrib.get("title", "")
            if (absolute and len(text) >= 8 and urlsplit(absolute).hostname == host
                    and _ARTICLE_PATH.search(urlsplit(absolute).path)):
                found.append(absolute)
    links = list(dict.fromkeys(u for u in found if urlsplit(u).scheme in ("http", "https")))
    if extraction.next_page:
        nxt = _select(root, extraction.next_page).get()
    else:
        nxt = next((a.attrib.get("href") for a in root.css("a[href]")
                    if "".join(a.css("::text").getall()).strip() in ("下一页", "下页", "下一頁",
                                                                       "next", "Next", ">")), None)
    next_url = _absolute(url, nxt) if nxt else None
    return links, (next_url if next_url and next_url != url else None)


def _absolute(base: str, href: str) -> str | None:
    """``href`` resolved against ``base``, or None for one that is not a URL at all (``http://[::1``
    raises in urljoin: one broken link must not lose the page; found by fuzzing)."""
    try:
        absolute = urljoin(base, href.strip())
        urlsplit(absolute).hostname  # noqa: B018 - raises ValueError on a broken host
    except ValueError:
        return None
    return absolute


def article_problem(title: str, content: str, from_page: bool) -> tuple[str, str] | None:
    """``(event, what to do)`` when an article read from a source must not be published, else
    None. ``from_page``: the text was extracted from an article page (a feed entry may carry a
    title alone; a page whose text could not be found must not pass as an article).

    Events, a fixed set: ``page_empty`` (no title, no text), ``page_no_text`` (a title but no
    text: a page the extractor could not read, e.g. one nested a hundred thousand tags deep),
    ``text_garbled`` (replacement characters or mojibake: the wrong encoding).
    """
    if not (title or content):
        return "page_empty", "no title and no text found; check the source's selectors"
    if from_page and not content.strip():
        return "page_no_text", ("a title but no text found; check the source's body selector, "
                                "or whether the page is readable at all")
    why = garbled(f"{title}\n{content}")
    if why:
        return "text_garbled", (f"{why}; set the source's 'encoding' to the one the site really "
                                "uses (e.g. gb18030)")
    return None

"""The main text of a page: a content block found by layout, or trafilatura, then cleaned.

Chinese CMSs put the article in a block whose class or id names it (TRS_Editor, article-content,
#zoom, Discuz ``postmessage_*``, ``itemprop=articleBody`` ...). Such blocks are scored by the amount
of non-link text they hold; the best one is used when it clearly holds an article, otherwise
trafilatura decides. Either way :func:`crawlers.normalize.clean.clean_lines` removes the furniture.
"""

from __future__ import annotations

import copy
import re

from lxml import etree

from crawlers.extract.html import BLOCK_TAGS, element_lines, squash
from crawlers.normalize.clean import clean_lines

__all__ = ["find_body", "content_blocks"]

# Class/id words that CMS templates use for the article block. General, not per site.
_CONTENT_HINT = re.compile(
    r"TRS_Editor|TRS_UEDITOR|Custom_UnionStyle|article[-_]?(?:content|body|text|main|con|detail)|"
    r"^article$|content[-_]?(?:text|body|main|detail|con|article)|^content$|zoom|postmessage|"
    r"t_f\b|post[-_]?(?:content|body|text)|entry[-_]?content|main[-_]?text|text[-_]?content|"
    r"news[-_]?(?:content|text|body|txt|con|detail)|art[-_]?(?:con|text|body)|story[-_]?body|"
    r"rich_media_content|detail[-_]?(?:content|text|con|body)|^detail$|contentText|wz_?con|"
    r"^txt$|^text$|RichText|WB_text|weibo-text|caas|paragraph|pages_content|^con_?text",
    re.I,
)
# Matched against whole class words or their dash/underscore parts: "CopyrightRichText" is content.
_NOT_CONTENT_HINT = re.compile(r"(?:^|[-_])(?:comments?|reply|replies|footer|sidebar|side|related|"
                               r"recommend|hot|nav|menu|share|copyright|ad|ads|banner|login|header)"
                               r"(?:$|[-_])", re.I)
_MIN_BLOCK_CHARS = 40


def content_blocks(tree: etree._Element) -> list[etree._Element]:
    """Elements whose class, id or itemprop marks them as an article's main text, in page order."""
    found = []
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag in ("body", "html", "a", "img", "meta", "input",
                                                      "button", "script", "style"):
            continue
        if el.get("itemprop") == "articleBody":
            found.append(el)
            continue
        hint = " ".join(filter(None, (el.get("class"), el.get("id"))))
        if hint and any(_CONTENT_HINT.search(word) for word in hint.split()) and \
                not any(_NOT_CONTENT_HINT.search(word) for word in hint.split()):
            found.append(el)
    return found


def _text_chars(el: etree._Element) -> tuple[int, int]:
    """(visible characters, characters inside links) of a block."""
    total = sum(len(line) for line in element_lines(el))
    linked = sum(len(squash(a.text_content())) for a in el.iter("a"))
    return total, linked


def _block_score(el: etree._Element) -> float:
    total, linked = _text_chars(el)
    if total < _MIN_BLOCK_CHARS:
        return 0.0
    link_density = linked / total
    if link_density > 0.5:
        return 0.0
    lines = element_lines(el)
    prose = sum(len(line) for line in lines if re.search(r"[。！？；]", line) or len(line) > 60)
    return prose * (1 - link_density)


def best_block(tree: etree._Element) -> etree._Element | None:
    """The content block holding the most running text, or None when no block qualifies.

    Among nested blocks an inner one that keeps nearly all the outer block's prose wins, so
    the share bar and byline the outer block carries stay outside.
    """
    scored = [(el, _block_score(el)) for el in content_blocks(tree)]
    scored = [(el, s) for el, s in scored if s > 0]
    if not scored:
        return None
    top = max(s for _, s in scored)
    good = [(el, s) for el, s in scored if s >= 0.8 * top]
    # The innermost good block: it has no good block nested inside it.
    for el, _ in sorted(good, key=lambda pair: -_depth(pair[0])):
        return el
    return None


def _depth(el: etree._Element) -> int:
    return sum(1 for _ in el.iterancestors())


_CONTAINERS = ("div", "article", "section", "td", "main", "span", "font", "center")
_PARAGRAPHS = ("p", "div", "td", "li", "section", "font", "span", "blockquote", "pre")


def densest_block(tree: etree._Element) -> etree._Element | None:
    """The element that holds the most running text in its paragraphs (readability's idea).

    Each paragraph's prose (sentences, not link text) counts fully for its parent and half for
    its grandparent, so the article's container wins over both a single paragraph and the page.
    """
    scores: dict[etree._Element, float] = {}
    for para in tree.iter(*_PARAGRAPHS):
        own = _own_prose(para)
        if own < 20 or any(a.tag == "a" for a in para.iterancestors()):
            continue  # teaser lists wrap whole paragraphs in links; they are not the article
        parent = para.getparent()
        for ancestor, weight in ((parent, 1.0), (parent.getparent() if parent is not None else None, 0.5)):
            if ancestor is not None and isinstance(ancestor.tag, str) and ancestor.tag in _CONTAINERS:
                scores[ancestor] = scores.get(ancestor, 0.0) + own * weight
    if not scores:
        return None
    best, score = max(scores.items(), key=lambda item: item[1])
    return best if score >= _MIN_BLOCK_CHARS * 2 else None


def _own_prose(para: etree._Element) -> int:
    """Characters of sentence text directly in ``para`` (its text, inline children, tails)."""
    parts = [para.text or ""]
    for child in para:
        if isinstance(child.tag, str) and child.tag.lower() not in BLOCK_TAGS and child.tag != "a":
            parts.append(child.text_content() or "")
        parts.append(child.tail or "")
    text = squash("".join(parts))
    return len(text) if re.search(r"[。！？；，,]", text) else 0


def trafilatura_text(html: str, url: str | None = None) -> str:
    """trafilatura's main text with default settings, or "" when it finds none."""
    # deferred: trafilatura takes about 0.15 s to import, and most pages never fall back to it
    import trafilatura

    return trafilatura.extract(html, url=url, include_comments=False) or ""


def find_body(tree: etree._Element, html: str, url: str | None, title: str) -> tuple[str, str]:
    """``(main text, method)``: paragraphs separated by newlines; method ``block`` (a content
    block named by its markup), ``density`` (the densest text container), ``trafilatura``, or
    ``none`` when nothing held text."""
    for block, method in ((best_block(tree), "block"), (densest_block(tree), "density")):
        if block is None:
            continue
        lines = clean_lines(element_lines(_without_noise(block)), title)
        if sum(len(line) for line in lines) >= _MIN_BLOCK_CHARS:
            return "\n".join(lines), method
    text = trafilatura_text(html, url)
    lines = clean_lines([squash(line) for line in text.splitlines() if squash(line)], title)
    return ("\n".join(lines), "trafilatura") if lines else ("", "none")


def _without_noise(block: etree._Element) -> etree._Element:
    """A copy of ``block`` without nested comment, share and related-link boxes."""
    block = copy.deepcopy(block)
    for el in list(block.iter()):
        if el is block or not isinstance(el.tag, str):
            continue
        hint = " ".join(filter(None, (el.get("class"), el.get("id"))))
        noisy = el.tag == "figcaption" or (hint and any(_NOT_CONTENT_HINT.search(w) for w in hint.split()))
        if noisy and el.getparent() is not None:
            el.getparent().remove(el)
    return block

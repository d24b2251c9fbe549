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

from crawlers.extract.html import BLOCK_TAGS, element_lines, element_text, squash
from crawlers.normalize.clean import clean_lines

__all__ = ["find_body", "content_blocks", "choose_block", "block_lines", "best_block", "densest_block"]

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


def _block_score(el: etree._Element) -> float:
    lines = element_lines(el)
    total = sum(len(line) for line in lines)
    if total < _MIN_BLOCK_CHARS:
        return 0.0
    link_density = sum(len(squash(a.text_content())) for a in el.iter("a")) / total
    if link_density > 0.5:
        return 0.0
    prose = sum(len(line) for line in lines if re.search(r"[。！？；]", line) or len(line) > 60)
    return prose * (1 - link_density)


def best_block(tree: etree._Element) -> etree._Element | None:
    """The content block holding the most running text, or None when no block qualifies.

    Among nested blocks an inner one that keeps nearly all the outer block's prose wins, so
    the share bar and byline the outer block carries stay outside. Among repeated blocks of one
    kind (the posts of a thread) the first wins: it is the post the thread is about.
    """
    scored = [(el, _block_score(el)) for el in content_blocks(tree)]
    scored = [(el, s) for el, s in scored if s > 0]
    if not scored:
        return None
    top = max(s for _, s in scored)
    good = [(el, s) for el, s in scored if s >= 0.8 * top]
    # The innermost good block: it has no good block nested inside it.
    chosen = max(good, key=lambda pair: _depth(pair[0]))[0]
    return _first_post(chosen, scored)


_POST_HINT = re.compile(r"post|message|tpc|floor|reply|t_f|d_post|postbody", re.I)


def _first_post(chosen: etree._Element, scored: list) -> etree._Element:
    """The first of the repeated post blocks ``chosen`` belongs to, or ``chosen`` itself."""
    kind = (chosen.tag, chosen.get("class") or "")
    if not _POST_HINT.search(f"{kind[1]} {chosen.get('id') or ''}"):
        return chosen
    for el in content_blocks(chosen.getroottree().getroot()):
        if el is chosen:
            break
        if (el.tag, el.get("class") or "") == kind and sum(len(line) for line in element_lines(el)) >= 10:
            return el
    return chosen


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


def choose_block(tree: etree._Element) -> tuple[etree._Element | None, str]:
    """``(block, method)``: the content block named by its markup (``block``), else the densest
    text container (``density``), else ``(None, "none")``. Blocks with almost no text are passed
    over."""
    for block, method in ((best_block(tree), "block"), (densest_block(tree), "density")):
        if block is not None and sum(len(line) for line in element_lines(block)) >= _MIN_BLOCK_CHARS:
            return block, method
    return None, "none"


def block_lines(block: etree._Element) -> tuple[list[str], set[str]]:
    """The visible lines of ``block`` without nested comment, share, summary and author boxes,
    and the texts of its emphasised lines (headings, paragraphs wholly in bold): the sub-heads."""
    clean = _without_noise(block)
    return element_lines(clean), _subheads(clean)


_BOLD = re.compile(r"font-weight\s*:\s*(?:bold|[6-9]00)", re.I)


def _subheads(block: etree._Element) -> set[str]:
    found = set()
    for el in block.iter("h2", "h3", "h4", "h5", "h6", "p", "div", "td", "section"):
        if len(el.text_content()) > 200:
            continue  # a container, not a line (text_content is cheap, element_text is not)
        text = element_text(el)
        if not text or len(text) > 40:
            continue
        if el.tag.startswith("h") or _BOLD.search(el.get("style") or ""):
            found.add(text)
            continue
        strong = [c for c in el.iter("strong", "b") if c is not el]
        if strong and any(element_text(c) == text for c in strong):
            found.add(text)
    return found


def find_body(tree: etree._Element, html: str, url: str | None, title: str,
              block: etree._Element | None = None, method: str = "") -> tuple[str, str]:
    """``(main text, method)``: paragraphs separated by newlines; method ``block`` (a content
    block named by its markup), ``density`` (the densest text container), ``trafilatura``, or
    ``none`` when nothing held text. ``block``/``method`` from :func:`choose_block` when the
    caller already chose."""
    if block is None:
        block, method = choose_block(tree)
    if block is not None:
        lines, subheads = block_lines(block)
        lines = clean_lines(lines, title, subheads)
        if sum(len(line) for line in lines) >= _MIN_BLOCK_CHARS:
            return "\n".join(lines), method
    text = trafilatura_text(html, url)
    lines = clean_lines([squash(line) for line in text.splitlines() if squash(line)], title)
    return ("\n".join(lines), "trafilatura") if lines else ("", "none")


# Boxes inside an article block that are not the article: a summary above it, the author's card.
_BOX_HINT = re.compile(r"(?:^|[-_])(?:summary|abstract|digest|zhaiyao|zy|daodu|author|profile|"
                       r"userinfo|user|avatar|follow|card)(?:$|[-_])", re.I)
_INLINE = frozenset("a span em strong b i u font small big sup sub abbr label code cite q s "
                    "strike ins del mark time var kbd".split())


def _without_noise(block: etree._Element) -> etree._Element:
    """A copy of ``block`` without nested comment, share, related-link, summary and author boxes.

    Only block-level elements go: a keyword link or a span whose class happens to say ``hot`` or
    ``share`` is part of a sentence. The text after a removed element (its tail) stays.
    """
    block = copy.deepcopy(block)
    for el in list(block.iter()):
        if el is block or not isinstance(el.tag, str) or el.tag.lower() in _INLINE:
            continue
        hint = " ".join(filter(None, (el.get("class"), el.get("id"))))
        words = hint.split()
        noisy = el.tag == "figcaption" or any(_NOT_CONTENT_HINT.search(w) or _BOX_HINT.search(w)
                                               for w in words)
        if noisy and el.getparent() is not None and not _holds_most(el, block):
            _drop_keeping_tail(el)
    return block


def _holds_most(el: etree._Element, block: etree._Element) -> bool:
    """The element holds most of the block's text: it is the article, whatever its class says."""
    inner = len(squash(el.text_content()))
    return inner >= 0.5 * max(len(squash(block.text_content())), 1)


def _drop_keeping_tail(el: etree._Element) -> None:
    # lxml's remove() takes the element's tail (the text after it) along: keep it.
    parent = el.getparent()
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)

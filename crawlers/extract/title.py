"""The article title: the heading the page shows, not ``<title>`` with the site name.

Candidates are the visible headings (h1-h3, elements whose class or id says title/headline), the
``og:title`` / ``ArticleTitle`` metas and ``<title>`` split at its separators (``_``, `` - ``,
``|``, ``——``). A visible heading that agrees with a meta or ``<title>`` wins; metas are only a
fallback because CMSs fill them from a different field (another wording, escaped markup, or only
the column name).
"""

from __future__ import annotations

import html as htmllib
import re
from difflib import SequenceMatcher

from lxml import etree

from crawlers.extract.html import element_lines, element_text, join_lines, squash

__all__ = ["find_title", "title_candidates"]

_SEPARATORS = re.compile(r"\s*(?:_|\s-\s|\s–\s|\s—\s|——+|-{2,}|\s\|\s|｜|\s::\s)\s*")
_COUNTERS = re.compile(r"^\(\s*[\d+]+\s*[^)]{0,20}\)\s*")  # "(99+ 封私信 / 87 条消息) "
_TITLE_HINT = re.compile(r"title|headline|biaoti|bt\b|tit\b|art_tit|news_tit|arti_tit", re.I)
_NOT_TITLE_HINT = re.compile(r"subtitle|sub-title|fu_?title|crumb|nav|menu|logo|sitename|side|"
                             r"related|hot|list|recommend|footer|header-title", re.I)
_MAX_LEN = 120


def _meta(tree: etree._Element, *names: str) -> str:
    for name in names:
        for attr in ("property", "name", "itemprop"):
            for el in tree.xpath(f"//meta[translate(@{attr},'ABCDEFGHIJKLMNOPQRSTUVWXYZ',"
                                 f"'abcdefghijklmnopqrstuvwxyz')='{name}']"):
                value = _strip_markup(el.get("content") or "")
                if value:
                    return value
    return ""


def _strip_markup(value: str) -> str:
    # ArticleTitle metas sometimes hold escaped HTML (&lt;p&gt;...&lt;/p&gt;).
    value = htmllib.unescape(value)
    return squash(re.sub(r"<[^>]{0,200}>", "", value))


def title_candidates(tree: etree._Element) -> list[tuple[str, str, int]]:
    """Visible heading candidates as ``(text, kind, document position)``."""
    found: list[tuple[str, str, int]] = []
    # The whole tree, not <body>: broken pages leave the article outside it. <head> has no headings.
    for pos, el in enumerate(tree.iter()):
        tag = el.tag if isinstance(el.tag, str) else ""
        if not tag:
            continue
        hint = f"{el.get('class') or ''} {el.get('id') or ''}"
        if tag in ("h1", "h2", "h3"):
            kind = tag
        elif tag not in ("a", "span", "img", "script", "style", "li", "ul", "body", "html") and \
                _TITLE_HINT.search(hint) and not _NOT_TITLE_HINT.search(hint):
            kind = "class"
        else:
            continue
        if tag in ("h2", "h3") and _NOT_TITLE_HINT.search(hint):
            continue
        text = element_text(el)
        if 4 <= len(text) <= _MAX_LEN:
            found.append((text, kind, pos))
    return found


def _key(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text).lower()


_ANY_SEPARATOR = re.compile(r"\s*(?:[-_|｜–—·:：]+|\s-\s)\s*")


def _title_refs(tree: etree._Element) -> tuple[list[str], str]:
    """Strings the page's metadata offers as its title, and the site name (<title>'s last part).

    Every prefix of ``<title>`` that ends at a separator is offered (``X-纪检`` offers ``X``),
    because sites join title, column and site name with any of ``_ - | —`` with or without spaces.
    """
    raw = _COUNTERS.sub("", squash(tree.findtext(".//title") or ""))
    refs: list[str] = []
    site = ""
    cuts = [m.start() for m in _ANY_SEPARATOR.finditer(raw) if m.start() > 0]
    if cuts:
        last = list(_ANY_SEPARATOR.finditer(raw))[-1]
        site = raw[last.end():]
    for cut in cuts:
        refs.append(raw[:cut].strip())
    if not cuts:  # with a site name attached the whole <title> is never the heading
        refs.append(raw)
    for meta in (_meta(tree, "og:title", "twitter:title"), _meta(tree, "articletitle", "title", "headline")):
        if meta:
            refs.append(meta)
            refs.extend(meta[:m.start()].strip() for m in _ANY_SEPARATOR.finditer(meta) if m.start() > 0)
    site_name = _meta(tree, "og:site_name") or site
    return [r for r in dict.fromkeys(refs) if len(_key(r)) >= 4 and _key(r) != _key(site_name)], site_name


def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio() if a and b else 0.0


def find_title(tree: etree._Element) -> tuple[str, str]:
    """``(title, how)`` for the page; ``how`` names the winning candidate kind. ``("", "none")``
    when the page has nothing that looks like a title.

    1. a heading equal to something the metadata offers (``heading``);
    2. one to three consecutive visible lines that together equal such a string (``line``): for
       titles in plain ``<p>``s or split by ``<br>``;
    3. a heading close to the metadata's wording (``heading``): the CMS filled the meta from
       another field;
    4. a heading whose markup says title when the metadata offers nothing usable;
    5. the metadata itself (``meta``), then ``<title>`` without the site name (``title-tag``).
    """
    refs, site = _title_refs(tree)
    ref_keys = sorted({_key(r) for r in refs}, key=len, reverse=True)
    headings = [(t, k, p) for t, k, p in title_candidates(tree) if _key(t) != _key(site)]
    for text, kind, _ in headings:
        if _key(text) in ref_keys and len(_key(text)) >= 4:
            return text, "heading"
    line = _title_from_lines(tree, ref_keys)
    if line:
        return line, "line"
    scored = [(max((_ratio(_key(t), r) for r in ref_keys), default=0.0), -p, t, k) for t, k, p in headings]
    close = [s for s in scored if s[0] >= 0.5]
    if close:
        return max(close)[2], "heading"
    if not any(len(r) >= 8 for r in ref_keys):
        hinted = [(_BASE[k], -p, t) for t, k, p in headings if len(_key(t)) >= 6]
        if hinted:
            return max(hinted)[2], "heading"
    metas = [m for m in (_meta(tree, "og:title", "twitter:title"), _meta(tree, "articletitle", "headline"))
             if len(m) >= 4]
    if metas:
        return _strip_site(metas[0]), "meta"
    parts = [p for p in _SEPARATORS.split(_COUNTERS.sub("", squash(tree.findtext(".//title") or ""))) if p]
    if parts:
        return parts[0], "title-tag"
    return "", "none"


_BASE = {"h1": 3, "class": 2, "h2": 2, "h3": 1}
_LINES_SCANNED = 600


def _title_from_lines(tree: etree._Element, ref_keys: list[str]) -> str:
    if not ref_keys:
        return ""
    lines = element_lines(tree)[:_LINES_SCANNED]
    keys = [_key(line) for line in lines]
    for ref in ref_keys:
        if len(ref) < 6:
            continue
        for i in range(len(lines)):
            joined = ""
            for j in range(i, min(i + 3, len(lines))):
                joined += keys[j]
                if joined == ref:
                    return join_lines(lines[i:j + 1]).strip(" >»|·-_:：/")
                if not ref.startswith(joined):
                    break
    return ""


def _strip_site(meta: str) -> str:
    pieces = [p for p in _SEPARATORS.split(meta) if p]
    return pieces[0] if len(pieces) > 1 and len(pieces[0]) >= 6 else meta

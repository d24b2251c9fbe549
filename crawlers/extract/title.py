"""The article title: the heading the page shows, not ``<title>`` with the site name.

Candidates are the visible headings (h1-h6, elements whose class or id says title/headline,
label lines such as a forum's ``主题：…`` or a disclosure table's ``标题`` cell, and lines set large
by their own inline style, as table-layout CMSs mark a headline), the ``og:title`` /
``ArticleTitle`` metas and ``<title>`` split at its separators (``_``, `` - ``, ``|``, ``——``).
A visible heading that agrees with a meta or ``<title>`` wins; metas are only a fallback because
CMSs fill them from a different field (another wording, escaped markup, or only the column name).
When the start of the body is known, the heading nearest above it is preferred: the site's name
and the column's name sit further up, in the banner and the navigation.

Whatever wins is cleaned of what templates glue onto headlines: a byline after no-break spaces
(``…  本刊记者 某某``) and a pager (``(页 1)``, ``（第2页）``).
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from lxml import etree

from crawlers.extract.html import PageLines, element_text, join_lines, squash
from crawlers.normalize.clean import is_byline

__all__ = ["find_title", "title_candidates", "clean_title", "Candidate", "FoundTitle"]

_SEPARATORS = re.compile(r"\s*(?:_|\s-\s|\s–\s|\s—\s|——+|-{2,}|\s\|\s|｜|\s::\s)\s*")
_COUNTERS = re.compile(r"^\(\s*[\d+]+\s*[^)]{0,20}\)\s*")  # "(99+ 封私信 / 87 条消息) "
_TITLE_HINT = re.compile(r"title|headline|biaoti|bt\b|tit\b|art_tit|news_tit|arti_tit", re.I)
_NOT_TITLE_HINT = re.compile(r"subtitle|sub-title|fu_?title|crumb|nav|menu|logo|sitename|side|"
                             r"related|hot|list|recommend|footer|header-title", re.I)
# A label that introduces the headline in forums and disclosure tables: 主题：…, 标　题：…
_SUBJECT_LABEL = re.compile(r"^(?:本页主题|本頁主題|帖子主题|帖子主題|文章标题|文章標題|留言标题|留言標題|"
                            r"留言主题|来信标题|來信標題|诉求标题|问题标题|主题|主題|标题|標題|"
                            r"题目|題目|subject|topic)\s*[:：]\s*", re.I)
_MAX_LEN = 120
_WIDGET = re.compile(r"扫一扫|掃一掃|分享到|二维码|二維碼|客户端|客戶端|登录|登錄|注册|註冊")
_NEAR_BODY = 30  # lines: a headline further above the text than this is the banner's


@dataclass(frozen=True)
class Candidate:
    """A visible heading: its text, kind (``h1``..``h6``, ``class``, ``label``) and first line
    (-1 when unknown)."""

    text: str
    kind: str
    line: int


@dataclass(frozen=True)
class FoundTitle:
    """The title chosen, how (``heading``, ``line``, ``meta``, ``title-tag``, ``none``) and
    the index of its line among the page's lines (-1 when it is not a visible line)."""

    text: str
    how: str
    line: int = -1


def _meta(tree: etree._Element, *names: str) -> str:
    """The first non-empty ``content`` of a meta named (property, name or itemprop) ``names``."""
    found: dict[str, str] = {}
    for el in tree.iter("meta"):
        for attr in ("property", "name", "itemprop"):
            key = (el.get(attr) or "").lower()
            if key in names and key not in found:
                value = _strip_markup(el.get("content") or "")
                if value:
                    found[key] = value
    return next((found[name] for name in names if name in found), "")


def _strip_markup(value: str) -> str:
    # ArticleTitle metas sometimes hold escaped HTML (&lt;p&gt;...&lt;/p&gt;).
    value = htmllib.unescape(value)
    return squash(re.sub(r"<[^>]{0,200}>", "", value))


# A pager says so: 页/頁/第/page, or n/m. A bare "（3）" is a series number and stays.
_PAGER = re.compile(r"\s*(?:[(（\[【]\s*(?:第\s*\d+\s*[页頁]|[页頁]\s*\d+|\d+\s*/\s*\d+|page\s*\d+)"
                    r"\s*[)）\]】]|[_\-\s]\s*第\s*\d+\s*[页頁])\s*$", re.I)
_NAMES = r"[\u4e00-\u9fff·]{2,4}(?:\s*[、,，\s]\s*[\u4e00-\u9fff·]{2,4}){0,3}\s*$"
_BYLINE_TAIL = re.compile(r"\s+(?:(?:本刊|本报|本報|本网|本網|本台|特约|特約|首席|实习|實習)?"
                          r"(?:记者|記者|通讯员|通訊員|评论员|評論員|撰稿人?|作者)\s*[:：/／]?|"
                          r"(?:文|图|圖)\s*[:：/／|｜])\s*" + _NAMES)


def clean_title(text: str) -> str:
    """``text`` without a subject label before it (留言标题：), a byline glued on after spaces or a
    pager at its end."""
    text = squash(text)
    label = _SUBJECT_LABEL.match(text)
    if label and len(text) - label.end() >= 4:
        text = text[label.end():]
    for _ in range(2):  # "标题  本刊记者 某某 (页 1)": both, in either order
        text = _PAGER.sub("", _BYLINE_TAIL.sub("", text)).strip()
    return text


def _label_text(el: etree._Element) -> str:
    """The headline a label introduces: ``主题：X`` in one element, or ``标题：`` | ``X`` in two
    cells of a row."""
    head = (el.text or "").strip() or (el[0].text or "" if len(el) and isinstance(el[0].tag, str) else "")
    if not head or not _SUBJECT_LABEL.match(re.sub(r"[\s\u3000]+", "", head[:16])):
        return ""  # cheap test first: the label opens the element's own text or its first child's
    text = re.sub(r"^([^:：]{1,8})", lambda m: re.sub(r"[\s\u3000]+", "", m.group(1)), element_text(el))
    match = _SUBJECT_LABEL.match(text) if len(text) <= 140 else None
    if match is None:
        return ""
    rest = text[match.end():]
    if not rest.strip() and el.tag in ("td", "th", "dt", "span", "b", "strong", "label"):
        sibling = el.getnext()
        rest = element_text(sibling) if sibling is not None else ""
    return rest.strip()


def title_candidates(tree: etree._Element, page: PageLines | None = None) -> list[Candidate]:
    """Visible heading candidates in document order (with their lines when ``page`` is given)."""
    found: list[Candidate] = []
    seen: set[tuple[str, str]] = set()
    # The whole tree, not <body>: broken pages leave the article outside it. <head> has no headings.
    for el in tree.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if not tag:
            continue
        hint = f"{el.get('class') or ''} {el.get('id') or ''}"
        text = ""
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            kind = tag
        elif tag not in ("a", "span", "img", "script", "style", "li", "ul", "body", "html") and \
                _TITLE_HINT.search(hint) and not _NOT_TITLE_HINT.search(hint):
            kind = "class"
        elif tag in ("td", "th", "div", "p", "span", "b", "strong", "dt", "label", "font"):
            text = _label_text(el)
            kind = "label"
            if not text:
                if not _emphasised(el):
                    continue
                kind = "styled"
        else:
            continue
        if tag in ("h2", "h3", "h4", "h5", "h6") and _NOT_TITLE_HINT.search(hint):
            continue
        text = text or element_text(el)
        if _WIDGET.search(text) or is_byline(text) or \
                any(a.tag in ("a", "nav", "footer") for a in el.iterancestors()):
            continue  # a share widget's heading, an information line, a link, the navigation
        if 4 <= len(text) <= _MAX_LEN and (text, kind) not in seen:
            seen.add((text, kind))
            found.append(Candidate(text, kind, page.line_of(el) if page else -1))
    return found


_BOLD = re.compile(r"font-weight\s*:\s*(?:bold|bolder|[6-9]00)", re.I)
_FONT_PX = re.compile(r"font-size\s*:\s*(\d+(?:\.\d+)?)\s*(px|pt)", re.I)


def _emphasised(el: etree._Element) -> bool:
    """Set large (18 px or more), or bold at 16 px or more, by its own inline style, or a
    ``<font size>`` of 5 or more: how table-layout CMSs of county governments mark the headline,
    in a plain ``<td>`` with no heading tag or class."""
    if el.tag == "font":
        size = (el.get("size") or "").strip()
        return size.isdigit() and int(size) >= 5
    style = el.get("style") or ""
    found = _FONT_PX.search(style)
    if found is None:
        return False
    px = float(found.group(1)) * (4 / 3 if found.group(2).lower() == "pt" else 1)
    return px >= 18 or (px >= 16 and _BOLD.search(style) is not None)


def _key(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text).lower()


_ANY_SEPARATOR = re.compile(r"\s*(?:[-_|｜–—·:：]+|\s-\s)\s*")


def _title_refs(tree: etree._Element, metas: list[str]) -> tuple[list[str], list[str], str]:
    """Strings the page's metadata offers as its title, the weaker pieces of ``<title>`` (any
    part but the first: phpBB and some CMSs put the site first), and the site name.

    Every prefix of ``<title>`` that ends at a separator is offered (``X-纪检`` offers ``X``),
    because sites join title, column and site name with any of ``_ - | —`` with or without spaces.
    """
    raw = _PAGER.sub("", _COUNTERS.sub("", squash(tree.findtext(".//title") or "")))
    refs: list[str] = []
    site = ""
    separators = [m for m in _ANY_SEPARATOR.finditer(raw) if m.start() > 0]
    if separators:
        site = raw[separators[-1].end():]
    for m in separators:
        refs.append(raw[:m.start()].strip())
    if not separators:  # with a site name attached the whole <title> is never the heading
        refs.append(raw)
    for meta in metas:
        if meta:
            refs.append(meta)
            refs.extend(meta[:m.start()].strip() for m in _ANY_SEPARATOR.finditer(meta) if m.start() > 0)
    site_name = _meta(tree, "og:site_name") or site
    refs = [clean_title(r) for r in refs]
    pieces = [p for p in _SEPARATORS.split(raw) if p][1:]
    keep = [r for r in dict.fromkeys(refs) if len(_key(r)) >= 4 and _key(r) != _key(site_name)]
    return keep, [p for p in pieces if len(_key(p)) >= 6], site_name


def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio() if a and b else 0.0


def _above(line: int, body_line: int) -> bool:
    """``line`` lies above the body start, close enough to be its headline."""
    return body_line < 0 or line < 0 or body_line - _NEAR_BODY <= line <= body_line


def _closest(cand: Candidate, cands: list[Candidate], body_line: int) -> bool:
    """No other heading stands between ``cand`` and the body (which is near): it is the text's."""
    if body_line < 0 or cand.line < 0:
        return True
    return _above(cand.line, body_line) and not any(
        cand.line < c.line <= body_line and c.text != cand.text for c in cands)


def _nearest(cands: list[Candidate], body_line: int) -> Candidate:
    """The candidate nearest above the body (document order decides when lines are unknown)."""
    if body_line >= 0:
        placed = [c for c in cands if 0 <= c.line <= body_line]
        if placed:
            return max(placed, key=lambda c: c.line)
    return cands[0]


def find_title(tree: etree._Element, page: PageLines | None = None, body_line: int = -1) -> FoundTitle:
    """The page's title (see module docstring); ``FoundTitle("", "none")`` when nothing looks
    like one. ``page`` and ``body_line`` (the first line of the main text) place candidates.

    1. a heading equal to something the metadata offers (``heading``);
    2. one to three consecutive visible lines that together equal such a string (``line``): for
       titles in plain ``<p>``s or split by ``<br>``, unless a heading stands between them and
       the body (then the line is the banner's site name);
    3. a heading close to the metadata's wording (``heading``): the CMS filled the meta from
       another field;
    4. the heading nearest above the body, or, with no body known, a heading whose markup says
       title when the metadata offers nothing usable (``heading``);
    5. the metadata itself (``meta``), then ``<title>`` without the site name (``title-tag``).
    """
    found = _find(tree, page, body_line)
    return FoundTitle(clean_title(found.text), found.how, found.line)


def _find(tree: etree._Element, page: PageLines | None, body_line: int) -> FoundTitle:
    metas = [m for m in (_meta(tree, "og:title", "twitter:title"), _meta(tree, "articletitle", "title", "headline"))
             if m]
    refs, pieces, site = _title_refs(tree, metas)
    ref_keys = sorted({_key(r) for r in refs}, key=len, reverse=True)
    # A <title> without separators that no meta confirms is often the site's name alone, which
    # the banner repeats: a heading equal to it must be the one nearest the text.
    raw = _PAGER.sub("", _COUNTERS.sub("", squash(tree.findtext(".//title") or "")))
    bare_only = {_key(raw)} - {_key(clean_title(m)) for m in metas} if not _ANY_SEPARATOR.search(raw) else set()
    cands = title_candidates(tree, page)
    near = [c for c in cands if _above(c.line, body_line)]
    headings = [c for c in cands if (_key(c.text) != _key(site) or c in near)
                and (_key(clean_title(c.text)) not in bare_only or _closest(c, cands, body_line))]
    equal = [c for c in headings if len(_key(c.text)) >= 4 and _key(clean_title(c.text)) in ref_keys]
    equal += [c for c in near if c not in equal and _key(c.text) in {_key(p) for p in pieces}]
    if equal:
        best = _nearest(equal, body_line)
        # the headline's first appearance: a repeat just above the text is not where it starts
        first = min((c.line for c in equal if c.text == best.text and c.line >= 0), default=best.line)
        return FoundTitle(best.text, "heading", first)
    line = _title_from_lines(page, ref_keys, cands, body_line) if page else None
    if line:
        return line
    scored = [(max((_ratio(_key(c.text), r) for r in ref_keys), default=0.0), -c.line, c) for c in headings]
    close = [s for s in scored if s[0] >= 0.5 and _above(s[2].line, body_line)]
    if close:
        best = max(close, key=lambda s: s[0])[2]
        return FoundTitle(best.text, "heading", best.line)
    strong = [c for c in near if len(_key(c.text)) >= 6 and _key(c.text) != _key(site)]
    if body_line >= 0 and strong:
        best = _nearest(strong, body_line)
        if 0 <= best.line <= body_line:
            return FoundTitle(best.text, "heading", best.line)
    if not any(len(r) >= 8 for r in ref_keys):
        hinted = [(_BASE.get(c.kind, 1), -i, c) for i, c in enumerate(headings) if len(_key(c.text)) >= 6]
        if hinted:
            best = max(hinted, key=lambda h: h[:2])[2]
            return FoundTitle(best.text, "heading", best.line)
    metas = [m for m in (_meta(tree, "og:title", "twitter:title"), _meta(tree, "articletitle", "headline"))
             if len(m) >= 4]
    if metas:
        return FoundTitle(_strip_site(metas[0]), "meta")
    parts = [p for p in _SEPARATORS.split(_COUNTERS.sub("", squash(tree.findtext(".//title") or ""))) if p]
    if parts:
        return FoundTitle(parts[0], "title-tag")
    return FoundTitle("", "none")


_BASE = {"h1": 3, "label": 3, "class": 2, "h2": 2, "h3": 1}
_LINES_SCANNED = 600


def _title_from_lines(page: PageLines, ref_keys: list[str], cands: list[Candidate],
                      body_line: int) -> FoundTitle | None:
    if not ref_keys:
        return None
    lines = page.lines[:_LINES_SCANNED]
    keys = [_key(line) for line in lines]
    heading_lines = {c.line for c in cands if c.line >= 0}
    for ref in ref_keys:
        if len(ref) < 6:
            continue
        for i in range(len(lines)):
            joined = ""
            for j in range(i, min(i + 3, len(lines))):
                joined += keys[j]
                if joined == ref:
                    between = any(j < h < body_line for h in heading_lines)
                    if body_line < 0 or (i <= body_line and not between):
                        return FoundTitle(join_lines(lines[i:j + 1]).strip(" >»|·-_:：/"), "line", i)
                    break
                if not ref.startswith(joined):
                    break
    return None


def _strip_site(meta: str) -> str:
    pieces = [p for p in _SEPARATORS.split(meta) if p]
    return pieces[0] if len(pieces) > 1 and len(pieces[0]) >= 6 else meta

"""Text is never silently lost: every visible sentence of a fixture page's main block survives
extraction, whatever inline elements (spans, keyword links, bold numbers) split it.

The main block of each page is named in ``expected.jsonl`` (``main``, a CSS selector for the
elements that hold the article's text). The sentences are read here with a walk of our own over
the markup, not with the extractor's code, so a character the extractor drops between two
inline elements shows up as a sentence that is not found.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import lxml.html
import pytest

from crawlers.extract import extract_article
from crawlers.normalize.encoding import decode_html

PAGES = Path(__file__).parent / "fixtures" / "pages"
ROWS = [json.loads(line) for line in (PAGES / "expected.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()]
_SKIP = {"script", "style", "noscript", "template", "textarea", "select", "option", "iframe", "svg"}
_BREAKS = {"p", "div", "br", "li", "tr", "td", "h1", "h2", "h3", "h4", "h5", "h6", "section",
           "blockquote", "figure", "figcaption", "table", "ul", "ol", "dd", "dt"}


def visible_text(el) -> str:
    """The text a reader sees in ``el``: hidden elements and scripts out, a break at blocks."""
    if not isinstance(el.tag, str) or el.tag in _SKIP:
        return ""
    style = (el.get("style") or "").replace(" ", "").lower()
    if "display:none" in style or "visibility:hidden" in style:
        return ""
    out = ["\n" if el.tag in _BREAKS else "", el.text or ""]
    for child in el:
        out.append(visible_text(child))
        out.append(child.tail or "")
    out.append("\n" if el.tag in _BREAKS else "")
    return "".join(out)


def sentences(text: str) -> list[str]:
    """Sentences and lines of ``text``, whitespace removed, at least four characters long."""
    pieces = re.split(r"(?<=[。！？!?；])|\n", text)
    squashed = (re.sub(r"[\s\u00a0\u3000]+", "", piece) for piece in pieces)
    return [piece for piece in squashed if len(piece) >= 4]


def squashed(text: str) -> str:
    return re.sub(r"[\s\u00a0\u3000]+", "", text)


def main_sentences(row: dict) -> tuple[str, list[str]]:
    text, _ = decode_html((PAGES / row["file"]).read_bytes())
    tree = lxml.html.document_fromstring(text)
    found = [s for el in tree.cssselect(row["main"]) for s in sentences(visible_text(el))]
    return text, found


def test_every_fixture_page_names_its_main_block():
    for row in ROWS:
        assert row.get("main"), f"{row['file']}: expected.jsonl needs 'main' (a CSS selector)"
        _, found = main_sentences(row)
        assert found, f"{row['file']}: {row['main']!r} selects no text"


@pytest.mark.parametrize("row", ROWS, ids=[row["file"] for row in ROWS])
def test_each_visible_sentence_of_the_main_block_survives_extraction(row):
    text, found = main_sentences(row)
    assert found, f"{row['file']}: {row['main']!r} selects no text"
    content = squashed(extract_article(text, row["source_url"]).content)
    lost = [sentence for sentence in found if sentence not in content]
    assert not lost, f"{row['file']}: sentences lost or damaged: {lost}"


def test_hidden_text_inside_a_sentence_stays_out_and_the_sentence_stays_whole():
    text, _ = decode_html((PAGES / "spam_repost.html").read_bytes())
    content = extract_article(text, "http://fixtures.test/spam_repost.html").content
    assert "www.example.test" not in content
    assert "利用职务便利，在工程款拨付中收受他人财物" in content


def test_the_oracle_notices_a_character_dropped_between_two_spans():
    """The check above can fail: a page whose extraction drops a span's tail is caught."""
    row = next(r for r in ROWS if r["file"] == "span_split.html")
    _, found = main_sentences(row)
    damaged = squashed("晨风网(微博)讯5月6日，清河县纪委监委通报，今年以来全县共查处群众身边不正之风起")
    assert any(sentence not in damaged for sentence in found)

"""Render a :class:`BriefingData` to HTML, to PDF (WeasyPrint) and page 1 to PNG (pypdfium2).

    BriefingData ──render_html──▶ str (self-contained HTML) ──render_pdf──▶ A4 PDF ──render_png_page1──▶ PNG

The HTML needs nothing from outside: the CSS is inline, the chart is an inline SVG, and no URL is
loaded. WeasyPrint is also given a fetcher that only allows ``data:`` URLs, so even a template bug
cannot make it reach the network or the file system. Text from the data (titles gathered from the
web) is escaped by Jinja2's autoescape; links are only made for ``http(s)`` URLs.

All three raise :class:`~alerting.briefing.fonts.FontMissingError` when no CJK font is installed,
rather than print Chinese as boxes.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

from alerting.briefing import prose
from alerting.briefing.charts import volume_chart_svg
from alerting.briefing.data import LEVEL_NAMES, BriefingData, StoryLine
from alerting.briefing.fonts import cjk_fonts
from pipeline.records import SHANGHAI

__all__ = ["A4_MM", "render_html", "render_template", "render_pdf", "render_png_page1"]

#: Width and height of the page in millimetres.
A4_MM = (210, 297)
TEMPLATE = "briefing.html.j2"
_TEMPLATES = Path(__file__).with_name("templates")

STORY_STATUS = {"met": "按时", "missed": "超时", "open": "办理中", "none": "—"}


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        short_time=prose.short_time,
        cn_date=prose.cn_date,
        lateness=prose.lateness_text,
        level_name=LEVEL_NAMES.__getitem__,
        link=_safe_link,
    )
    return env


def _safe_link(url: str | None) -> str | None:
    """The URL when it is an absolute http(s) address, else ``None`` (no javascript:, data:...)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _story_order(story: StoryLine) -> tuple:
    return (-story.level, -story.reposts, story.first_seen, story.alert_id)


def side_by_side(items: list) -> list[tuple]:
    """Rows of two numbered cells for a table printed in two halves, read down the left half first.

    ``[a, b, c]`` gives ``[((1, a), (3, c)), ((2, b), None)]``.
    """
    numbered = list(enumerate(items, 1))
    half = -(-len(numbered) // 2)
    left, right = numbered[:half], numbered[half:]
    return [(cell, right[i] if i < len(right) else None) for i, cell in enumerate(left)]


def _deadline_kinds(data: BriefingData) -> list[dict]:
    """Deadlines grouped by kind (1小时上报 ...), in order of first appearance."""
    kinds: dict[str, dict] = {}
    for record in data.deadlines:
        row = kinds.setdefault(record.kind, {"kind": record.kind, "met": 0, "missed": 0, "open": 0})
        row[record.status] += 1
    for row in kinds.values():
        row["total"] = row["met"] + row["missed"] + row["open"]
        row["rate"] = prose.percent(row["met"], row["met"] + row["missed"])
    return list(kinds.values())


def context(data: BriefingData) -> dict:
    """What the template sees: the data plus the sentences, tables and chart made from it."""
    fonts = cjk_fonts()
    share_of = data.relevant or sum(s.count for s in data.sources)
    return {
        "data": data,
        "title": prose.document_title(data),
        "issue": prose.issue_number(data),
        "period": prose.period_text(data),
        "previous_label": prose.previous_label(data),
        "overview": prose.overview(data),
        "stories_text": prose.stories_text(data),
        "chart": volume_chart_svg(data),
        "stories": sorted(data.stories, key=_story_order),
        "story_status": STORY_STATUS,
        "rising_text": prose.rising_text(data),
        "sources_text": prose.sources_text(data),
        "term_pairs": side_by_side(data.rising_terms),
        "source_pairs": side_by_side([(s, prose.percent(s.count, share_of)) for s in data.sources]),
        "tasks_text": prose.tasks_text(data),
        "deadlines_text": prose.deadlines_text(data),
        "deadline_kinds": _deadline_kinds(data),
        "missed": data.missed_deadlines,
        "generated_note": generated_note(data),
        "serif": fonts.css_stack("serif"),
        "sans": fonts.css_stack("sans-serif"),
    }


def render_template(name: str, **values) -> str:
    """Another document in the briefing's look (its environment, filters and CJK fonts): the
    template ``name`` of ``alerting/briefing/templates`` with ``values`` and ``serif``/``sans``."""
    fonts = cjk_fonts()
    return _environment().get_template(name).render(
        serif=fonts.css_stack("serif"), sans=fonts.css_stack("sans-serif"), **values)


def render_html(data: BriefingData) -> str:
    """The briefing as one self-contained HTML document (UTF-8 text, no external references).

    Deterministic: the same data gives the same string. Raises ``FontMissingError`` without a CJK
    font (the chart is drawn with it) and ``jinja2.TemplateError`` for a broken template.
    """
    return _environment().get_template(TEMPLATE).render(context(data))


class _SvgStyleNoise(logging.Filter):
    """Drops WeasyPrint's "Ignored `fill: ...`, unknown property" warnings, and only those.

    WeasyPrint also reads the ``style`` attributes of inline SVG elements as HTML CSS and warns
    about ``fill``/``stroke``, which its SVG renderer then applies anyway: some 300 warnings per
    chart that would drown a real problem in the logs.
    """

    NOISE = re.compile(r"^Ignored `(fill|stroke)[a-z-]*:")

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.NOISE.match(record.getMessage())


def _refuse_urls():
    """A WeasyPrint URL fetcher that loads ``data:`` URLs only (the HTML should need none)."""
    # WeasyPrint is imported here and in render_pdf, not at the top: it takes about a second to
    # import (it loads Pango), and only PDFs need it
    try:
        from weasyprint import URLFetcher  # deferred: see above; the class API of WeasyPrint 70
    except ImportError:  # older releases take a function
        from weasyprint import default_url_fetcher  # deferred: see above

        def fetch(url, *args, **kwargs):
            if not url.startswith("data:"):
                raise ValueError(f"the briefing loads no URL, refused {url}")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch
    return URLFetcher(allowed_protocols={"data"}, timeout=1)


def render_pdf(source: str | BriefingData, path: str | Path) -> Path:
    """Write the briefing as an A4 PDF to ``path`` and return ``path``.

    ``source`` is either the data or HTML from :func:`render_html` (to render the HTML once and
    keep both). The fonts are embedded (subset), so the PDF reads the same on any machine.
    """
    # deferred: WeasyPrint takes about a second to import (it loads Pango); only PDFs need it
    from weasyprint import HTML

    html = render_html(source) if isinstance(source, BriefingData) else source
    cjk_fonts()  # fail with the fix rather than print boxes when the font went missing
    target = Path(path)
    logger, noise = logging.getLogger("weasyprint"), _SvgStyleNoise()
    logger.addFilter(noise)
    try:
        HTML(string=html, url_fetcher=_refuse_urls()).write_pdf(target)
    finally:
        logger.removeFilter(noise)
    return target


def render_png_page1(pdf_path: str | Path, png_path: str | Path, dpi: int = 110) -> tuple[int, int]:
    """Render page 1 of ``pdf_path`` to ``png_path`` at ``dpi``; returns the image's (width, height).

    For a preview in the web UI or a chat message; 110 dpi makes an A4 page about 909 x 1286 px.
    Raises ``pypdfium2.PdfiumError`` when the file is not a readable PDF.
    """
    # deferred: pypdfium2 loads a native library, and only the PNG of page 1 needs it
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf_path))
    try:
        page = document[0]
        try:
            image = page.render(scale=dpi / 72).to_pil()
        finally:
            page.close()
    finally:
        document.close()
    image.save(str(png_path), format="PNG", optimize=True)
    return image.size


def generated_note(data: BriefingData) -> str:
    """The machine-made note at the foot: when the data was drawn, on the Beijing clock."""
    when: datetime = data.generated_at.astimezone(SHANGHAI)
    return f"本通报由舆情监测系统于{prose.cn_date(when)}{when:%H:%M}自动生成"

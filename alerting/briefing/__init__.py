"""The regular-meeting briefing (例会通报): data in, HTML, PDF and a PNG of page 1 out.

    data.py       BriefingData and its parts: what the alert store and the index fill in
    trends.py     rising_terms(): terms up against the previous period (苗头性、倾向性)
    prose.py      the sentences written from the numbers (总体情况 ...)
    charts.py     volume by level as inline SVG (matplotlib, no display)
    fonts.py      the CJK font, found through fontconfig; FontMissingError when there is none
    render.py     render_html(), render_pdf(), render_png_page1()
    sample.py     sample_data(): an invented 会昌县 briefing for tests and demos
    special.py    SpecialReport: the 舆情专报 of one item, as DOCX (python-docx) and PDF

Heavy libraries (matplotlib, WeasyPrint, pypdfium2, python-docx) are imported when first used.
"""

from alerting.briefing.data import (
    BriefingData,
    Change,
    DeadlineRecord,
    OfficeTasks,
    SourceCount,
    StoryLine,
    TermTrend,
    VolumePoint,
)
from alerting.briefing.fonts import FontMissingError
from alerting.briefing.render import render_html, render_pdf, render_png_page1
from alerting.briefing.trends import rising_terms

__all__ = [
    "BriefingData",
    "Change",
    "DeadlineRecord",
    "FontMissingError",
    "OfficeTasks",
    "SourceCount",
    "StoryLine",
    "TermTrend",
    "VolumePoint",
    "render_html",
    "render_pdf",
    "render_png_page1",
    "rising_terms",
]

"""舆情专报: the document the office sends upward about one item — 首报, then 续报, and a closing 结报.

    SpecialReport ──render_special_html──▶ str ──render_pdf──▶ A4 PDF (the briefing's look and fonts)
                  ──render_special_docx──▶ DOCX (Word is what offices exchange)

Its sections follow what a receiving unit reads for: 标题, 报送单位 and time (Beijing), 报送 (the
units it goes to), then 一、舆情概要 二、传播情况 三、研判意见 四、已采取措施 五、下一步工作, and the
联系人 at the foot. The record is filled from the alert store by :mod:`alerting.special`; nothing
here reads a database, so a report can be built by hand and rendered the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alerting.briefing import prose
from alerting.briefing.data import LEVEL_NAMES
from alerting.briefing.render import render_pdf, render_template
from pipeline.export import xml_safe
from pipeline.records import SHANGHAI

__all__ = ["SPECIAL_KINDS", "SourceLine", "SpecialReport", "render_special_html", "render_special_pdf",
           "render_special_docx", "SECTION_TITLES"]

SPECIAL_KINDS = ("首报", "续报", "结报")
TEMPLATE = "special.html.j2"
SECTION_TITLES = ("一、舆情概要", "二、传播情况", "三、研判意见", "四、已采取措施", "五、下一步工作")
_NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class SourceLine:
    """A source that carried the story: its name (the id when no name is known) and its articles."""

    name: str
    articles: int


@dataclass(frozen=True)
class SpecialReport:
    """One 专报 as it is printed. ``number`` counts the 续报 (1, 2 ...; 0 for 首报 and 结报).
    Times are aware (shown on the Beijing clock); ``measures`` and ``next_steps`` are lines."""

    kind: str
    number: int
    unit: str
    recipients: tuple[str, ...]
    made_at: datetime
    alert_id: str
    title: str
    level: int
    overall: bool
    emergency: bool
    state: str
    summary: str
    url: str | None
    first_seen: datetime
    first_source: str
    sources: tuple[SourceLine, ...]
    articles: int
    judgement: tuple[str, ...]
    measures: tuple[str, ...]
    next_steps: tuple[str, ...]
    contact: str

    def __post_init__(self) -> None:
        if self.kind not in SPECIAL_KINDS:
            raise ValueError(f"SpecialReport.kind: {self.kind!r} is not one of {', '.join(SPECIAL_KINDS)}")
        for name in ("made_at", "first_seen"):
            value = getattr(self, name)
            if value.tzinfo is None:
                raise ValueError(f"SpecialReport.{name}: {value!r} has no time zone")

    @property
    def kind_label(self) -> str:
        """``首报``, ``续报二``, ``结报``."""
        if self.kind == "续报" and self.number:
            return f"续报{_NUMERALS[self.number - 1] if self.number <= 10 else self.number}"
        return self.kind

    @property
    def heading(self) -> str:
        return f"舆情专报（{self.kind_label}）"

    @property
    def reposts(self) -> int:
        return max(0, self.articles - 1)

    @property
    def made_text(self) -> str:
        when = self.made_at.astimezone(SHANGHAI)
        return f"{prose.cn_date(when)}{when:%H:%M}（北京时间）"

    @property
    def spread(self) -> tuple[str, ...]:
        """二、传播情况 as sentences: first seen, the sources by name, the size of the story."""
        first = self.first_seen.astimezone(SHANGHAI)
        names = "、".join(f"{s.name}（{s.articles}篇）" for s in self.sources) or self.first_source
        lines = [f"首发：{prose.cn_date(first)}{first:%H:%M}，{self.first_source}。",
                 f"传播来源：{names}，共{len(self.sources) or 1}个。",
                 f"传播规模：截至{self.made_text}，共监测到相关信息{self.articles}篇，其中转载、跟帖{self.reposts}篇。"]
        if self.url:
            lines.append(f"原文链接：{self.url}")
        return tuple(lines)

    @property
    def grading(self) -> str:
        extra = "，可能影响全局" if self.overall else ""
        return f"{LEVEL_NAMES[self.level]}舆情{'（紧急）' if self.emergency else ''}{extra}；当前状态：{self.state}"

    def sections(self) -> list[tuple[str, tuple[str, ...]]]:
        """The five numbered sections with their paragraphs, as both renderers print them."""
        overview = (f"{self.title}。", *( (self.summary,) if self.summary else ()), f"定级：{self.grading}。")
        return list(zip(SECTION_TITLES, (
            overview, self.spread, self.judgement or ("尚未研判。",),
            self.measures or ("尚无处置记录。",), self.next_steps or ("持续监测，有新情况及时续报。",))))


def render_special_html(report: SpecialReport) -> str:
    """The 专报 as one self-contained HTML document (escaped; no external references)."""
    return render_template(TEMPLATE, r=report, sections=report.sections())


def render_special_pdf(report: SpecialReport, path: str | Path) -> Path:
    """Write the 专报 as an A4 PDF (fonts embedded) to ``path``."""
    return render_pdf(render_special_html(report), path)


def _east_asian(run, font: str) -> None:
    """Word picks the font of Chinese text from ``w:eastAsia``, which python-docx does not set."""
    # deferred: python-docx is imported only where a DOCX is written (see render_special_docx)
    from docx.oxml.ns import qn

    properties = run.element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = properties.makeelement(qn("w:rFonts"), {})
        properties.append(fonts)
    fonts.set(qn("w:eastAsia"), font)
    run.font.name = font


def render_special_docx(report: SpecialReport, path: str | Path) -> Path:
    """Write the 专报 as a Word document to ``path``: title, 报送单位 and time, 报送, the five
    sections as headings with their paragraphs, and the 联系人."""
    # deferred: python-docx loads lxml's Word schema, needed only for this document
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document = Document()
    document.core_properties.title = xml_safe(f"{report.heading}{report.title}")
    document.core_properties.author = xml_safe(report.unit)

    def paragraph(text: str, size: float = 14, bold: bool = False, font: str = "仿宋", center: bool = False,
                  style: str | None = None):
        p = document.add_paragraph(style=style)
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(xml_safe(text))
        run.bold, run.font.size = bold, Pt(size)
        _east_asian(run, font)
        return p

    paragraph(report.heading, size=22, bold=True, font="黑体", center=True, style="Title")
    paragraph(f"报送单位：{report.unit}　　{report.made_text}", size=12, center=True)
    paragraph(f"报送：{'、'.join(report.recipients) or '—'}", size=12)
    paragraph(report.title, size=16, bold=True, font="黑体", center=True)
    for heading, lines in report.sections():
        paragraph(heading, size=15, bold=True, font="黑体", style="Heading 1")
        for line in lines:
            paragraph(line)
    paragraph(f"联系人：{report.contact}", size=12)
    paragraph(f"（{report.alert_id}，由舆情监测系统生成，经办公室核定后报送）", size=10)
    target = Path(path)
    document.save(str(target))
    return target

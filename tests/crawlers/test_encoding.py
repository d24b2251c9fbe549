"""Page bytes to text: declared, sniffed and overridden encodings, never mojibake, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawlers.normalize.encoding import canonical_encoding, decode_html, decode_html_detail

PAGES = Path(__file__).parent / "fixtures" / "pages"
NOTICE = "清河县纪委监委通报三起违反中央八项规定精神问题，王喆、李堃等人受到处理。"  # 喆 堃: GBK only


def page(head: str, text: str = NOTICE, title: str = "通报") -> str:
    return f"<html><head>{head}<title>{title}</title></head><body><p>{text}</p></body></html>"


def test_a_gbk_page_that_declares_utf8_is_decoded_without_mojibake():
    text, encoding = decode_html((PAGES / "gbk_county.html").read_bytes())
    assert encoding == "gb18030"
    assert "清河县通报三起违反中央八项规定精神问题" in text
    assert "王喆" in text and "李堃" in text
    assert "\ufffd" not in text


def test_a_utf8_page_that_declares_gb2312_is_read_as_utf8():
    body = page('<meta charset="gb2312">').encode("utf-8")
    text, encoding = decode_html(body)
    assert encoding == "utf-8"
    assert NOTICE in text


def test_gb2312_declarations_are_read_as_gb18030_so_gbk_only_characters_survive():
    body = page('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">').encode("gbk")
    decoded = decode_html_detail(body)
    assert (decoded.encoding, decoded.source, decoded.lossy) == ("gb18030", "meta", False)
    assert NOTICE in decoded.text


def test_a_big5_page_keeps_its_traditional_characters():
    text, encoding = decode_html((PAGES / "big5_news.html").read_bytes())
    assert encoding == "big5hkscs"
    assert "縣府公布採購弊案調查結果" in text


def test_big5_bytes_without_any_declaration_are_sniffed_as_big5_not_gbk():
    text = "縣政府今天公布採購案調查結果，三名官員涉嫌圖利廠商，全案移送地檢署偵辦。"
    body = page("", text, title="通報").encode("big5")
    decoded = decode_html_detail(body)
    assert decoded.source == "sniffed"
    assert decoded.encoding in ("big5hkscs", "cp950")
    assert "採購案調查結果" in decoded.text


def test_gbk_bytes_without_any_declaration_are_sniffed_as_gb18030():
    decoded = decode_html_detail(page("").encode("gbk"))
    assert (decoded.encoding, decoded.source) == ("gb18030", "sniffed")
    assert NOTICE in decoded.text


def test_a_byte_order_mark_beats_the_declarations_and_is_not_part_of_the_text():
    body = b"\xef\xbb\xbf" + page('<meta charset="gbk">').encode("utf-8")
    decoded = decode_html_detail(body, content_type="text/html; charset=big5")
    assert (decoded.encoding, decoded.source) == ("utf-8", "bom")
    assert decoded.text.startswith("<html>")
    text, _ = decode_html((PAGES / "bom_gov.html").read_bytes())
    assert text.startswith("<!DOCTYPE html>") and "廉洁文化" in text


def test_the_http_charset_wins_over_the_meta_when_it_decodes():
    body = page('<meta charset="big5">').encode("gbk")
    decoded = decode_html_detail(body, content_type="text/html; charset=GBK")
    assert (decoded.encoding, decoded.source) == ("gb18030", "http")


def test_an_operator_override_wins_over_everything():
    body = b"\xef\xbb\xbf" + "通报".encode("utf-8")
    assert decode_html(body, override="utf-8") == ("\ufeff通报", "utf-8")
    gbk = page('<meta charset="utf-8">').encode("gbk")
    assert decode_html(gbk, "text/html; charset=utf-8", override="GB2312")[1] == "gb18030"


def test_bytes_that_nothing_decodes_give_replacement_characters_and_are_reported(caplog):
    body = page('<meta charset="utf-8">').encode("utf-8") + b"\xff\xfe\xfd\x80\x81"
    decoded = decode_html_detail(body, override="utf-8", where="http://fixtures.test/bad")
    assert decoded.lossy
    assert "\ufffd" in decoded.text
    assert "http://fixtures.test/bad" in caplog.text


@pytest.mark.parametrize("body", [b"", b"\x00\x01\x02", bytes(range(256)), b"<meta charset=nonsense>"])
def test_any_bytes_decode_without_raising(body):
    text, encoding = decode_html(body)
    assert isinstance(text, str) and encoding


@pytest.mark.parametrize("name, codec", [("GB2312", "gb18030"), ("x-gbk", "gb18030"),
                                         ("Big5", "big5hkscs"), ("UTF8", "utf-8"),
                                         ("iso-8859-1", "cp1252"), ("klingon", None)])
def test_declared_names_map_to_the_codec_that_reads_real_pages(name, codec):
    assert canonical_encoding(name) == codec


def cut_inside_a_character(text: str, where: str) -> bytes:
    """``text`` as UTF-8 with the last byte of ``where``'s last character gone (a CMS cutting
    a summary by bytes)."""
    encoded = text.encode("utf-8")
    keep = encoded.index(where.encode("utf-8")) + len(where.encode("utf-8")) - 1
    return encoded[:keep] + encoded[keep + 1:]


@pytest.mark.parametrize("head, content_type, source", [
    ('<meta charset="utf-8">', None, "meta"),
    ("", "text/html; charset=UTF-8", "http"),
    ("", None, "sniffed"),
])
def test_utf8_with_a_character_cut_in_two_stays_utf8_with_one_replacement(head, content_type,
                                                                          source, caplog):
    html = page(head) + "<div class='foot'>主办：清河县纪委监委 技术支持：某某网络科技</div>"
    body = cut_inside_a_character(html, "网络科")
    decoded = decode_html_detail(body, content_type, where="http://fixtures.test/a.html")
    assert (decoded.encoding, decoded.source, decoded.lossy) == ("utf-8", source, True)
    assert NOTICE in decoded.text and decoded.text.count("\ufffd") == 1
    assert "encoding_lossy: http://fixtures.test/a.html: 1 byte sequence" in caplog.text


def test_gbk_text_declared_utf8_is_still_gbk_when_a_little_real_utf8_is_mixed_in():
    # a GBK page whose template adds a UTF-8 footer: most of its non-ASCII bytes are invalid
    # UTF-8, which is never "a few cut characters"
    body = (PAGES / "gbk_county.html").read_bytes().replace(
        b"</body>", "<p>版权所有 © 清河县人民政府</p></body>".encode("utf-8"))
    decoded = decode_html_detail(body, "text/html; charset=utf-8")
    assert decoded.encoding == "gb18030"
    assert "清河县通报三起违反中央八项规定精神问题" in decoded.text

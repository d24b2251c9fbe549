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

"""sources.yaml: every mistake reported as FILE:LINE:COL: sources[i].key: message, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawlers.sources import load_sources, parse_duration, source_names
from pipeline.errors import ConfigError
from yuqing.cli.main import main

GOOD = """\
sources:
  - id: county-rss
    name: 示范县纪委监委 工作动态
    type: rss
    url: https://www.example.gov.cn/gzdt/rss.xml
    interval: 5m
    department: 宣传部
    region: 示范县
    media_type: 纪检监察
    authority: 0.9
  - id: county-list
    name: 示范县纪委监委 审查调查
    type: html
    url: https://www.example.gov.cn/scdc/
    encoding: gbk
    extraction:
      items: ul.list li
      link: a::attr(href)
      title: //h1/text()
      body: div.TRS_Editor
      date: xpath:string(//div[@class="info"])
    max_pages: 2
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_sources(path)
    return caught.value.problems


def test_a_good_file_loads_with_durations_and_selectors(tmp_path):
    loaded = load_sources(write(tmp_path, "sources.yaml", GOOD))
    rss, html = loaded.sources
    assert (rss.interval, rss.department, html.encoding, html.max_pages) == (300.0, "宣传部", "gbk", 2)
    assert html.extraction.items == "ul.list li" and rss.extraction.items is None
    assert rss.start_urls == ["https://www.example.gov.cn/gzdt/rss.xml"]
    assert loaded.summary() == "2 sources (1 html, 1 rss; 2 enabled) in 1 file: ok"


def test_every_mistake_is_reported_with_its_line_and_column(tmp_path):
    bad = GOOD.replace("    interval: 5m\n", "    intervall: 5m\n") \
              .replace("https://www.example.gov.cn/scdc/", "ftp://www.example.gov.cn/scdc/") \
              .replace("ul.list li", "ul.list li[") \
              .replace('xpath:string(//div[@class="info"])', "xpath://div[@class='info'") \
              .replace("encoding: gbk", "encoding: gbkk")
    path = write(tmp_path, "sources.yaml", bad)
    found = problems(path)
    assert found[0].startswith(f"{path}:6:5: sources[0].intervall: unknown key; did you mean 'interval'?")
    rest = "\n".join(found[1:])
    assert f"{path}:14:10: sources[1].url: 'ftp://www.example.gov.cn/scdc/' is not an http(s) URL" in rest
    assert f"{path}:15:15: sources[1].encoding: unknown encoding 'gbkk'" in rest
    assert f"{path}:17:14: sources[1].extraction.items: CSS selector 'ul.list li[' does not compile" in rest
    assert f"{path}:21:13: sources[1].extraction.date: XPATH selector" in rest
    assert len(found) == 5


def test_a_duplicate_id_names_both_places_even_across_files(tmp_path):
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", "sources:\n  - id: county-rss\n    name: again\n    type: rss\n"
                              "    url: https://other.example.cn/rss\n")
    found = problems(tmp_path)
    assert found == [f"{tmp_path / 'b.yaml'}:2:9: sources[0].id: duplicate id 'county-rss'; "
                     f"also defined at {tmp_path / 'a.yaml'}:2:9; ids must be unique"]


def test_missing_url_bad_id_and_yaml_syntax(tmp_path):
    found = problems(write(tmp_path, "s.yaml", "sources:\n  - id: Bad Id\n    name: x\n    type: rss\n"))
    assert any("sources[0].id: 'Bad Id' is not allowed; use lower-case letters" in p for p in found)
    found = problems(write(tmp_path, "u.yaml", "sources:\n  - id: no-url\n    name: x\n    type: rss\n"))
    assert found == [f"{tmp_path / 'u.yaml'}:2:5: sources[0]: give 'url' (or a list in 'urls')"]
    found = problems(write(tmp_path, "t.yaml", "sources:\n  - id: [\n"))
    assert found[0].startswith(f"{tmp_path / 't.yaml'}:") and "not valid YAML" in found[0]


@pytest.mark.parametrize("raw,seconds", [(90, 90.0), ("90s", 90.0), ("10m", 600.0), ("2h", 7200.0),
                                         ("1d", 86400.0), ("1.5h", 5400.0)])
def test_durations(raw, seconds):
    assert parse_duration(raw) == seconds


@pytest.mark.parametrize("raw", ["0", "soon", "-5m", True, float("nan"), float("inf")])
def test_bad_durations(raw):
    with pytest.raises(ValueError):
        parse_duration(raw)


@pytest.mark.parametrize("field, value, expected", [
    ("interval", ".nan", "sources[0].interval: nan: a duration must be a finite number"),
    ("interval", ".inf", "sources[0].interval: inf: a duration must be a finite number"),
    ("encoding", "rot13", "sources[0].encoding: unknown encoding 'rot13'"),
    ("encoding", "base64", "sources[0].encoding: unknown encoding 'base64'"),
])
def test_a_value_yaml_or_python_accepts_but_a_crawl_cannot_use_is_refused_with_its_place(
        tmp_path, field, value, expected):
    path = write(tmp_path, "odd.yaml", "sources:\n  - id: odd\n    name: 奇怪的源\n    type: rss\n"
                                        f"    url: https://example.cn/feed.xml\n    {field}: {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_sources(path)
    assert f"{path}:6:" in str(caught.value) and expected in str(caught.value)


def test_validate_command_exit_codes(tmp_path, capsys):
    good = write(tmp_path, "good.yaml", GOOD)
    assert main(["sources", "validate", str(good)]) == 0
    assert capsys.readouterr().out.strip().endswith("2 sources (1 html, 1 rss; 2 enabled) in 1 file: ok")
    bad = write(tmp_path, "bad.yaml", GOOD.replace("type: html", "type: forum"))
    assert main(["sources", "validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:13:11: sources[1].type: Input should be 'rss', 'html', 'sitemap' or 'rsshub'" in err


def test_the_shipped_example_is_valid():
    example = Path(__file__).parents[2] / "crawlers" / "sources.example.yaml"
    loaded = load_sources(example)
    assert len(loaded.sources) >= 8
    assert not loaded.enabled, "examples ship disabled: each must pass 'sources test' first"


def test_the_examples_commented_rsshub_routes_are_valid_once_uncommented(tmp_path):
    example = (Path(__file__).parents[2] / "crawlers" / "sources.example.yaml").read_text(encoding="utf-8")
    section = example[example.index("社交平台（RSSHub"):]
    entries = [line[4:] if line.startswith("  # ") else "" for line in section.splitlines()[1:]]
    routes = "\n".join("  " + line for line in entries if line.startswith(("- ", "  ")))
    path = write(tmp_path, "social.yaml", f"rsshub:\n  url: http://127.0.0.1:1200\nsources:\n{routes}\n")
    loaded = load_sources(path)
    assert {s.type for s in loaded.sources} == {"rsshub"} and len(loaded.sources) == 6
    assert all(s.url.startswith("http://127.0.0.1:1200/") for s in loaded.sources)


def test_headers_must_be_sendable(tmp_path):
    found = problems(write(tmp_path, "h.yaml", "sources:\n  - id: h\n    name: h\n    type: rss\n"
                           "    url: https://a.example.cn/rss\n    headers:\n      Referer: 首页\n"))
    assert found == [f"{tmp_path / 'h.yaml'}:7:7: sources[0].headers: header 'Referer': HTTP "
                     "headers carry ASCII only; percent-encode Chinese text (e.g. in a Referer URL)"]


def test_source_names_read_the_names_and_a_broken_or_missing_file_gives_ids_with_a_warning(tmp_path, caplog):
    good = write(tmp_path, "sources.yaml", GOOD)
    assert source_names(good) == {"county-rss": "示范县纪委监委 工作动态",
                                  "county-list": "示范县纪委监委 审查调查"}
    assert source_names(None) == {} and source_names(tmp_path / "gone.yaml") == {}

    broken = write(tmp_path, "broken.yaml", GOOD.replace("interval: 5m", "interval: soon"))
    with caplog.at_level("WARNING", logger="crawlers.sources"):
        assert source_names(broken) == {}
    assert "broken.yaml:" in caplog.text and "interval" in caplog.text

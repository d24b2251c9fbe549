"""A small local web for the demo: three sites in the shape of the real ones, built from the
sample articles (samples/demo_articles.jsonl, written for this project).

    hclz/index.rss     a county 纪检监察 site's RSS feed carrying summaries only, and its article
                       pages (breadcrumb, 发布时间 line, TRS_Editor body, share bar, footer)
    board/list.html    a message board's thread list, and its threads (Discuz-like layout)
    news/rss.xml       a news portal's RSS feed with the full text in the items

Links are written as ``http://yuqing.test/...``; crawlers.testing.FixtureServer serves them as
its own address. The demo crawls this web with the real crawler.
"""

from __future__ import annotations

import json
from datetime import datetime
from email.utils import format_datetime
from html import escape
from importlib import resources
from pathlib import Path

ORIGIN = "http://yuqing.test"
# Which demo site carries which sample source.
SITE_OF = {"hclz-news": "hclz", "jxlz-case": "hclz", "liuyan-board": "board",
           "forum-local": "board", "weibo-watch": "board"}

_GOV_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}_会昌县纪检监察网（示例）</title></head>
<body>
<div class="top">首页 | 工作动态 | 审查调查 | 纪法课堂 | 信访举报</div>
<div class="position">当前位置：首页 &gt; 工作动态</div>
<div class="article">
<h1>{title}</h1>
<div class="info">发布时间：{when}　来源：{source}　字号：大 中 小　打印本页</div>
<div class="TRS_Editor">{paragraphs}</div>
<div class="share">分享到：微信 微博 QQ空间</div>
<div class="pages">上一篇：无　下一篇：无</div>
</div>
<div class="footer">主办：示例县纪委监委（本机演示站点） 联系电话：0000-0000000</div>
</body></html>
"""

_THREAD = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title} - 县城论坛（示例）</title></head>
<body>
<div id="nav">论坛首页 › 民生留言 › 查看帖子</div>
<h1 id="thread_subject">{title}</h1>
<div class="authi">发表于 {when}</div>
<table><tr><td class="t_f" id="postmessage_1">{paragraphs}</td></tr></table>
<div class="reply">回复 | 支持 | 反对 | 举报</div>
</body></html>
"""


def _paragraphs(content: str) -> str:
    parts = [p for p in content.replace("。", "。\n").splitlines() if p.strip()]
    return "".join(f"<p>{escape(p)}</p>" for p in parts)


def samples() -> list[dict]:
    raw = (resources.files("yuqing") / "demo" / "demo_articles.jsonl").read_text("utf-8")
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


def build_site(root: Path) -> Path:
    """Write the demo web under ``root``; returns ``root``."""
    items = samples()
    feeds: dict[str, list[str]] = {"hclz": [], "news": []}
    threads: list[str] = []
    for n, item in enumerate(items, 1):
        site = SITE_OF.get(item["source_id"], "news")
        when = datetime.fromisoformat(item["published"])
        title = item["title"] or item["content"][:24]
        if site == "board":
            path = f"board/t/{n}.html"
            (root / "board" / "t").mkdir(parents=True, exist_ok=True)
            (root / path).write_text(_THREAD.format(
                title=escape(title), when=f"{when:%Y-%m-%d %H:%M}",
                paragraphs=_paragraphs(item["content"])), encoding="utf-8")
            threads.append(f'<li><a href="{ORIGIN}/{path}">{escape(title)}</a> '
                           f'<span>{when:%m-%d}</span></li>')
            continue
        link = f"{ORIGIN}/{site}/a/{n}.html"
        if site == "hclz":
            (root / "hclz" / "a").mkdir(parents=True, exist_ok=True)
            (root / "hclz" / "a" / f"{n}.html").write_text(_GOV_PAGE.format(
                title=escape(title), when=f"{when:%Y-%m-%d %H:%M}", source="示例县纪委监委",
                paragraphs=_paragraphs(item["content"])), encoding="utf-8")
            description = item["content"][:30] + "……"  # summary only: the page has the text
        else:
            description = item["content"]
        feeds[site].append(
            f"<item><title>{escape(title)}</title><link>{link}</link><guid>{link}</guid>"
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{escape(description)}</description></item>")
    for site, path, name in (("hclz", "hclz/index.rss", "会昌县纪检监察网（示例）"),
                             ("news", "news/rss.xml", "示例新闻网")):
        (root / site).mkdir(parents=True, exist_ok=True)
        (root / path).write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>{name}</title><link>{ORIGIN}/{site}/</link><description>{name}</description>"
            + "".join(feeds[site]) + "</channel></rss>\n", encoding="utf-8")
    (root / "board").mkdir(parents=True, exist_ok=True)
    (root / "board" / "list.html").write_text(
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>民生留言</title>'
        '</head><body><div id="nav">论坛首页 › 民生留言</div><ul class="threads">'
        + "".join(threads) + "</ul></body></html>\n", encoding="utf-8")
    return root


def sources_yaml(base_url: str) -> str:
    """The demo's sources.yaml: the three local sites, marked internal (they are on loopback)."""
    common = "    internal: true\n    robots: false\n    rate_limit_per_minute: 600\n"
    return (
        "# Written by `yuqing demo`: the local demo web served on loopback.\n"
        "sources:\n"
        f"  - id: demo-hclz\n    name: 示例 县纪检监察网\n    type: rss\n"
        f"    url: {base_url}/hclz/index.rss\n    fetch_full_text: true\n"
        f"    media_type: 纪检监察\n{common}"
        f"  - id: demo-board\n    name: 示例 民生留言板\n    type: html\n"
        f"    url: {base_url}/board/list.html\n    extraction:\n"
        f"      items: ul.threads li\n      link: a::attr(href)\n"
        f"    media_type: 留言板\n{common}"
        f"  - id: demo-news\n    name: 示例 新闻网\n    type: rss\n"
        f"    url: {base_url}/news/rss.xml\n    media_type: 新闻\n{common}"
    )

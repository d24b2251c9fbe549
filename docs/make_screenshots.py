"""Screenshots of the console for the README: the queue, a story view and the trends page.

    .venv/bin/python docs/make_screenshots.py [--out docs/screenshots] [--data-dir DIR]

Runs ``yuqing demo`` in a scratch folder (or uses ``--data-dir`` if it already holds the demo's
data), then, so that the pictures show a console in use rather than a fresh queue:

* replays one story spreading: a post on a local forum, reposted 27 times by six sites over the
  last 52 minutes (written here, as scored articles, through the same ``AlertService.ingest`` and
  index as the stream), so its 1-hour report has 8 minutes left;
* takes two demo alerts a step further as 宣传部 (judged; warned to 信访室), through the service.

Then it serves the console on loopback, logs in with Debian's Chromium as the demo accounts and
saves ``queue.png``, ``story.png`` and ``trends.png`` (1440 px wide).
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

from alerting.access import SYSTEM, Actor
from alerting.testing import scored
from pipeline.backends import open_index
from pipeline.config import load_settings
from yuqing.app import open_service
from yuqing.cli import main as cli
from yuqing.cli.console import demo_accounts
from yuqing.web import ConsoleOptions, create_app
from yuqing.web.testing import ConsoleServer, launch_chromium, log_in

__all__ = ["main"]

# no watched place or unit name (alerting.yaml volume.places/units) in it: the reposts would also
# open volume-spike alerts, which are real but would crowd the picture
STORY = ("网传某镇干部酒驾肇事后逃逸，当地回应：已成立调查组",
         "网友发帖称，某镇一名干部深夜酒后驾车与电动车相撞后驶离现场，伤者已送医。帖子附有现场视频，"
         "并称该干部系镇纪委委员。多名网友转发要求纪检部门介入调查，部分评论质疑当地处理不公。")
REPOSTERS = ("weibo-huichang", "douyin-gannan", "tieba-huichang", "toutiao-local", "wechat-ganzhou", "news-ganzhou")


def _replay_story(service, index) -> str:
    now = service.clock.now()
    alert_id = None
    # a slow start, then the reposts pick up (minutes before now)
    offsets = [52, 47, 44, 40, 37, 35, 33, 31, 29, 27, 25, 24, 22, 20, 19, 17, 15, 14, 12, 11, 9, 8, 6, 5, 4, 3, 2, 1]
    for n, minutes in enumerate(offsets):
        source = "bbs-huichang" if n == 0 else REPOSTERS[n % len(REPOSTERS)]
        title = STORY[0] if n == 0 else f"{'转发' if n % 3 else '热议'}：{STORY[0]}"
        article = scored(title, at=now - timedelta(minutes=minutes), level=3, story="story-demo-drunk-driving",
                         source=source, text=f"{STORY[1]}（第{n + 1}条）", department="宣传部",
                         url=f"http://{source}.example.invalid/post/{n + 1}")
        index.add(article)
        alert_id = service.ingest(article) or alert_id
    index.flush()
    index.refresh()
    return alert_id


def _move_demo_alerts(service) -> None:
    staff = Actor("xuanchuan", "宣传部", "staff")
    alerts = {a.title: a for a in service.list(SYSTEM)}
    for title, alert in alerts.items():
        if "征地补偿" in title:
            service.judge(alert.id, staff, "反映村干部侵占补偿款，转信访室核实", level=2, office="信访室")
            service.warn(alert.id, staff, ["信访室"], "请于1小时内核实反馈")
        elif "副厅级" in title or "副廳級" in title:
            service.judge(alert.id, staff, "上级纪委通报，正面信息，关注转载", level=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/screenshots", help="folder for the PNG files")
    parser.add_argument("--data-dir", help="a folder with the demo's data (default: run the demo in a scratch folder)")
    parser.add_argument("--width", type=int, default=1440)
    args = parser.parse_args(argv)



    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="yuqing-screens-"))
    if not (data_dir / "demo-web").is_dir():
        cli.main(["--data-dir", str(data_dir), "demo"])
    settings = load_settings(None, overrides={("paths", "data_dir"): str(data_dir)})
    service = open_service(settings, channels={})
    index = open_index(settings)
    story_id = _replay_story(service, index)
    _move_demo_alerts(service)
    passwords = {name: password for name, password, *_ in
                 demo_accounts(service.store, service.config.offices, service.clock.now())}
    app = create_app(service, ConsoleOptions(
        sources=data_dir / "demo-web" / "sources.yaml", crawl_state=data_dir / "demo-crawl-state.sqlite3",
        briefings=data_dir / "briefings", open_index=lambda: index, poll_interval=1.0))
    try:
        with ConsoleServer(app) as server, sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                page = browser.new_page(viewport={"width": args.width, "height": 860}, locale="zh-CN")
                log_in(page, server.url, "xuanchuan", passwords["xuanchuan"])
                page.goto(f"{server.url}/queue")
                # not wait_for_function: its polling evals, which the console's CSP refuses
                page.locator("body[data-stream='open']").wait_for(state="attached")
                page.wait_for_timeout(1200)  # two ticks of the countdowns
                page.screenshot(path=str(out / "queue.png"), full_page=True)
                page.goto(f"{server.url}/stories/{story_id}")
                page.wait_for_selector("#chart-spread[data-ready]")
                page.wait_for_timeout(800)  # ECharts' entry animation
                page.screenshot(path=str(out / "story.png"), full_page=False)
                analyst = browser.new_page(viewport={"width": args.width, "height": 860}, locale="zh-CN")
                log_in(analyst, server.url, "fenxi", passwords["fenxi"])
                analyst.goto(f"{server.url}/trends?days=30")
                analyst.wait_for_selector("#chart-volume[data-ready]")
                analyst.wait_for_timeout(800)
                analyst.screenshot(path=str(out / "trends.png"), full_page=True)
            finally:
                browser.close()
    finally:
        service.store.close()
    for name in ("queue", "story", "trends"):
        print(out / f"{name}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

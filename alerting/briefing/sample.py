"""A realistic, invented briefing for 会昌县 (赣州市): for tests, for the layout, and for demos.

Every person, story and number here is made up; names are withheld the way the commission's own
notices do (钟某某, 某镇). ``python -m alerting.briefing.sample [STEM] [--kind weekly]`` renders
``STEM.html``, ``STEM.pdf`` and ``STEM.png`` (default ``/tmp/briefing-sample``) and prints timings.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import datetime, timedelta
from pathlib import Path

from alerting.briefing.data import (
    BriefingData,
    DeadlineRecord,
    OfficeTasks,
    SourceCount,
    StoryLine,
    VolumePoint,
)
from alerting.briefing.render import render_html, render_pdf, render_png_page1
from alerting.briefing.trends import rising_terms
from pipeline.records import SHANGHAI

__all__ = ["empty_data", "sample_data"]

UNIT = "会昌县纪委监委"
DAY = datetime(2026, 11, 26, tzinfo=SHANGHAI)


def _at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(days=day_offset, hours=hour, minutes=minute)


def _stories() -> list[StoryLine]:
    return [
        StoryLine("YJ-20261126-014", "网帖称某镇副镇长刘某某酒驾肇事后找人“顶包”，当事人家属发视频求助", 3,
                  "核实中", "第一监督检查室", _at(0, 21, 12), "抖音", 18, 356,
                  _at(1, 12), "open", "https://www.douyin.com/video/7441000000000000000"),
        StoryLine("YJ-20261126-006", "县某局干部工作日中午聚餐饮酒视频在本地微信群流传", 2,
                  "处置中", "第一监督检查室", _at(0, 9, 35), "会昌生活圈(微信公众号)", 7, 64,
                  _at(0, 17, 35), "met", None),
        StoryLine("YJ-20261126-003", "某乡十余户村民联名反映征地补偿款被截留、两年未足额发放", 2,
                  "核实中", "信访室", _at(0, 8, 2), "人民网领导留言板", 5, 41,
                  _at(0, 18), "missed", "http://liuyan.people.com.cn/threads/content?tid=20000000"),
        StoryLine("YJ-20261126-009", "网民反映某村干部优亲厚友，低保名额给了自家亲戚", 2,
                  "待研判", "信访室", _at(0, 13, 47), "微博", 4, 23,
                  _at(0, 17), "met", "https://weibo.com/1000000000/PcAbCdEfG"),
        StoryLine("YJ-20261126-001", "会昌县某局原党组书记、局长钟某某严重违纪违法被开除党籍和公职", 1,
                  "已办结", "宣传部", _at(0, 7, 30), "会昌县纪检监察网", 9, 122,
                  None, "none", "http://www.hclz.gov.cn/"),
        StoryLine("YJ-20261126-011", "网民质疑某镇路灯工程“建成即坏”，施工方系镇干部亲属", 1,
                  "待研判", "第一监督检查室", _at(0, 16, 20), "今日头条", 3, 17,
                  _at(1, 16, 20), "open", "https://www.toutiao.com/article/7440000000000000000/"),
        StoryLine("YJ-20261126-007", "县纪委监委公开曝光3起违反中央八项规定精神典型问题", 1,
                  "已办结", "宣传部", _at(0, 10, 0), "赣南日报", 6, 48,
                  None, "none", None),
    ]


def _deadlines() -> list[DeadlineRecord]:
    return [
        DeadlineRecord("YJ-20261126-014", "某镇副镇长酒驾“顶包”网帖", "1小时上报",
                       _at(0, 22, 12), _at(0, 22, 47), "missed"),
        DeadlineRecord("YJ-20261126-003", "某乡村民反映征地补偿款被截留", "限时核实上报",
                       _at(0, 18), _at(0, 21, 40), "missed"),
        DeadlineRecord("YJ-20261126-006", "县某局干部工作日饮酒视频", "1小时上报",
                       _at(0, 10, 35), _at(0, 10, 21), "met"),
        DeadlineRecord("YJ-20261126-006", "县某局干部工作日饮酒视频", "限时核实上报",
                       _at(0, 17, 35), _at(0, 16, 5), "met"),
        DeadlineRecord("YJ-20261126-009", "某村干部低保优亲厚友", "限时核实上报",
                       _at(0, 17), _at(0, 16, 10), "met"),
        DeadlineRecord("YJ-20261125-021", "某中学食堂承包问题网帖", "整改落实",
                       _at(0, 12), _at(0, 11, 30), "met"),
        DeadlineRecord("YJ-20261126-014", "某镇副镇长酒驾“顶包”网帖", "限时核实上报",
                       _at(1, 12), None, "open"),
    ]


def _tasks() -> list[OfficeTasks]:
    return [
        OfficeTasks("宣传部", 3, 0, 4),
        OfficeTasks("信访室", 4, 1, 2),
        OfficeTasks("案管室", 2, 0, 1),
        OfficeTasks("第一监督检查室", 3, 1, 1),
        OfficeTasks("第三审查调查室", 1, 0, 0),
    ]


def _sources() -> list[SourceCount]:
    return [SourceCount(name, n) for name, n in (
        ("抖音", 17), ("微博", 11), ("今日头条", 8), ("微信公众号", 7), ("人民网领导留言板", 4),
        ("百度贴吧", 3), ("赣南日报", 3), ("会昌县纪检监察网", 2))]


def _terms():
    """Rising terms computed from invented documents, so the sample exercises the real ranking."""
    rng = random.Random(7)
    steady = ["会昌县", "纪委监委", "群众", "干部", "乡镇", "反映", "监督"]

    headlines = {"征地补偿": "某乡村民联名反映征地补偿两年未足额发放", "顶包": "网帖称副镇长酒驾肇事后找人顶包",
                 "酒驾": "有网友追问酒驾副镇长是否已被处理", "截留": "补偿款被截留？村民称找了三次没有答复",
                 "低保": "某村低保名额给了村干部亲戚", "优亲厚友": "网民反映村干部优亲厚友",
                 "路灯": "新装路灯建成即坏 施工方系镇干部亲属", "饮酒": "工作日中午聚餐饮酒视频流传",
                 "双开": "某局原局长被双开", "八项规定": "曝光3起违反中央八项规定精神问题"}

    def documents(counts: dict[str, int], n: int) -> tuple[list[list[str]], list[str]]:
        docs = [rng.sample(steady, 3) for _ in range(n)]
        titles = [f"会昌县纪委监委工作动态（{i + 1}）" for i in range(n)]
        for term, df in counts.items():
            for k, i in enumerate(sorted(rng.sample(range(n), df))):
                docs[i].append(term)
                if len(docs[i]) == 4:  # the first invented term of a document names its headline
                    titles[i] = headlines[term] + ("" if k == 0 else f"（续{k}）")
        return docs, titles

    now, titles = documents({"征地补偿": 14, "顶包": 11, "酒驾": 9, "截留": 6, "低保": 7, "优亲厚友": 5,
                             "路灯": 4, "饮酒": 6, "双开": 5, "八项规定": 6}, 60)
    before, _ = documents({"征地补偿": 3, "酒驾": 1, "低保": 2, "饮酒": 4, "八项规定": 6, "双开": 1}, 55)
    return rising_terms(now, before, top=8, titles=titles)


MEASURES = [
    "“网帖称某镇副镇长刘某某酒驾肇事后找人‘顶包’”（重大，核实中）：第一监督检查室会同公安机关核实，"
    "宣传部跟踪传播走势，核实结果经协调小组审定后及时发布。",
    "“某乡十余户村民联名反映征地补偿款被截留”（较大，核实中）：核实已超过时限，请信访室书面说明原因，"
    "并于11月27日18时前报告核实结果。",
]
NEXT_STEPS = [
    "信访室、第一监督检查室办结超期任务各1项，并书面说明超期原因。",
    "持续跟踪“顶包”网帖及相关话题（顶包、酒驾），发现新情况按1小时时限报告。",
    "继续做好日常监测，发现涉纪检监察舆情按规定时限报告。",
]


def _volume(kind: str, start: datetime, end: datetime) -> list[VolumePoint]:
    rng = random.Random(2026)
    points = []
    if kind == "daily":
        for hour in range(24):
            bucket = start + timedelta(hours=hour)
            awake = 0.25 if hour < 7 else 1.0
            base = {0: 45 * awake, 1: 1.6 * awake, 2: 0.45 * awake, 3: 0.0}
            if hour in (21, 22, 23):  # the 顶包 video went round in the evening
                base[1], base[2], base[3] = base[1] + 2, base[2] + 1.5, {21: 1, 22: 2, 23: 1}[hour]
            if hour in (8, 9, 10):
                base[2] += 1
            for level, mean in base.items():
                count = max(0, round(rng.gauss(mean, mean ** 0.5 / 2))) if mean else 0
                if count:
                    points.append(VolumePoint(bucket, level, count))
    else:
        day = start
        while day < end:
            late = day.date() == (end - timedelta(days=1)).date()
            for level, mean in {0: 980, 1: 34, 2: 6 + 5 * late, 3: 4 * late}.items():
                count = max(0, round(rng.gauss(mean, mean ** 0.5 / 2))) if mean else 0
                if count:
                    points.append(VolumePoint(day, level, count))
            day += timedelta(days=1)
    return points


def sample_data(kind: str = "daily") -> BriefingData:
    """The invented briefing: ``'daily'`` for 2026-11-26, ``'weekly'`` for the week to that day.

    Deterministic: two calls give equal data.
    """
    if kind == "daily":
        start, end = DAY, DAY + timedelta(days=1)
        previous = {0: 1043, 1: 31, 2: 6, 3: 0}
    elif kind == "weekly":
        start, end = DAY - timedelta(days=6), DAY + timedelta(days=1)
        previous = {0: 6512, 1: 221, 2: 33, 3: 1}
    else:
        raise ValueError(f"sample_data: kind {kind!r} is not daily or weekly")
    span = end - start
    return BriefingData(
        kind=kind, unit=UNIT, period_start=start, period_end=end,
        previous_start=start - span, previous_end=start,
        generated_at=end + timedelta(hours=8, minutes=30),
        volume=_volume(kind, start, end), previous_totals=previous,
        stories=_stories(), rising_terms=_terms(), sources=_sources(),
        tasks=_tasks(), deadlines=_deadlines(), measures=list(MEASURES), next_steps=list(NEXT_STEPS),
    )


def empty_data(kind: str = "daily") -> BriefingData:
    """A briefing of a quiet day: nothing collected, nothing to report."""
    return BriefingData(
        kind=kind, unit=UNIT, period_start=DAY, period_end=DAY + timedelta(days=1),
        previous_start=DAY - timedelta(days=1), previous_end=DAY,
        generated_at=DAY + timedelta(days=1, hours=8),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Render the invented sample briefing.")
    parser.add_argument("stem", nargs="?", default="/tmp/briefing-sample")
    parser.add_argument("--kind", choices=["daily", "weekly"], default="daily")
    args = parser.parse_args(argv)
    stem = Path(args.stem)
    data = sample_data(args.kind)
    t0 = time.perf_counter()
    html = render_html(data)
    t1 = time.perf_counter()
    stem.with_suffix(".html").write_text(html, encoding="utf-8")
    render_pdf(html, stem.with_suffix(".pdf"))
    t2 = time.perf_counter()
    size = render_png_page1(stem.with_suffix(".pdf"), stem.with_suffix(".png"))
    t3 = time.perf_counter()
    print(f"html {t1 - t0:.2f}s  pdf {t2 - t1:.2f}s  png {t3 - t2:.2f}s  ({size[0]}x{size[1]})  -> {stem}.*")


if __name__ == "__main__":
    main()

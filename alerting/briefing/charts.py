"""The briefing's chart: volume by level over the period, as an inline SVG string.

matplotlib is used without pyplot (a ``Figure`` on the SVG canvas), so no display, no global
figure registry and no backend switch are involved. The style is applied with ``rc_context``,
which changes matplotlib's global settings for the duration, so drawing holds a lock.
Glyphs are written as paths (``svg.fonttype = 'path'``), so the SVG needs no font to display, and
the ids are salted with a fixed string so the same data gives the same bytes.
"""

from __future__ import annotations

import io
import re
import threading
from datetime import datetime, timedelta

from alerting.briefing.data import LEVEL_NAMES, BriefingData
from alerting.briefing.fonts import register_matplotlib
from pipeline.records import SHANGHAI

__all__ = ["LEVEL_COLOURS", "buckets", "volume_chart_svg"]

#: Level colours, restrained so the chart prints well in black and white too (dark to light).
LEVEL_COLOURS = {3: "#a61b1b", 2: "#e0892b", 1: "#7b96b8"}

_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_DRAWING = threading.Lock()


def buckets(data: BriefingData) -> list[datetime]:
    """Every bucket start of the period on the Beijing clock, including the empty ones."""
    step = timedelta(hours=1) if data.bucket_unit == "hour" else timedelta(days=1)
    start = data.period_start.astimezone(SHANGHAI)
    if data.bucket_unit == "hour":
        start = start.replace(minute=0, second=0, microsecond=0)
    else:
        start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    out = []
    while start < data.period_end:
        out.append(start)
        start = (start + step).astimezone(SHANGHAI)
    return out


def _series(data: BriefingData, starts: list[datetime]) -> dict[int, list[int]]:
    index = {b: i for i, b in enumerate(starts)}
    series = {level: [0] * len(starts) for level in LEVEL_COLOURS}
    for point in data.volume:
        i = index.get(point.bucket.astimezone(SHANGHAI))
        if i is not None and point.level in series:
            series[point.level][i] += point.count
    return series


def _labels(data: BriefingData, starts: list[datetime]) -> tuple[list[int], list[str]]:
    """Every third hour; for days, at most 8 labels (a 16 cm chart has room for no more of
    "11月21日"), and just the day number after the first label of a month."""
    hourly = data.bucket_unit == "hour"
    every = (3 if len(starts) <= 48 else 6) if hourly else max(1, -(-len(starts) // 8))
    ticks = list(range(0, len(starts), every))
    if hourly:
        return ticks, [f"{starts[i].hour}时" for i in ticks]
    labels, month = [], None
    for i in ticks:
        day = starts[i]
        labels.append(f"{day.day}日" if day.month == month else f"{day.month}月{day.day}日")
        month = day.month
    return ticks, labels


def volume_chart_svg(data: BriefingData, width_cm: float = 16.0, height_cm: float = 5.6) -> str | None:
    """Stacked bars of levels 1-3 per bucket as an ``<svg>`` element; ``None`` when there is none.

    Level 0 (not relevant) is left out: it is the bulk of what is collected and would flatten the
    bars the meeting cares about; the 总体情况 text states it. Raises :class:`FontMissingError`
    when no CJK font is installed.
    """
    if data.relevant == 0:
        return None
    # deferred: matplotlib takes about half a second to import; only a briefing with a chart needs it
    from matplotlib import rc_context
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    family = register_matplotlib()
    starts = buckets(data)
    series = _series(data, starts)
    style = {
        "font.family": [family],
        "font.size": 8.5,
        "axes.unicode_minus": False,
        "svg.fonttype": "path",
        "svg.hashsalt": "yuqing-briefing",
        "axes.edgecolor": "#444444",
        "axes.linewidth": 0.6,
        "xtick.color": "#333333",
        "ytick.color": "#333333",
    }
    with _DRAWING, rc_context(style):
        figure = Figure(figsize=(width_cm / 2.54, height_cm / 2.54))
        FigureCanvasSVG(figure)
        axes = figure.add_subplot()
        x = list(range(len(starts)))
        bottom = [0] * len(starts)
        for level in (3, 2, 1):  # the most serious at the base, where it is easiest to read
            values = series[level]
            axes.bar(x, values, bottom=bottom, width=0.72, color=LEVEL_COLOURS[level],
                     label=f"{LEVEL_NAMES[level]}舆情", linewidth=0)
            bottom = [b + v for b, v in zip(bottom, values)]
        ticks, labels = _labels(data, starts)
        axes.set_xticks(ticks, labels)
        axes.set_xlim(-0.6, len(starts) - 0.4)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        axes.set_ylabel("信息量(条)")
        axes.grid(axis="y", color="#cccccc", linewidth=0.5)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.tick_params(length=2.5, width=0.6)
        axes.legend(loc="upper left", ncols=3, frameon=False, fontsize=8,
                    bbox_to_anchor=(0, 1.16), handlelength=1.2, columnspacing=1.4)
        figure.subplots_adjust(left=0.075, right=0.99, top=0.86, bottom=0.14)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return _PROLOG.sub("", buffer.getvalue(), count=1)

"""The analysts' pages: search over the index, one story's articles and spread, trends.

Search is the index's own query (:class:`pipeline.index.Query`, the same on SQLite FTS5 and
Elasticsearch: traditional and simplified script find each other). The index has no filter on
the classifier's score, so ``min_score`` (the larger of relevance and sensitivity) is applied to
at most :data:`SCORE_SCAN` of the newest matches; the page says when that limit was reached.

A story is an alert's cluster: its articles come from the service (``show``, so an office sees
only stories it may see), with the spread over time (10-minute buckets while the story is
younger than six hours, then hours, then days) and the sources that carried it.

Trends: the number of indexed articles of each level per hour or day (counts from the index, so
irrelevant articles are counted too: level 0) and the terms rising against the period before
(:func:`alerting.briefing.trends.rising_terms`, the briefing's method, counting each story once). Computing them takes a few
dozen index queries, so a result is kept for a minute.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerting.briefing.trends import rising_terms
from alerting.intake import Intake
from alerting.routing import COUNTER_NAMES
from classifiers.tokenize import tokens
from pipeline.index import Query
from pipeline.records import SHANGHAI, beijing_time
from yuqing.web.inputs import BAD_DATE, search_text, whole_number

__all__ = ["SearchForm", "search", "story", "trends", "SCORE_SCAN", "story_alert_id"]

SCORE_SCAN = 1000
PAGE = 20


@dataclass(frozen=True)
class SearchForm:
    """The search page's fields, as given (strings from the form or the API)."""

    q: str = ""
    since: str = ""
    until: str = ""
    source: str = ""
    level: str = ""
    office: str = ""
    min_score: str = ""
    sort: str = "relevance"
    page: int = 1


def _day(value: str, end: bool = False) -> datetime | None:
    """A date (2026-11-20) or date and time, in Beijing time; ``end`` makes a date inclusive."""
    if not value:
        return None
    try:
        moment = beijing_time(value)
        if end and len(value) <= 10:
            moment += timedelta(days=1)
    except BAD_DATE:
        raise ValueError(f"{value!r} is not a date; write e.g. 2026-11-20") from None
    return moment


def _hit(hit) -> dict:
    a = hit.article
    return {"id": a.id, "title": a.title, "url": a.url, "source_id": a.source_id,
            "time": (a.published or a.fetched).isoformat(), "level": a.level, "department": a.department,
            "relevance": round(a.relevance, 3), "sensitivity": round(a.sensitivity, 3),
            "snippet": " ".join(a.content.split())[:160], "explanation": list(a.explanation[:6]),
            "story_id": a.story_id, "alert_id": story_alert_id(a.story_id, a.id) if a.level >= 1 else None}


def story_alert_id(story_id: str, article_id: str) -> str:
    """The id the alert service gives the story's alert (:meth:`alerting.intake.Intake.alert_id`)."""
    return Intake.alert_id(story_id or f"article:{article_id}")


def search(index, form: SearchForm) -> dict:
    """Run the search; raises ValueError for a malformed field (the message names it)."""
    level = whole_number(form.level, 0, 3)
    if form.level and level is None:
        raise ValueError(f"level {form.level!r}: 0, 1, 2 or 3")
    min_score = float(form.min_score) if form.min_score else None
    if min_score is not None and not 0 <= min_score <= 1:
        raise ValueError("min_score: between 0 and 1")
    sort = form.sort if form.sort in ("relevance", "newest", "oldest", "level") else "relevance"
    page = max(1, form.page)
    source, office = search_text(form.source), search_text(form.office)
    base = dict(text=search_text(form.q), since=_day(form.since), until=_day(form.until, end=True),
                sources=(source,) if source else (), levels=(level,) if level is not None else (),
                departments=(office,) if office else (), sort=sort)
    if min_score is None:
        found = index.search(Query(**base, offset=(page - 1) * PAGE, limit=PAGE))
        return {"total": found.total, "hits": [_hit(h) for h in found.hits], "page": page,
                "pages": max(1, -(-found.total // PAGE)), "capped": False}
    found = index.search(Query(**base, limit=SCORE_SCAN))
    kept = [h for h in found.hits if max(h.article.relevance, h.article.sensitivity) >= min_score]
    start = (page - 1) * PAGE
    return {"total": len(kept), "hits": [_hit(h) for h in kept[start:start + PAGE]], "page": page,
            "pages": max(1, -(-len(kept) // PAGE)), "capped": found.total > SCORE_SCAN}


def story(service, actor, alert_id: str, index=None) -> dict:
    """The story of an alert: its articles in time order, sources, the spread (cumulative
    articles by hour) and the reach its pages showed (reposts, comments, likes, reads: each
    article's and the story's sum, which the engagement rules weigh). Raises NotFound for an
    alert the actor may not see."""
    detail = service.show(alert_id, actor)
    articles = sorted(detail.articles, key=lambda a: a.seen_at)
    snippets = {}
    if index is not None:
        for a in articles[:50]:
            doc = index.get(a.article_id)
            if doc is not None:
                snippets[a.article_id] = " ".join(doc.content.split())[:120]
    step = _spread_step(articles[-1].seen_at - articles[0].seen_at if articles else timedelta(0))
    counts: Counter = Counter(_floor(a.seen_at.astimezone(SHANGHAI), step) for a in articles)
    spread, total = [], 0
    if counts:
        at, last = min(counts), max(counts)
        while at <= last:
            total += counts.get(at, 0)
            spread.append({"at": at.isoformat(), "new": counts.get(at, 0), "total": total})
            at += step
    sources = Counter(a.source_id for a in articles)
    return {
        "alert_id": alert_id, "title": detail.alert.title, "level": detail.alert.level,
        "state": detail.alert.state, "first_source": detail.alert.first_source,
        "first_seen": detail.alert.first_seen.isoformat(),
        "articles": [{"article_id": a.article_id, "title": a.title, "url": a.url, "source_id": a.source_id,
                      "level": a.level, "published": a.published.isoformat() if a.published else None,
                      "seen_at": a.seen_at.isoformat(), "snippet": snippets.get(a.article_id, ""),
                      "reach": _reach(a.spread or {})}
                     for a in articles],
        "sources": [{"source_id": s, "articles": n} for s, n in sources.most_common()],
        "spread": spread,
        "reach": _reach(detail.alert.reach or {}),
    }


def _reach(counters: dict[str, int]) -> list[dict]:
    """Counters in a fixed order with the names the office reads (转发 评论 点赞 阅读)."""
    return [{"counter": key, "label": label, "count": counters[key]}
            for key, label in COUNTER_NAMES.items() if counters.get(key)]


def _spread_step(span: timedelta) -> timedelta:
    """Buckets fine enough to show a young story's rise: 10 minutes for its first hours."""
    if span <= timedelta(hours=6):
        return timedelta(minutes=10)
    return timedelta(hours=1) if span <= timedelta(days=3) else timedelta(days=1)


def _floor(moment: datetime, step: timedelta) -> datetime:
    if step >= timedelta(days=1):
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    minutes = int(step.total_seconds() // 60)
    return moment.replace(minute=moment.minute - moment.minute % minutes if minutes < 60 else 0,
                          second=0, microsecond=0)


_cache: dict[tuple, tuple[float, dict]] = {}
_cache_lock = threading.Lock()


def trends(index, now: datetime, days: int = 30) -> dict:
    """Volume by level per hour (``days`` ≤ 2) or per day, and rising terms against the period
    before. Cached for 60 s per (index, days, hour)."""
    key = (id(index), days, now.replace(minute=0, second=0, microsecond=0))
    with _cache_lock:
        hit = _cache.get(key)
        if hit and time.monotonic() - hit[0] < 60:
            return hit[1]
    result = _trends(index, now, days)
    with _cache_lock:
        _cache.clear()
        _cache[key] = (time.monotonic(), result)
    return result


def _trends(index, now: datetime, days: int) -> dict:
    local = now.astimezone(SHANGHAI)
    hourly = days <= 2
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    end = (local.replace(minute=0, second=0, microsecond=0) if hourly
           else local.replace(hour=0, minute=0, second=0, microsecond=0)) + step
    start = end - step * (days * 24 if hourly else days)
    buckets, at = [], start
    while at < end:
        buckets.append(at)
        at += step
    series = {level: [] for level in range(4)}
    # Query.until is inclusive on both backends: stop a hair before the next bucket, or an article
    # on the hour would be counted twice
    last = step - timedelta(milliseconds=1)
    for b in buckets:
        for level in range(4):
            series[level].append(index.search(Query(levels=(level,), since=b, until=b + last, limit=0)).total)
    rising = _rising(index, start, end, start - (end - start))
    return {"start": start.isoformat(), "end": end.isoformat(), "step": "hour" if hourly else "day",
            "buckets": [b.strftime("%m-%d %H:00" if hourly else "%m-%d") for b in buckets],
            "series": {str(k): v for k, v in series.items()}, "totals": {str(k): sum(v) for k, v in series.items()},
            "rising": rising}


def _rising(index, start: datetime, end: datetime, previous_start: datetime) -> list[dict]:
    def documents(since, until):
        found = index.search(Query(min_level=1, since=since, until=until - timedelta(milliseconds=1),
                                   sort="newest", limit=2000))
        # one document per story: a story reposted fifty times is one topic, not fifty, and its
        # boilerplate words would otherwise fill the list
        stories = {}
        for h in found.hits:
            stories.setdefault(h.article.story_id or h.article.id, h.article)
        return [tokens(f"{a.title}\n{a.content[:600]}", backend="rjieba") for a in stories.values()]

    terms = rising_terms(documents(start, end), documents(previous_start, start), top=15, min_count=2)
    return [{"term": t.term, "count": t.count, "previous": t.previous, "score": t.score} for t in terms]

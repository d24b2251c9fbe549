"""The volume trigger: a sudden spike of articles naming a watched place, unit or person that no
single story explains.

A story's own spread belongs to its alert (the spread rules of ``alerting.yaml`` raise it): thirty
reposts of one complaint are one event. What the volume trigger adds is a name that many stories
mention at once. Every article that reaches alerting is recorded under each watched name it
contains (title and text, after the normalisation the index uses), with its story and the time it
was seen, and counted in that name's hour (the baseline).

A spike of a name is a window of ``window`` (any window, not clock hours) whose articles naming it,
with the largest story counted once, number at least ``min_articles`` and ``factor`` times the
name's usual count for such a window: its hourly counts over ``baseline`` before the hour the
window starts in. Only the windows holding the article just recorded can have changed, so those
are the ones read, the earlier and the later articles alike: an article that arrives late (seen
before others already taken in) counts wherever it belongs, and the outcome does not depend on the
order of arrival.

Which alert holds a spike is :class:`alerting.intake.Intake`'s business; this module only finds
spikes (:func:`observe`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.config import VolumeSettings
from alerting.store.models import VolumeCount, VolumeMention
from pipeline.text import normalize

__all__ = ["Spike", "watched_names", "observe"]


@dataclass(frozen=True)
class Spike:
    """The fullest qualifying window of one name that holds the article just recorded."""

    name: str
    window_start: datetime
    count: int  # articles naming it in the window
    stories: int  # how many stories they belong to
    usual: float  # the baseline's average for a window of the same length
    article_ids: tuple[str, ...]  # the window's articles, earliest first

    @property
    def story_key(self) -> str:
        """The key of a volume alert that this spike opens."""
        return f"volume:{self.name}:{self.window_start.astimezone(timezone.utc):%Y%m%dT%H%M%S}"


def watched_names(settings: VolumeSettings, text: str) -> list[str]:
    folded = normalize(text)
    names = settings.places + settings.units + settings.persons
    return [name for name in dict.fromkeys(names) if normalize(name) in folded]


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def observe(session: Session, settings: VolumeSettings, article_id: str, story_key: str, text: str,
            at: datetime) -> list[Spike]:
    """Record one article of ``story_key`` seen at ``at``; return, for each watched name it
    contains, the spike it is part of (usually none). Recording an article again changes nothing
    but returns its spikes as they are now."""
    if not settings.enabled:
        return []
    spikes = []
    for name in watched_names(settings, text):
        if session.get(VolumeMention, (name, article_id)) is None:
            session.add(VolumeMention(name=name, article_id=article_id, story_key=story_key, seen_at=at))
            counted = session.get(VolumeCount, (name, _hour(at)))
            if counted is None:
                session.add(VolumeCount(name=name, hour=_hour(at), count=1))
            else:
                counted.count += 1
            session.flush()
        spike = _spike(session, settings, name, at)
        if spike is not None:
            spikes.append(spike)
    return spikes


def _spike(session: Session, settings: VolumeSettings, name: str, at: datetime) -> Spike | None:
    window = settings.window
    rows = session.execute(
        select(VolumeMention.seen_at, VolumeMention.story_key, VolumeMention.article_id)
        .where(VolumeMention.name == name, VolumeMention.seen_at.between(at - window, at + window))
        .order_by(VolumeMention.seen_at, VolumeMention.article_id)).all()
    if len(rows) < settings.min_articles:  # no window can be a spike
        return None
    times = [row.seen_at for row in rows]
    usual = _usual(session, settings, name, {_hour(t) for t in times if t <= at})
    best: Spike | None = None
    # Every window [start, start + window] holding `at` that starts at an article: the fullest
    # such windows are among them. One pass, the window's stories counted as it slides.
    per_story: Counter = Counter()
    end = 0
    for begin, start in enumerate(times):  # all of them at `at - window` or later
        if start > at:
            break
        while end < len(rows) and times[end] <= start + window:
            per_story[rows[end].story_key] += 1
            end += 1
        if begin:  # the article before this window's start leaves it
            leaving = rows[begin - 1].story_key
            per_story[leaving] -= 1
            if not per_story[leaving]:
                del per_story[leaving]
        count = end - begin
        effective = count - max(per_story.values()) + 1  # the largest story counts once
        expected = usual[_hour(start)]
        if effective >= settings.min_articles and effective >= settings.factor * max(expected, 1.0) and (
                best is None or count > best.count):
            best = Spike(name=name, window_start=start, count=count, stories=len(per_story), usual=expected, article_ids=tuple(row.article_id for row in rows[begin:end]))
    return best


def _usual(session: Session, settings: VolumeSettings, name: str, hours: set[datetime]) -> dict[datetime, float]:
    """For each hour a window may start in: the name's average count per window over the baseline
    before that hour (hourly counts; the window's own hour is not part of it)."""
    if not hours:
        return {}
    counts = dict(session.execute(select(VolumeCount.hour, VolumeCount.count).where(
        VolumeCount.name == name, VolumeCount.hour >= min(hours) - settings.baseline,
        VolumeCount.hour < max(hours))).all())
    windows = max(1.0, settings.baseline / settings.window)
    return {hour: sum(n for h, n in counts.items() if hour - settings.baseline <= h < hour) / windows
            for hour in hours}

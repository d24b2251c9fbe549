"""The volume trigger: a sudden spike of articles naming a watched place, unit or person.

Every article that reaches alerting is counted, per hour, under each watched name it contains
(title and text, after the same normalisation the index uses). When the count over the last
``window`` is at least ``min_articles`` and ``factor`` times the name's usual count for such a
window over the preceding ``baseline``, one volume alert opens for that name and window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from alerting.config import VolumeSettings
from alerting.store.models import VolumeCount
from pipeline.text import normalize

__all__ = ["Spike", "watched_names", "observe"]


@dataclass(frozen=True)
class Spike:
    name: str
    window_start: datetime
    count: int
    usual: float  # the baseline's average for a window of the same length

    @property
    def story_key(self) -> str:
        return f"volume:{self.name}:{self.window_start:%Y%m%d%H}"


def watched_names(settings: VolumeSettings, text: str) -> list[str]:
    folded = normalize(text)
    names = settings.places + settings.units + settings.persons
    return [name for name in dict.fromkeys(names) if normalize(name) in folded]


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def observe(session: Session, settings: VolumeSettings, text: str, at: datetime) -> list[Spike]:
    """Count one article seen at ``at``; return the spikes it completes (usually none)."""
    if not settings.enabled:
        return []
    hour = _hour(at)
    spikes = []
    for name in watched_names(settings, text):
        row = session.get(VolumeCount, (name, hour))
        if row is None:
            session.add(VolumeCount(name=name, hour=hour, count=1))
        else:
            row.count += 1
        session.flush()
        window_hours = max(1, int(settings.window.total_seconds() // 3600))
        start = hour - timedelta(hours=window_hours - 1)
        base_start = start - settings.baseline

        # the window and the baseline before it, in one query
        current, before = session.execute(select(
            func.coalesce(func.sum(case((VolumeCount.hour >= start, VolumeCount.count), else_=0)), 0),
            func.coalesce(func.sum(case((VolumeCount.hour < start, VolumeCount.count), else_=0)), 0),
        ).where(VolumeCount.name == name, VolumeCount.hour >= base_start, VolumeCount.hour <= hour)).one()
        windows = max(1.0, settings.baseline / timedelta(hours=window_hours))
        usual = before / windows
        if current >= settings.min_articles and current >= settings.factor * max(usual, 1.0):
            spikes.append(Spike(name=name, window_start=start, count=current, usual=usual))
    return spikes

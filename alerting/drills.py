"""Drills (演练): alerts the office runs through the workflow to practise, never real opinion.

A drill alert is an ordinary alert whose story key starts with :data:`DRILL_PREFIX`, so every
query that counts real work can leave it out with one condition (:func:`real_alerts`), and every
place that shows an alert can label it (:func:`is_drill`).
"""

from __future__ import annotations

from alerting.store.models import Alert

__all__ = ["DRILL_PREFIX", "DRILL_LABEL", "is_drill", "real_alerts"]

DRILL_PREFIX = "drill:"
DRILL_LABEL = "【演练】"


def is_drill(alert: Alert) -> bool:
    return alert.story_key.startswith(DRILL_PREFIX)


def real_alerts():
    """The SQL condition that keeps drill alerts out of counts, briefings and reports."""
    return Alert.story_key.not_like(f"{DRILL_PREFIX}%")

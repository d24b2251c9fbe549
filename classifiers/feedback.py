"""Analysts' corrections (误报 false alarm, 漏报 missed item, 分办错误 wrong office), kept for the next
training run.

Each correction stores the text as it was judged and the labels the analyst says are right, so a
later training run learns from it even when the article has left the index. Corrections always go
to the training side, never to the held-out split.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from classifiers.corpus import Example
from pipeline.records import DEPARTMENTS

Kind = Literal["false_alarm", "missed", "wrong_department"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    n          INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    text       TEXT NOT NULL,
    level      INTEGER NOT NULL,
    department TEXT NOT NULL,
    sensitive  INTEGER NOT NULL,
    note       TEXT NOT NULL,
    analyst    TEXT NOT NULL,
    at         TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Correction:
    article_id: str
    kind: Kind
    title: str
    text: str
    level: int
    department: str
    sensitive: bool
    note: str = ""
    analyst: str = ""

    def __post_init__(self):
        if not 0 <= self.level <= 3:
            raise ValueError("level must be 0..3")
        if (self.level == 0) != (self.department == ""):
            raise ValueError("an office is given exactly when the level is above 0")
        if self.department and self.department not in DEPARTMENTS:
            raise ValueError(f"{self.department!r} is not one of {', '.join(DEPARTMENTS)}")

    def example(self) -> Example:
        digest = hashlib.sha256(f"{self.article_id}|{self.level}|{self.department}".encode())
        return Example(id=f"feedback-{digest.hexdigest()[:16]}", title=self.title, text=self.text,
                       relevant=self.level > 0, sensitive=self.sensitive and self.level > 0,
                       level=self.level, department=self.department, genre="feedback")


class FeedbackStore:
    """``add(correction)``, ``all()``; a SQLite file under the data dir."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(path)
        self._conn.executescript(_SCHEMA)

    def add(self, c: Correction) -> int:
        with self._conn:
            cur = self._conn.execute(
                "INSERT INTO feedback (article_id, kind, title, text, level, department, sensitive,"
                " note, analyst, at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (c.article_id, c.kind, c.title, c.text, c.level, c.department, int(c.sensitive),
                 c.note, c.analyst, datetime.now(timezone.utc).isoformat(timespec="seconds")))
        return cur.lastrowid

    def all(self) -> list[Correction]:
        """Every correction; for one article only its latest counts."""
        rows = self._conn.execute(
            "SELECT article_id, kind, title, text, level, department, sensitive, note, analyst "
            "FROM feedback ORDER BY n").fetchall()
        latest: dict[str, Correction] = {}
        for r in rows:
            latest[r[0]] = Correction(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8])
        return list(latest.values())

    def close(self) -> None:
        self._conn.close()

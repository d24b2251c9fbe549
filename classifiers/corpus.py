"""The labelled corpus (classifiers/data/corpus/*.jsonl) and its fixed train / held-out split.

The split is decided by a hash of each record's id, not by a random draw: the same record is
always on the same side, whatever is added later, so the held-out set is never trained on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable

from classifiers.levels import GENRES
from pipeline.errors import RecordError
from pipeline.records import DEPARTMENTS

HELD_OUT_SHARE = 5  # one record in five is held out


@dataclass(frozen=True)
class Example:
    """One labelled text. ``department`` is "" when not relevant."""

    id: str
    title: str
    text: str
    relevant: bool
    sensitive: bool
    level: int
    department: str
    genre: str = ""
    script: str = ""
    form: str = ""  # the genre head's class (classifiers.levels.GENRES); "" when not known

    @property
    def full_text(self) -> str:
        return f"{self.title}\n{self.text}" if self.title else self.text

    @property
    def held_out(self) -> bool:
        digest = hashlib.sha256(self.id.encode("utf-8")).digest()
        return digest[0] % HELD_OUT_SHARE == 0


def corpus_dir() -> Path:
    return Path(str(resources.files("classifiers") / "data" / "corpus"))


def read_examples(path: Path) -> list[Example]:
    """Examples of one JSONL file; a bad line is a RecordError naming ``file:line``."""
    out = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                r = json.loads(line)
                example = Example(
                    id=r["id"], title=r.get("title", ""), text=r["text"],
                    relevant=bool(r["relevant"]), sensitive=bool(r["sensitive"]),
                    level=int(r["level"]), department=r.get("department", ""),
                    genre=r.get("genre", ""), script=r.get("script", ""), form=r.get("form", ""),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise RecordError(where, f"{type(exc).__name__}: {exc}") from None
            if not 0 <= example.level <= 3 or (example.level == 0) != (not example.relevant):
                raise RecordError(where, "level must be 0..3, and 0 exactly when not relevant")
            if example.form and example.form not in GENRES:
                raise RecordError(where, f"form {example.form!r} is not one of {', '.join(GENRES)}")
            if example.department not in ("", *DEPARTMENTS):
                raise RecordError(where, f"department {example.department!r} is not one of "
                                  f"{', '.join(DEPARTMENTS)} or empty")
            out.append(example)
    return out


def load_corpus(directory: Path | None = None) -> list[Example]:
    """All examples, in a stable order (files sorted, lines in order)."""
    directory = directory or corpus_dir()
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise RecordError(str(directory), "no *.jsonl corpus files here")
    examples = [e for f in files for e in read_examples(f)]
    seen: dict[str, str] = {}
    for e in examples:
        if e.id in seen:
            raise RecordError(str(directory), f"id {e.id!r} appears twice")
        seen[e.id] = e.id
    return examples


def data_hash(examples: Iterable[Example]) -> str:
    """A hash of the labelled data a model was trained on (ids, texts and labels)."""
    h = hashlib.sha256()
    for e in examples:
        h.update(json.dumps([e.id, e.title, e.text, e.relevant, e.sensitive, e.level,
                             e.department] + ([e.form] if e.form else []),
                            ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """(train, held_out) by the fixed hash rule."""
    return [e for e in examples if not e.held_out], [e for e in examples if e.held_out]

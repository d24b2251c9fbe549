"""The office's keyword schemes (监测方案), editable in YAML, applied on top of the model.

A scheme has the shape commercial monitoring systems use: region words AND subject words AND event
words, NOT exclusion words. Each list may be empty (no condition) and may name a shared word group
with ``@group``. When a scheme matches, it can force the article to count as relevant, raise its
level to at least ``level``, and route it to an office; it always shows up in the explanation as
``规则:<name>``. Rules only ever raise: lowering a level is what analysts' feedback and retraining
are for, so a mistyped rule cannot hide an item.

    groups:
      本地: [会昌, 赣州, 筠门岭]
    schemes:
      - name: 本地涉纪检监察负面
        regions: ["@本地"]
        events: [被查, 双开, 举报, 问责]
        exclusions: [双开门]
        level: 2
        force_relevant: true
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline import text
from pipeline.errors import ConfigError
from pipeline.records import DEPARTMENTS
from pipeline.yamlfile import parse_yaml, validation_problems



class Scheme(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    regions: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()
    level: int | None = Field(default=None, ge=1, le=3)
    force_relevant: bool = False
    department: str | None = None
    enabled: bool = True

    @field_validator("department")
    @classmethod
    def _office(cls, v: str | None) -> str | None:
        if v is not None and v not in DEPARTMENTS:
            raise ValueError(f"{v!r} is not an office; use one of {', '.join(DEPARTMENTS)}")
        return v


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    groups: dict[str, tuple[str, ...]] = {}
    schemes: tuple[Scheme, ...] = ()


@dataclass(frozen=True)
class Hit:
    """A scheme that matched, with the words that made it match."""

    scheme: Scheme
    words: tuple[str, ...]


class RuleSet:
    """Compiled schemes: ``match(text)`` → the schemes that apply, in file order."""

    def __init__(self, rules: RuleFile, source: str = "rules"):
        self.source = source
        self.schemes: list[tuple[Scheme, list[tuple[str, ...]], tuple[str, ...]]] = []
        problems = []
        for i, scheme in enumerate(rules.schemes):
            if not scheme.enabled:
                continue
            lists = []
            for part in ("regions", "subjects", "events", "exclusions"):
                words, unknown = _expand(getattr(scheme, part), rules.groups)
                problems += [f"{source}: schemes[{i}].{part}: no group named {g!r}" for g in unknown]
                lists.append(tuple(text.normalize(w) for w in words))
            self.schemes.append((scheme, lists[:3], lists[3]))
        if problems:
            raise ConfigError(problems)
        self._finder, self._inside = _finder({w for _, conds, excl in self.schemes
                                              for words in (*conds, excl) for w in words})
        self._starts = frozenset(w[0] for w in self._inside)

    def present(self, body: str) -> set[str]:
        """Every scheme word that occurs in ``body``, found in one scan.

        One alternation of all words, longest first, finds the longest word at each match; a
        word that starts inside a match and runs past it is looked for at those few positions;
        the shorter words inside a found word come from a table built once. (A lookahead pattern
        would find overlaps by itself but is several times slower.)
        """
        if self._finder is None:
            return set()
        found: set[str] = set()
        starts = self._starts
        for m in self._finder.finditer(body):
            found.add(m.group())
            for pos in range(m.start() + 1, m.end()):
                if body[pos] in starts:  # only a word's first character can start one
                    inner = self._finder.match(body, pos)
                    if inner:
                        found.add(inner.group())
        for word in list(found):
            found.update(self._inside[word])
        return found

    def match(self, body: str) -> list[Hit]:
        """``body`` must already be normalised (pipeline.text.normalize)."""
        present = self.present(body)
        hits = []
        for scheme, conditions, exclusions in self.schemes:
            if any(w in present for w in exclusions):
                continue
            found: list[str] = []
            for words in conditions:
                if not words:
                    continue
                matched = [w for w in words if w in present]
                if not matched:
                    break
                found += matched
            else:
                if found or not any(conditions):
                    hits.append(Hit(scheme, tuple(found)))
        return hits


def _finder(words: set[str]):
    words = {w for w in words if w}
    if not words:
        return None, {}
    ordered = sorted(words, key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, ordered)))
    inside = {w: [v for v in words if v != w and v in w] for w in words}
    return pattern, inside


def _expand(words: tuple[str, ...], groups: dict[str, tuple[str, ...]]):
    out, unknown = [], []
    for w in words:
        if w.startswith("@"):
            if w[1:] in groups:
                out += groups[w[1:]]
            else:
                unknown.append(w[1:])
        else:
            out.append(w)
    return out, unknown


def default_rules_path() -> Path:
    return Path(str(resources.files("classifiers") / "rules.yaml"))


def load_rules(path: Path | None = None) -> RuleSet:
    """Read and compile a rule file; every mistake is reported as ``FILE:LINE: ...``."""
    path = path or default_rules_path()
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read rules: {exc}") from None
    data, marks = parse_yaml(raw, str(path))
    try:
        rules = RuleFile.model_validate(data or {})
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, marks, RuleFile)) from None
    return RuleSet(rules, str(path))

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

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
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
    """Compiled schemes: ``match(text)`` → the schemes that apply, in file order.

    ``match_many(texts)`` does the same for a batch: every scheme word is looked for in all the
    texts at once (:class:`WordFinder`), then each scheme is decided for all of them on the table
    of which words each text has.
    """

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
        self.finder = WordFinder({w for _, conds, excl in self.schemes
                                  for words in (*conds, excl) for w in words})
        column = self.finder.column
        # Per scheme: the columns of its exclusions and of each non-empty condition. A word that
        # normalises to nothing has no column: it is never present.
        self._columns = [
            (np.array([column[w] for w in excl if w in column], dtype=np.int64),
             [np.array([column[w] for w in words if w in column], dtype=np.int64)
              for words in conds if words])
            for _, conds, excl in self.schemes]

    def present(self, body: str) -> set[str]:
        """Every scheme word that occurs in ``body`` (normalised), overlapping ones included."""
        [row] = self.finder.table([body])
        return {self.finder.words[k] for k in np.flatnonzero(row).tolist()}

    def match(self, body: str) -> list[Hit]:
        """``body`` must already be normalised (pipeline.text.normalize)."""
        return self.match_many([body])[0]

    def match_many(self, bodies: list[str]) -> list[list[Hit]]:
        """:meth:`match` of each normalised text."""
        found = self.finder.table(bodies)
        hits: list[list[Hit]] = [[] for _ in bodies]
        column = self.finder.column
        for (scheme, conditions, _), (excluded, needed) in zip(self.schemes, self._columns):
            ok = ~found[:, excluded].any(axis=1)
            for columns in needed:
                ok &= found[:, columns].any(axis=1)
            for i in np.flatnonzero(ok).tolist():
                row = found[i]
                words = tuple(w for words in conditions for w in words
                              if w in column and row[column[w]])
                hits[i].append(Hit(scheme, words))
        return hits


class WordFinder:
    """Which of a fixed set of words occur in each text of a batch, as substrings (a word inside
    or overlapping another counts too).

    ``table(texts)`` → a boolean array, one row per text, one column per word (``words[k]`` is
    column k). The texts are scanned together as arrays of code points: the positions holding
    some word's first character are found at once, each is paired with the words that start with
    that character, and the pairs are compared one character at a time, all pairs at once.
    Several times faster than a regular expression, whose alternation tries every word, one after
    the other, at every such position.
    """

    #: Texts are scanned in groups of about this many characters (bounds the arrays' memory).
    CHUNK = 1_000_000

    def __init__(self, words: set[str]):
        self.words = sorted(w for w in words if w)
        self.column = {w: k for k, w in enumerate(self.words)}
        width = max(map(len, self.words), default=1)
        self.chars = np.full((len(self.words), width), -1, dtype=np.int64)  # -1: past the end
        for k, w in enumerate(self.words):
            self.chars[k, :len(w)] = [ord(c) for c in w]
        self.lengths = np.array([len(w) for w in self.words], dtype=np.int64)
        # The words are sorted, so those sharing a first character are a run of columns; a table
        # over every code point gives the run (1 + its number; 0: no word starts so).
        initials, self.group_start, self.group_size = np.unique(
            self.chars[:, 0], return_index=True, return_counts=True)
        self.group_of = np.zeros(0x110000, dtype=np.uint16 if len(initials) < 2**16 else np.int64)
        self.group_of[initials] = np.arange(1, len(initials) + 1)

    def table(self, texts: list[str]) -> np.ndarray:
        found = np.zeros((len(texts), len(self.words)), dtype=bool)
        text_of, word = self.occurrences(texts)
        found[text_of, word] = True
        return found

    def occurrences(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Each occurrence of a word in the batch as (index of the text, column of the word), in
        no particular order; a word found twice in a text is there twice. For many short texts
        (the sentences of a batch) this is much smaller than :meth:`table`."""
        empty = np.zeros(0, dtype=np.int64)
        if not self.words or not texts:
            return empty, empty
        ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))
        texts_of, words = [], []
        start = 0
        while start < len(texts):
            # Whole texts up to about CHUNK characters (at least one text).
            before = int(ends[start - 1]) if start else 0
            end = max(int(np.searchsorted(ends, before + self.CHUNK, side="left")) + 1, start + 1)
            end = min(end, len(texts))
            text_of, word = self._scan(texts[start:end])
            texts_of.append(text_of + start)
            words.append(word)
            start = end
        return np.concatenate(texts_of), np.concatenate(words)

    def _scan(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        width = self.chars.shape[1]
        # Padding after the last text keeps every window inside the array; a word that would run
        # past the end of its text is refused below, whatever the next text holds.
        chars = np.frombuffer(("".join(texts) + " " * width).encode("utf-32-le"), dtype=np.uint32)
        ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))
        groups = self.group_of[chars[:-width]]
        at = np.flatnonzero(groups)
        group = groups[at].astype(np.int64) - 1
        # Each such position paired with each word starting with its character ...
        sizes = self.group_size[group]
        at = np.repeat(at, sizes)
        word = np.repeat(self.group_start[group] - (np.cumsum(sizes) - sizes), sizes) \
            + np.arange(len(at))
        # ... keeps the pairs whose next characters agree, one character at a time (few pairs
        # get past the second).
        for k in range(1, width):
            expected = self.chars[word, k]
            agree = (expected < 0) | (chars[at + k] == expected)
            at, word = at[agree], word[agree]
        text_of = np.searchsorted(ends, at, side="right")
        inside = at + self.lengths[word] <= ends[text_of]
        return text_of[inside], word[inside]


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

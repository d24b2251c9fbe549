"""Judge labelled passages of real web text (``yuqing model eval --real DIR``).

DIR holds ``*.jsonl`` files in the shape of ``shared/realworld/passages`` (``id``, ``title``,
``text``, ``script``, ``relevant``, ``sensitive``, ``level``, ``department``, ``hard_case``). The
passages are third-party text, read at run time and never copied or trained on: this module only
measures. Instead of a folder, the analysts' corrections (``DATA_DIR/feedback.sqlite3``) can be
measured the same way: each correction is an item with the level and office the analyst gave
(a note containing "borderline" or "存疑" marks it borderline). Corrections join the next
training, so a model trained after them should agree with most of them. Every figure is given on all items and on the items left when those whose ``hard_case``
note says "borderline" are set aside, since a second reader could label those differently.

Figures: relevance precision / recall / F1; the level confusion matrix; precision and recall of
level >= 2; each item labelled or judged 重大 (level 3) one by one with the signals that decided;
office accuracy on the items labelled relevant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from classifiers.feedback import FeedbackStore
from pipeline.errors import RecordError

__all__ = ["RealItem", "RealResult", "judge_items", "load_items", "report", "report_markdown",
           "run", "summary"]

#: Word in a ``hard_case`` note that marks an item a second reader could label differently.
BORDERLINE = "borderline"


@dataclass(frozen=True)
class RealItem:
    """One labelled passage."""

    id: str
    title: str
    text: str
    script: str
    relevant: bool
    sensitive: bool
    level: int
    department: str
    note: str

    @property
    def borderline(self) -> bool:
        note = self.note.lower()
        return BORDERLINE in note or "存疑" in note

    @property
    def full_text(self) -> str:
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True)
class RealResult:
    """A passage with what the scorer said about it."""

    item: RealItem
    level: int
    department: str
    relevance: float
    sensitivity: float
    explanation: tuple[str, ...]


def load_items(directory: Path) -> list[RealItem]:
    """Every passage of ``directory/*.jsonl``, files sorted; a bad line is a RecordError. A
    ``.sqlite3`` file is read as the analysts' corrections instead."""
    if Path(directory).suffix == ".sqlite3":
        return _feedback_items(Path(directory))
    files = sorted(Path(directory).glob("*.jsonl"))
    if not files:
        raise RecordError(str(directory), "no *.jsonl files of labelled passages here")
    items = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                items.append(RealItem(
                    id=str(r["id"]), title=r.get("title") or "", text=r["text"],
                    script=r.get("script", ""), relevant=bool(r["relevant"]),
                    sensitive=bool(r.get("sensitive", False)), level=int(r["level"]),
                    department=r.get("department") or "", note=r.get("hard_case") or ""))
            except (ValueError, KeyError, TypeError) as exc:
                raise RecordError(f"{path}:{number}", f"{type(exc).__name__}: {exc}") from None
    return items


def _feedback_items(path: Path) -> list[RealItem]:
    if not path.exists():
        raise RecordError(str(path), "no feedback store here (see `yuqing model feedback`)")
    store = FeedbackStore(path)
    try:
        return [RealItem(id=c.article_id[:12], title=c.title, text=c.text, script="",
                         relevant=c.level > 0, sensitive=c.sensitive, level=c.level,
                         department=c.department, note=c.note) for c in store.all()]
    finally:
        store.close()


def run(scorer, source: Path, version: str) -> str:
    """``yuqing model eval --real SOURCE``: the Markdown report of ``scorer`` on the passages
    (or corrections) in ``source``, with the figures as JSON after it."""
    results = judge_items(scorer, load_items(source))
    return (report_markdown(results, f"{version} on the real passages in {source}")
            + "\n" + json.dumps(report(results), ensure_ascii=False) + "\n")


def judge_items(scorer, items: list[RealItem], batch: int = 256) -> list[RealResult]:
    """Score each passage as ``yuqing classify`` does (title, a line break, the text)."""
    out = []
    for start in range(0, len(items), batch):
        part = items[start:start + batch]
        for item, j in zip(part, scorer.judge_many([i.full_text for i in part])):
            out.append(RealResult(item, j.level, j.department, j.relevance, j.sensitivity,
                                  tuple(j.explanation)))
    return out


def _prf(truth: list[bool], flagged: list[bool]) -> dict:
    tp = sum(t and f for t, f in zip(truth, flagged))
    fp = sum(f and not t for t, f in zip(truth, flagged))
    fn = sum(t and not f for t, f in zip(truth, flagged))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f1, 3),
            "support": tp + fn, "flagged": tp + fp}


def summary(results: list[RealResult]) -> dict:
    """The figures of one group of results (see the module docstring)."""
    confusion = [[0] * 4 for _ in range(4)]
    for r in results:
        confusion[r.item.level][r.level] += 1
    relevant = [r for r in results if r.item.relevant]
    return {
        "items": len(results),
        "relevance": _prf([r.item.relevant for r in results], [r.level > 0 for r in results]),
        "level>=2": _prf([r.item.level >= 2 for r in results], [r.level >= 2 for r in results]),
        "level=3": _prf([r.item.level == 3 for r in results], [r.level == 3 for r in results]),
        "level_confusion": confusion,
        "exact_level": round(sum(r.level == r.item.level for r in results) / len(results), 3)
        if results else 0.0,
        "department_accuracy": round(sum(r.department == r.item.department for r in relevant)
                                     / len(relevant), 3) if relevant else 0.0,
        "department_items": len(relevant),
    }


def report(results: list[RealResult]) -> dict:
    """Figures on all items, without the borderline ones, and per script."""
    groups = {"all": results, "without borderline": [r for r in results if not r.item.borderline]}
    for script in sorted({r.item.script for r in results if r.item.script}):
        groups[f"script {script}"] = [r for r in results if r.item.script == script]
    return {name: summary(group) for name, group in groups.items()}


def major_items(results: list[RealResult]) -> list[RealResult]:
    """Items labelled or judged 重大, in id order."""
    return sorted((r for r in results if r.item.level == 3 or r.level == 3),
                  key=lambda r: r.item.id)


def report_markdown(results: list[RealResult], title: str, show_text: bool = True) -> str:
    """The report as Markdown. ``show_text=False`` leaves out every title (ids only), for docs."""
    figures = report(results)
    lines = [f"## {title}", "",
             "| group | items | relevance P / R / F1 | level ≥ 2 P / R | 重大 P / R | "
             "exact level | office accuracy |", "|---|---|---|---|---|---|---|"]
    for name, s in figures.items():
        rel, warn, major = s["relevance"], s["level>=2"], s["level=3"]
        lines.append(
            f"| {name} | {s['items']} | {rel['precision']:.2f} / {rel['recall']:.2f} / "
            f"{rel['f1']:.2f} | {warn['precision']:.2f} / {warn['recall']:.2f} | "
            f"{major['precision']:.2f} / {major['recall']:.2f} ({major['flagged']} judged, "
            f"{major['support']} labelled) | {s['exact_level']:.2f} | "
            f"{s['department_accuracy']:.2f} ({s['department_items']}) |")
    for name in ("all", "without borderline"):
        lines += ["", f"Level confusion, {name} (rows: labelled 0..3, columns: judged):", "",
                  "| | 0 | 1 | 2 | 3 |", "|---|---|---|---|---|"]
        for i, row in enumerate(figures[name]["level_confusion"]):
            lines.append(f"| **{i}** | " + " | ".join(map(str, row)) + " |")
    lines += ["", "重大 item by item (labelled or judged level 3):", "",
              "| id | " + ("title | " if show_text else "") + "labelled | judged | borderline | "
              "deciding signals |", "|---" * (5 + show_text) + "|"]
    for r in major_items(results):
        head = (r.item.title or r.item.text).replace("\n", " ").replace("|", "/")[:14]
        lines.append(f"| {r.item.id} | " + (f"{head} | " if show_text else "")
                     + f"{r.item.level} {r.item.department or '-'} | {r.level} "
                     f"{r.department or '-'} | {'yes' if r.item.borderline else ''} | "
                     f"{'、'.join(r.explanation[:6])} |")
    return "\n".join(lines) + "\n"

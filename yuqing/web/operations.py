"""The operators' page: crawl sources with their health, the YAML with validation, test fetches;
and the briefings folder.

The sources are read with :func:`crawlers.sources.load_sources` and their health from the crawl
state (:mod:`crawlers.state`), as ``yuqing sources list`` does. An edited file is validated
before it is saved: the whole sources folder is copied to a scratch folder with the edit in place
and loaded there, so a duplicate id in another file is caught too, and problems read
``sources.yaml:12:5 sources[3].url: ...`` with the real file name. Saving writes a new file and
renames it over the old one (never half a file), keeps the previous version as ``NAME.bak``, and
writes ``sources_save`` with both hashes to the audit log. The crawler picks the change up at its
next reload (``SourceWatcher``).

The test fetch is ``yuqing sources test``: one round of one source, nothing published, nothing
marked seen.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from alerting import audit
from crawlers import sources as crawl_sources
from crawlers.base import FetchError
from crawlers.fetch import Fetcher
from crawlers.poll import PollSource
from crawlers.sources import load_sources
from crawlers.state import StateStore, health
from pipeline.errors import ConfigError
from pipeline.records import beijing_minute
from pipeline.yamlfile import MAX_YAML_BYTES

__all__ = ["source_rows", "source_files", "check_yaml", "save_yaml", "test_fetch", "briefings",
           "briefing_file", "HEALTH_LABELS", "MAX_SOURCES_FORM"]

HEALTH_LABELS = {"ok": "正常", "failing_soft": "暂时失败", "failing_hard": "持续失败", "quiet": "长期无更新",
                 "blocked": "被屏蔽", "unknown": "尚未抓取", "disabled": "已停用"}


def source_files(path: Path | None) -> list[Path]:
    if path is None or not path.exists():
        return []
    return crawl_sources.source_files(path)


def source_rows(path: Path | None, state_path: Path | None, now: datetime) -> tuple[list[dict], list[str]]:
    """Every source with its health, last fetch, status and errors; and the problems of the YAML
    (then the rows are empty: the crawler would refuse the file too)."""
    if path is None or not path.exists():
        return [], [f"{path or 'sources.yaml'}: no sources file; give one with yuqing console --sources PATH"]
    try:
        loaded = load_sources(path)
    except ConfigError as exc:
        return [], list(exc.problems)
    states = {}
    waiting: dict[str, list[int]] = {}  # source -> [pages waiting for a retry, given up]
    if state_path is not None and state_path.exists():
        store = StateStore(state_path)
        try:
            states = store.states()
            for kept in store.pending():
                waiting.setdefault(kept.source_id, [0, 0])[kept.gave_up_at is not None] += 1
        finally:
            store.close()
    rows = []
    for source in loaded.sources:
        state = states.get(source.id)
        word = health(state, source.quiet_after, now) if source.enabled else "disabled"
        rows.append({
            "id": source.id, "name": source.name, "type": source.type, "enabled": source.enabled,
            "url": source.start_urls[0] if source.start_urls else "", "where": loaded.where.get(source.id, ""),
            "health": word, "health_label": HEALTH_LABELS.get(word, word),
            "last_fetch": state.last_fetch_at.isoformat() if state and state.last_fetch_at else None,
            "last_fetch_bj": beijing_minute(state.last_fetch_at) if state and state.last_fetch_at else "—",
            "last_new_bj": beijing_minute(state.last_new_at) if state and state.last_new_at else "—",
            "status": state.last_status if state else None,
            "errors": state.error_count if state else 0,
            "last_error": state.last_error if state and state.error_count else None,
            "pages_waiting": waiting.get(source.id, [0, 0])[0],
            "pages_given_up": waiting.get(source.id, [0, 0])[1],
        })
    return rows, []


def _scratch_copy(path: Path, file: Path, text: str) -> tuple[Path, str]:
    scratch = Path(tempfile.mkdtemp(prefix="yuqing-sources-"))
    if path.is_dir():
        for other in source_files(path):
            shutil.copyfile(other, scratch / other.name)
        (scratch / file.name).write_text(text, encoding="utf-8")
        return scratch, str(scratch)
    target = scratch / file.name
    target.write_text(text, encoding="utf-8")
    return scratch, str(target)


#: the largest sources form accepted (yuqing.web.limits holds it to this): a file at the YAML cap,
#: percent-encoded (3 characters a byte at worst), and room for the other fields
MAX_SOURCES_FORM = 3 * MAX_YAML_BYTES + 65_536


def check_yaml(path: Path, file: Path, text: str) -> list[str]:
    """Problems of ``file`` (one of ``path``'s files) if its content were ``text``; [] when fine.
    Read as the crawler reads it (``pipeline.yamlfile``: size cap, alias bounds), so an upload
    that would exhaust the crawler is refused here, before anything is written."""
    size = len(text.encode("utf-8"))
    if size > MAX_YAML_BYTES:
        return [f"{file}: {size} bytes is larger than {MAX_YAML_BYTES}; split it into several files"]
    scratch, load_from = _scratch_copy(path, file, text)
    try:
        load_sources(load_from)
    except ConfigError as exc:
        real = str(path) if path.is_dir() else str(file.parent)
        return [re.sub(re.escape(str(scratch)), real, p) for p in exc.problems]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return []


def save_yaml(store, path: Path, file: Path, text: str, actor: str, now: datetime) -> list[str]:
    """Validate and, when there is no problem, save atomically; returns the problems ([] = saved)."""
    problems = check_yaml(path, file, text)
    if problems:
        return problems
    before = file.read_bytes() if file.exists() else b""
    if before:
        shutil.copyfile(file, file.with_name(file.name + ".bak"))
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, file)
    with store.session() as session:
        audit.append(session, now, actor, "sources_save", None,
                     {"file": str(file), "sha256": hashlib.sha256(before).hexdigest()},
                     {"file": str(file), "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()})
    return []


def test_fetch(path: Path, source_id: str, chars: int = 120) -> dict:
    """One round of ``source_id`` as the crawler would poll it; nothing is published or kept."""
    source = load_sources(path).get(source_id)  # KeyError names the known ids
    with Fetcher() as fetcher:
        try:
            result = PollSource(fetcher, state=None).run(source)
        except FetchError as exc:
            return {"source_id": source_id, "error": str(exc), "articles": [], "warnings": []}
    return {"source_id": source_id, "error": None, "warnings": list(result.warnings), "articles": [
        {"title": c.article.title, "url": c.article.url,
         "published": beijing_minute(c.article.published) if c.article.published else "（无日期）",
         "text": " ".join(c.article.content.split())[:chars]} for c in result.candidates]}


_BRIEFING = re.compile(r"^[\w.\-]+\.(html|pdf)$")


def briefings(folder: Path | None) -> list[dict]:
    """The briefings ``yuqing report`` wrote: one entry per name, with its HTML and PDF, newest first."""
    if folder is None or not folder.is_dir():
        return []
    by_stem: dict[str, dict] = {}
    for f in folder.iterdir():
        if not f.is_file() or not _BRIEFING.match(f.name):
            continue
        entry = by_stem.setdefault(f.stem, {"name": f.stem, "html": None, "pdf": None, "modified": 0.0, "size": 0})
        entry[f.suffix[1:]] = f.name
        entry["modified"] = max(entry["modified"], f.stat().st_mtime)
        entry["size"] += f.stat().st_size
    rows = sorted(by_stem.values(), key=lambda e: (-e["modified"], e["name"]))
    for row in rows:
        row["modified_bj"] = beijing_minute(datetime.fromtimestamp(row["modified"]).astimezone())
    return rows


def briefing_file(folder: Path | None, name: str) -> Path | None:
    """The file ``name`` directly inside ``folder``, or None (no paths, no other suffixes)."""
    if folder is None or not _BRIEFING.match(name) or "/" in name or name.startswith("."):
        return None
    candidate = folder / name
    if candidate.resolve().parent != folder.resolve() or not candidate.is_file():
        return None
    return candidate

"""A log an insider cannot rewrite quietly: on SQLite and PostgreSQL, every way of hiding an action
from the audit log that someone with write access to the database has is detected — an edited
entry, a chain recomputed without the key, the tail cut and the head rewritten, everything wiped,
an alert's state changed with no entry."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select, text, update

from alerting import anchors, audit
from alerting.access import Actor
from alerting.config import AlertingConfig
from alerting.service import AlertService
from alerting.store import open_store
from alerting.store.models import Alert, AuditEntry, AuditHead
from alerting.testing import NINE, scored
from pipeline.errors import ConfigError

KEY = audit.AuditKey(b"k" * 32)
STAFF = Actor("王敏", "宣传部")


@pytest.fixture
def keyed(store_url, clock):
    """A service whose store holds the audit key, with a day's work in the log."""
    store = open_store(store_url)
    store.use_audit_key(KEY)
    service = AlertService(store, AlertingConfig(), clock=clock, channels={})
    major = service.ingest(scored("网传某镇纪委包庇违纪干部", at=NINE, level=3, story="s1"))
    minor = service.ingest(scored("某村低保优亲厚友", at=NINE, level=1, story="s2"))
    service.judge(major, STAFF, "属实可能性大")
    service.warn(major, STAFF, ["信访室"])
    service.dismiss(minor, STAFF, "与纪检监察无关")
    yield service
    store.close()


def tamper(service: AlertService, *statements) -> None:
    """What an insider with the database's password does: the append-only triggers go first."""
    postgres = service.store.dialect == "postgresql"
    with service.store.engine.begin() as connection:
        for what in ("update", "delete"):
            connection.execute(text(f"DROP TRIGGER IF EXISTS audit_log_no_{what}"
                                    + (" ON audit_log" if postgres else "")))
        for statement in statements:
            connection.execute(statement)


def check(service: AlertService, anchor_file=None) -> list[str]:
    with service.store.session() as session:
        _, problems = audit.verify(session)
        if anchor_file is not None:
            problems += anchors.check(session, anchors.read(anchor_file))
        problems += audit.verify_states(session)
    return [str(p) for p in problems]


def sha256_chain(rows: list[AuditEntry]) -> list[tuple[int, str, str]]:
    """The chain as someone without the key would recompute it: (seq, prev_hash, hash) per entry."""
    out, prev = [], audit.GENESIS
    for e in rows:
        body = json.dumps({"seq": e.seq, "at": e.at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
                           "actor": e.actor, "action": e.action, "alert_id": e.alert_id,
                           "before": e.before, "after": e.after},
                          ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256((prev + body).encode("utf-8")).hexdigest()
        out.append((e.seq, prev, digest))
        prev = digest
    return out


def test_an_untouched_log_checks_and_its_entries_are_keyed(keyed):
    assert check(keyed) == []
    with keyed.store.session() as session:
        _, unkeyed = audit.verify(session, key=audit.AuditKey(b"x" * 32))
    assert unkeyed, "a chain written under one key must not check under another"


def test_a_chain_recomputed_without_the_key_after_forging_an_actor_is_found(keyed):
    with keyed.store.session() as session:
        rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
        for row in rows:
            session.expunge(row)
    forged = [r for r in rows if r.action == "dismiss"][0]
    forged.actor = "组长"
    statements = [update(AuditEntry).where(AuditEntry.seq == forged.seq).values(actor="组长")]
    chain = sha256_chain(rows)
    for seq, prev, digest in chain:
        statements.append(update(AuditEntry).where(AuditEntry.seq == seq).values(prev_hash=prev, hash=digest))
    statements.append(update(AuditHead).where(AuditHead.id == 1).values(hash=chain[-1][2]))
    tamper(keyed, *statements)
    problems = check(keyed)
    assert problems and all("content changed after it was written, or the chain recomputed" in p
                            for p in problems if p.startswith("audit_log seq"))


def test_a_cut_tail_with_a_rewritten_head_is_found_by_the_anchors(keyed, tmp_path, clock):
    anchor_file = tmp_path / "audit-anchors.log"
    with keyed.store.session() as session:
        anchors.write(anchor_file, anchors.take(session, clock.now(), "daily"))
        last_seq, _ = audit.head(session)
        kept = session.get(AuditEntry, last_seq - 2)
        kept_seq, kept_hash = kept.seq, kept.hash
    tamper(keyed, delete(AuditEntry).where(AuditEntry.seq > kept_seq),
           update(AuditHead).where(AuditHead.id == 1).values(seq=kept_seq, hash=kept_hash))
    with keyed.store.session() as session:
        _, chain_only = audit.verify(session)
    assert chain_only == []  # what the database alone can no longer tell
    problems = check(keyed, anchor_file)
    assert any(f"audit_log seq {last_seq}: anchored on" in p and "no longer in the log" in p for p in problems)


def test_a_wiped_log_is_found_by_the_anchors_and_by_the_alerts_it_no_longer_explains(keyed, tmp_path, clock):
    anchor_file = tmp_path / "audit-anchors.log"
    with keyed.store.session() as session:
        anchors.write(anchor_file, anchors.take(session, clock.now(), "briefing 舆情日报-2026-11-26"))
    tamper(keyed, delete(AuditEntry), delete(AuditHead))
    problems = check(keyed, anchor_file)
    assert any("no longer in the log" in p for p in problems)
    assert sum("has no entry in the log" in p for p in problems) == 2  # both alerts


def test_a_state_changed_in_the_database_with_no_entry_is_found(keyed):
    with keyed.store.session() as session:
        major = session.execute(select(Alert).where(Alert.level == 3)).scalar_one()
    tamper(keyed, update(Alert).where(Alert.id == major.id).values(state="closed", level=1))
    [problem] = check(keyed)
    assert f"alert {major.id}" in problem and "state is 'closed'" in problem and "level is 1" in problem
    assert "changed with no entry" in problem


def test_a_rewritten_anchored_entry_is_not_the_one_anchored(keyed, tmp_path, clock):
    anchor_file = tmp_path / "audit-anchors.log"
    with keyed.store.session() as session:
        anchor = anchors.take(session, clock.now(), "daily")
    anchors.write(anchor_file, anchor)
    tamper(keyed, update(AuditEntry).where(AuditEntry.seq == anchor.seq).values(hash="0" * 64))
    assert any(f"audit_log seq {anchor.seq}: is not the entry anchored" in p for p in check(keyed, anchor_file))


def test_the_key_is_made_once_for_every_process_and_only_its_owner_may_read_it(tmp_path):
    path = tmp_path / "audit.key"
    made = audit.create_key(path, since=41)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert audit.create_key(path, since=99) == made  # a second process takes the first one's key
    assert audit.load_key(path) == made and made.since == 41
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="may be read by others"):
        audit.load_key(path)
    env = base64.b64encode(b"e" * 32).decode() + ":7"
    assert audit.load_key(None, env) == audit.AuditKey(b"e" * 32, 7)
    with pytest.raises(ConfigError, match="YUQING_AUDIT_KEY"):
        audit.load_key(None, "not a key")


def test_entries_before_the_key_keep_plain_hashes_and_still_check(store_url, clock):
    store = open_store(store_url)
    try:
        service = AlertService(store, AlertingConfig(), clock=clock, channels={})
        service.ingest(scored("网传某干部违规收礼", at=NINE, level=2, story="old"))
        with store.session() as session:
            seq, _ = audit.head(session)
        store.use_audit_key(audit.AuditKey(b"n" * 32, since=seq + 1))  # the key arrives with an upgrade
        service.ingest(scored("网传某局长公车私用", at=NINE, level=2, story="new"))
        assert check(service) == []
    finally:
        store.close()


def test_the_daily_anchor_is_written_once_a_day(keyed, tmp_path, clock):
    path = tmp_path / "audit-anchors.log"
    job = anchors.AnchorJob(keyed.store, path)
    first = job(clock.now())
    assert first is not None and job(clock.now() + timedelta(hours=3)) is None
    second = job(clock.now() + timedelta(days=1))
    assert second is not None
    assert [a.reason for a in anchors.read(path)] == ["daily", "daily"]
    path.write_text(path.read_text(encoding="utf-8") + "not an anchor\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"audit-anchors.log:3: not an anchor line"):
        anchors.read(path)


def test_anchors_are_lines_added_to_the_file_never_changed(tmp_path):
    path = tmp_path / "a.log"
    at = datetime(2026, 11, 27, tzinfo=timezone.utc)
    anchors.write(path, anchors.Anchor(at, 3, "a" * 64, "daily"))
    anchors.write(path, anchors.Anchor(at, 5, "b" * 64, "briefing 舆情日报-2026-11-26"))
    assert [(a.seq, a.reason) for a in anchors.read(path)] == [(3, "daily"), (5, "briefing 舆情日报-2026-11-26")]

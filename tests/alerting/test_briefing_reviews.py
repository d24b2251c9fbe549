"""The coordinating group's review of briefings (通报审批), on SQLite and PostgreSQL: who may decide,
what is recorded, and when a briefing is waiting for approval again."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest

from alerting import audit
from alerting.access import Actor
from alerting.errors import Forbidden, IllegalTransition, NotFound
from alerting.reviews import briefing_files, newest, review_state
from alerting.testing import NINE

LEADER = Actor("陈组长", role="leader")
PETITIONS = Actor("李强", "信访室")
PUBLICITY = Actor("王敏", "宣传部")  # the coordinating office: runs the workflow, but does not approve
DAILY = "舆情日报-2026-11-26"


def write_briefing(folder, name: str, at: datetime, text: str = "日报") -> None:
    """What ``yuqing report`` leaves behind, written at ``at``."""
    folder.mkdir(exist_ok=True)
    for suffix, body in (("html", f"<p>{text}</p>".encode()), ("pdf", b"%PDF-1.7 " + text.encode())):
        path = folder / f"{name}.{suffix}"
        path.write_bytes(body)
        os.utime(path, (at.timestamp(), at.timestamp()))


def state(service, folder, name: str = DAILY) -> str:
    return review_state(service.briefing_reviews([name]).get(name), newest(briefing_files(folder, name)))


def audit_entries(service):
    with service.store.session() as session:
        return [(e.actor, e.action, e.before, e.after) for e in audit.entries(session)]


def test_the_leader_approves_a_briefing_and_the_audit_chain_records_it(service, tmp_path):
    folder = tmp_path / "briefings"
    write_briefing(folder, DAILY, NINE - timedelta(hours=1))
    assert state(service, folder) == "pending"

    review = service.approve_briefing(DAILY, LEADER, folder, "同意印发")
    assert (review.state, review.actor, review.at, review.note) == ("approved", "陈组长", NINE, "同意印发")
    assert state(service, folder) == "approved"
    ((actor, action, before, after),) = audit_entries(service)
    assert (actor, action, before) == ("陈组长", "briefing_approve", None)
    assert after["briefing"] == DAILY and after["state"] == "approved" and after["note"] == "同意印发"
    assert sorted(after["files"]) == [f"{DAILY}.html", f"{DAILY}.pdf"] and all(len(h) == 64 for h in after["files"].values())
    assert service.verify_audit() == (1, [])

    with pytest.raises(IllegalTransition, match=r"already approved \(已批准\) by 陈组长 at 2026-11-27 09:00"):
        service.approve_briefing(DAILY, LEADER, folder)
    with pytest.raises(IllegalTransition, match="already approved"):
        service.return_briefing(DAILY, LEADER, folder, "重写")
    assert len(audit_entries(service)) == 1


@pytest.mark.parametrize("actor", [PETITIONS, PUBLICITY], ids=["信访室", "宣传部"])
def test_only_the_leading_group_may_decide_and_a_refusal_records_nothing(service, tmp_path, actor):
    folder = tmp_path / "briefings"
    write_briefing(folder, DAILY, NINE - timedelta(hours=1))
    with pytest.raises(Forbidden, match="may not approve a briefing: that is for the coordinating group"):
        service.approve_briefing(DAILY, actor, folder)
    with pytest.raises(Forbidden, match="may not return a briefing"):
        service.return_briefing(DAILY, actor, folder, "重写")
    with pytest.raises(Forbidden):  # the role is checked before the name: nothing learnt about files
        service.approve_briefing("no-such-briefing", actor, folder)
    assert service.briefing_reviews() == {} and audit_entries(service) == []
    assert state(service, folder) == "pending"


def test_returning_needs_a_note_and_a_new_version_waits_for_approval_again(service, tmp_path, clock):
    folder = tmp_path / "briefings"
    write_briefing(folder, DAILY, NINE - timedelta(hours=1))
    for empty in ("", "   "):
        with pytest.raises(IllegalTransition, match="say what to rework"):
            service.return_briefing(DAILY, LEADER, folder, empty)
    assert audit_entries(service) == []

    service.return_briefing(DAILY, LEADER, folder, "第二部分数据需核对")
    assert state(service, folder) == "returned"
    with pytest.raises(IllegalTransition, match="already returned"):
        service.return_briefing(DAILY, LEADER, folder, "再次退回")

    clock.advance(minutes=30)
    write_briefing(folder, DAILY, NINE + timedelta(minutes=20), text="日报（修改稿）")
    assert state(service, folder) == "pending"
    service.approve_briefing(DAILY, LEADER, folder)
    assert state(service, folder) == "approved"
    actions = audit_entries(service)
    assert [a[1] for a in actions] == ["briefing_return", "briefing_approve"]
    assert actions[1][2]["state"] == "returned" and actions[1][2]["note"] == "第二部分数据需核对"
    assert actions[0][3]["files"] != actions[1][3]["files"]  # the hashes tell the two versions apart
    assert service.verify_audit() == (2, [])


def test_a_returned_briefing_may_still_be_approved_and_a_remade_approved_one_is_pending(service, tmp_path):
    folder = tmp_path / "briefings"
    write_briefing(folder, DAILY, NINE - timedelta(hours=1))
    service.return_briefing(DAILY, LEADER, folder, "再看看")
    service.approve_briefing(DAILY, LEADER, folder, "可以了")
    assert state(service, folder) == "approved"
    write_briefing(folder, DAILY, NINE + timedelta(hours=1))  # yuqing report daily --date ... again
    assert state(service, folder) == "pending"


@pytest.mark.parametrize("name", ["舆情日报-2026-11-25", "../briefings/" + DAILY, ".hidden", ""])
def test_an_unknown_briefing_is_not_found(service, tmp_path, name):
    folder = tmp_path / "briefings"
    write_briefing(folder, DAILY, NINE)
    with pytest.raises(NotFound, match="no briefing .* make one with: yuqing report"):
        service.approve_briefing(name, LEADER, folder)
    with pytest.raises(NotFound):
        service.approve_briefing(DAILY, LEADER, tmp_path / "elsewhere")

"""Blame where it belongs (SQLite and PostgreSQL): every deadline and task has a 责任人 — named, or
whoever is on duty (值班) for its office — reminders reach that person, escalations the office's
head and the 组长, and a missed deadline belongs to whoever owned it when it fell due."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import yaml
from sqlalchemy import select

from alerting.access import Actor
from alerting.accountability import gather
from alerting.clock import ManualClock
from alerting.config import AlertingConfig, load_alerting_config
from alerting.errors import IllegalTransition
from alerting.people import Roster
from alerting.service import AlertService
from alerting.store.models import DeadlineOwner, Notification
from alerting.testing import scored
from alerting.workflow import TaskSpec
from pipeline.errors import ConfigError
from pipeline.records import SHANGHAI

OFFICE = Actor("王敏", "宣传部")
#: 23:30 Beijing: the one-hour report falls due after midnight, when the roster has moved on
LATE = datetime(2026, 11, 26, 23, 30, tzinfo=SHANGHAI)

PEOPLE = {
    "notify": {"channels": [{"name": n, "kind": "webhook", "url": "http://127.0.0.1:9/" + n}
                            for n in ("wang", "zhao", "sun", "li", "leader")],
               "leader_channels": ["leader"]},
    "people": [
        {"name": "王敏", "office": "宣传部", "channels": ["wang"]},
        {"name": "赵敏", "office": "宣传部", "channels": ["zhao"]},
        {"name": "孙主任", "office": "宣传部", "head": True, "channels": ["sun"]},
        {"name": "李强", "office": "信访室", "channels": ["li"]},
    ],
    "duty": [
        {"office": "宣传部", "person": "王敏", "from": "2026-11-20", "to": "2026-11-26"},
        {"office": "宣传部", "person": "赵敏", "from": "2026-11-27", "to": "2026-12-03"},
    ],
}


@pytest.fixture
def staffed(store_factory):
    """A service with people and a duty roster; nothing is delivered (tick(deliver=False)): the
    outbox rows say who each message is for."""
    clock = ManualClock(LATE)
    return AlertService(store_factory(), AlertingConfig.model_validate(PEOPLE), clock=clock, channels={}), clock


def queued(service, key_part: str) -> set[str]:
    """The channels of the messages whose key holds ``key_part``."""
    with service.store.session() as session:
        return {n.channel for n in session.execute(select(Notification)).scalars() if key_part in n.key}


def test_the_roster_says_who_is_on_duty_and_falls_back_to_the_head():
    config = AlertingConfig.model_validate(PEOPLE)
    roster = Roster(config.people, config.duty)
    assert roster.on_duty("宣传部", LATE).name == "王敏"
    assert roster.on_duty("宣传部", LATE + timedelta(hours=1)).name == "赵敏"       # after midnight
    assert roster.on_duty("宣传部", LATE + timedelta(days=30)).name == "孙主任"     # nobody: the head
    assert roster.on_duty("信访室", LATE) is None and roster.responsible("信访室", LATE) == ""
    assert roster.responsible("信访室", LATE, "李强") == "李强"


@pytest.mark.parametrize("change, says", [
    ({"people": [{"name": "王敏", "office": "宣传科"}]}, "people[0].office: '宣传科' is not one of the offices"),
    ({"people": [{"name": "王敏", "office": "宣传部"}] * 2}, "listed twice: 王敏"),
    ({"people": [{"name": "王敏", "office": "宣传部", "channels": ["nope"]}]}, "nope not defined"),
    ({"duty": [{"office": "宣传部", "person": "钱某", "from": "2026-11-01", "to": "2026-11-02"}]},
     "'钱某' is not under people"),
    ({"people": [{"name": "李强", "office": "信访室"}],
      "duty": [{"office": "宣传部", "person": "李强", "from": "2026-11-01", "to": "2026-11-02"}]}, "is of 信访室"),
    ({"people": [{"name": "王敏", "office": "宣传部"}],
      "duty": [{"office": "宣传部", "person": "王敏", "from": "2026-11-05", "to": "2026-11-02"}]}, "is before"),
])
def test_a_roster_that_cannot_be_right_is_refused_with_where(tmp_path, change, says):
    path = tmp_path / "alerting.yaml"
    path.write_text(yaml.safe_dump(change, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_alerting_config(path)
    assert says in str(refused.value) and str(path) in str(refused.value)


def test_a_missed_report_belongs_to_who_was_on_duty_when_it_fell_due(staffed):
    service, clock = staffed
    alert_id = service.ingest(scored("网传某镇纪委包庇违纪干部", at=clock.now(), story="p1"))
    (deadline,) = service.show(alert_id, OFFICE).deadlines
    assert deadline.person == "王敏"                     # on duty when it opened
    clock.advance(minutes=30)                            # 00:00: 赵敏's week begins
    service.tick(deliver=False)
    assert queued(service, "timer:") >= {"wang"}         # the 30-minute reminder went to 王敏
    clock.advance(minutes=31)
    service.tick(deliver=False)                          # 00:31: missed
    (deadline,) = service.show(alert_id, OFFICE).deadlines
    assert (deadline.status, deadline.person) == ("missed", "赵敏")
    with service.store.session() as session:
        owners = session.execute(select(DeadlineOwner.person, DeadlineOwner.why)
                                 .order_by(DeadlineOwner.id)).all()
    assert [tuple(o) for o in owners] == [("王敏", "opened"), ("赵敏", "due")]
    assert {"zhao", "sun", "leader"} <= queued(service, "timer:")   # the owner, the office's head, the 组长
    data = gather(service.store, service.config, LATE - timedelta(hours=1), LATE + timedelta(days=1), clock.now())
    (lapse,) = data.lapses
    assert (lapse.office, lapse.person) == ("宣传部", "赵敏")


def test_every_task_has_a_responsible_person(staffed, store_factory, clock):
    service, late = staffed
    alert_id = service.ingest(scored("网传某局长公车私用", at=late.now(), story="p2"))
    service.consult(alert_id, OFFICE, [TaskSpec("准备口径", "宣传部")])
    assert service.show(alert_id, OFFICE).tasks[0].person == "王敏"   # the duty person, named
    with pytest.raises(IllegalTransition, match="needs a 责任人.*信访室's duty roster"):
        service.consult(alert_id, OFFICE, [TaskSpec("核实", "信访室")])
    (named,) = service.consult(alert_id, OFFICE, [TaskSpec("核实", "信访室", "李强")])
    assert queued(service, f"task:{named}") >= {"li"}

    unstaffed = AlertService(store_factory(), AlertingConfig(), clock=clock, channels={})
    other = unstaffed.ingest(scored("网传某局长公车私用", at=clock.now(), story="p3"))
    with pytest.raises(IllegalTransition, match="needs a 责任人"):
        unstaffed.consult(other, OFFICE, [TaskSpec("准备口径", "宣传部")])

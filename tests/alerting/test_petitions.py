"""信访室 records letters, visits, calls and online reports as items linked to alerts; they are
listed on the alert, in the audit log, and refused with the reason when they cannot be taken."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerting.access import Actor
from alerting.errors import Forbidden, IllegalTransition, NotFound
from alerting.testing import NINE, scored

PETITIONS, OFFICE, CASES = Actor("李强", "信访室"), Actor("王敏", "宣传部"), Actor("赵刚", "案管室")


def test_petitions_are_linked_to_the_alert_and_listed_in_order(service, clock):
    alert_id = service.ingest(scored("网友反映某村低保优亲厚友", at=clock.now(), level=2, department="信访室"))
    clock.advance(hours=2)
    later = service.record_petition(alert_id, PETITIONS, "来电", "来电人称村主任把低保给了亲戚", NINE + timedelta(hours=1))
    earlier = service.record_petition(alert_id, PETITIONS, "来信", "同一事项的实名来信", NINE - timedelta(days=1),
                                      named=True)
    detail = service.show(alert_id, PETITIONS)
    assert [(p.id, p.channel, p.named) for p in detail.petitions] == [(earlier, "来信", True), (later, "来电", False)]
    assert [e.action for e in detail.history].count("petition") == 2
    assert detail.history[-1].actor == "李强"
    # the coordinating office may record for 信访室
    assert service.record_petition(alert_id, OFFICE, "网上举报", "12388网站举报同一事项", NINE)


def test_what_cannot_be_recorded_is_refused_and_nothing_is_written(service, clock):
    alert_id = service.ingest(scored("网友反映某村低保优亲厚友", at=clock.now(), level=2, department="信访室"))
    with pytest.raises(Forbidden, match="that is for 信访室"):
        service.record_petition(alert_id, CASES, "来电", "内容", NINE)
    with pytest.raises(IllegalTransition, match="not one of 来信、来访、来电、网上举报"):
        service.record_petition(alert_id, PETITIONS, "传真", "内容", NINE)
    with pytest.raises(IllegalTransition, match="say what the petition reports"):
        service.record_petition(alert_id, PETITIONS, "来访", "  ", NINE)
    with pytest.raises(IllegalTransition, match="in the future"):
        service.record_petition(alert_id, PETITIONS, "来访", "内容", clock.now() + timedelta(hours=1))
    with pytest.raises(NotFound):
        service.record_petition("YNOSUCH", PETITIONS, "来访", "内容", NINE)
    assert service.show(alert_id, PETITIONS).petitions == []

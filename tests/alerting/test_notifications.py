"""Alerts reach people: a real SMTP server and a real webhook receiver on loopback get every
message once, failures are retried and shown, level-1 items wait for the digest."""

from __future__ import annotations

from datetime import datetime, timedelta

from alerting.access import Actor
from alerting.clock import ManualClock
from alerting.config import AlertingConfig
from alerting.service import AlertService
from alerting.testing import NINE, scored
from pipeline.records import SHANGHAI

OFFICE = Actor("王敏", "宣传部")


def config(smtp, hook, **notify) -> AlertingConfig:
    return AlertingConfig.model_validate({"notify": {
        "channels": [
            smtp.channel_config("xcb_mail", to=["xcb@huichang.example"]),
            smtp.channel_config("leader_mail", to=["zuzhang@huichang.example"]),
            {"name": "xcb_ding", "kind": "dingtalk", "key": "token-1", "secret": "SECtest",
             "base_url": hook.base_url},
            {"name": "xfs_wecom", "kind": "wecom", "key": "token-2", "base_url": hook.base_url},
        ],
        "routes": [
            {"offices": ["宣传部"], "min_level": 2, "channels": ["xcb_mail", "xcb_ding"]},
            {"offices": ["宣传部"], "min_level": 1, "max_level": 1, "channels": ["xcb_mail"], "mode": "digest"},
            {"offices": ["信访室"], "channels": ["xfs_wecom"]},
        ],
        "leader_channels": ["leader_mail"],
        **notify,
    }})


def subjects(smtp, to: str) -> list[str]:
    return [m["Subject"] for m in smtp.messages if to in m["To"]]


def test_a_major_alert_its_reminders_and_its_escalation_each_arrive_once_across_a_restart(
        store_factory, smtp, hook):
    clock = ManualClock(NINE)
    settings = config(smtp, hook)
    first = AlertService(store_factory(), settings, clock=clock)
    alert_id = first.ingest(scored("网友实名举报某镇干部吃拿卡要", at=clock.now(), story="n1"))
    assert first.tick().sent == 3                    # 宣传部's mail and DingTalk, the 组长's mail
    (mail,) = subjects(smtp, "xcb@")
    assert mail == "【重大舆情】网友实名举报某镇干部吃拿卡要"
    body = smtp.messages[0].get_content()
    assert "1小时上报" in body and "10:00" in body
    ding = hook.requests[0]
    assert ding.query["access_token"] == ["token-1"] and "sign" in ding.query
    assert "网友实名举报" in ding.json["markdown"]["text"]

    clock.advance(minutes=30)
    first.tick()
    second = AlertService(store_factory(), settings, clock=clock)   # restart
    second.tick()
    clock.advance(minutes=20)                        # 09:50: the 10-minute reminder
    second.tick()
    clock.advance(minutes=11)                        # 10:01: the escalation
    second.tick()
    second.tick()
    mails = subjects(smtp, "xcb@")
    assert [s[:6] for s in mails] == ["【重大舆情】", "【时限提醒】", "【时限提醒】", "【超时未办·"]
    assert "还剩30分钟" in mails[1] and "还剩10分钟" in mails[2]
    assert subjects(smtp, "zuzhang@") == [mails[0], mails[3]]
    assert len(hook.requests) == 4                   # the same four on DingTalk, each once
    assert second.show(alert_id, OFFICE).deadlines[0].status == "missed"


def test_an_undeliverable_message_is_retried_with_backoff_and_shown_on_the_alert(store_factory, smtp, hook):
    clock = ManualClock(NINE)
    service = AlertService(store_factory(), config(smtp, hook), clock=clock)
    hook.answer(500, "busy", times=2)
    alert_id = service.ingest(scored("网传某局长公车私用", at=clock.now(), level=2, story="n2"))
    assert service.tick().failed == 1
    (failing,) = [n for n in service.show(alert_id, OFFICE).notifications if n.channel == "xcb_ding"]
    assert (failing.status, failing.attempts) == ("pending", 1) and "500" in failing.last_error

    assert service.tick().failed == 0                # not due again before its backoff
    clock.advance(seconds=31)
    assert service.tick().failed == 1                # second try, still refused
    clock.advance(seconds=61)                        # backoff doubled
    assert service.tick().sent == 1
    (delivered,) = [n for n in service.show(alert_id, OFFICE).notifications if n.channel == "xcb_ding"]
    assert (delivered.status, delivered.attempts, delivered.last_error) == ("sent", 3, None)
    assert len(hook.requests) == 3


def test_level_one_items_wait_for_the_digest_and_arrive_together(store_factory, smtp, hook):
    clock = ManualClock(NINE)
    service = AlertService(store_factory(), config(smtp, hook), clock=clock)
    for n in range(3):
        service.ingest(scored(f"县纪委监委召开警示教育会{n}", at=clock.now(), level=1, story=f"d{n}"))
    assert service.tick().sent == 0
    clock.set(datetime(2026, 11, 27, 17, 30, tzinfo=SHANGHAI))
    assert service.tick().sent == 1
    (digest,) = smtp.messages
    assert digest["Subject"] == "【舆情摘要】11月27日 17:30 一般舆情 3 条"
    assert all(f"警示教育会{n}" in digest.get_content() for n in range(3))


def test_quiet_hours_hold_low_levels_but_never_a_major_item(store_factory, smtp, hook):
    clock = ManualClock(datetime(2026, 11, 27, 23, 0, tzinfo=SHANGHAI))
    settings = config(smtp, hook, quiet_hours={"start": "22:00", "end": "07:30", "max_level": 2})
    service = AlertService(store_factory(), settings, clock=clock)
    service.ingest(scored("网传某干部违规操办婚宴", at=clock.now(), level=2, story="q1"))
    service.ingest(scored("多名群众围堵镇政府", at=clock.now(), level=3, story="q2"))
    service.tick()
    assert subjects(smtp, "xcb@") == ["【重大舆情】多名群众围堵镇政府"]
    clock.set(datetime(2026, 11, 28, 7, 30, tzinfo=SHANGHAI))
    service.tick()
    assert "【较大舆情】网传某干部违规操办婚宴" in subjects(smtp, "xcb@")[1:]


def test_a_warning_goes_to_the_office_warned(store_factory, smtp, hook):
    clock = ManualClock(NINE)
    service = AlertService(store_factory(), config(smtp, hook), clock=clock)
    alert_id = service.ingest(scored("网传某村干部截留补偿款", at=clock.now(), level=2, story="w1"))
    service.tick()
    service.judge(alert_id, OFFICE, "需核实")
    service.warn(alert_id, OFFICE, ["信访室"], "请核实", timedelta(minutes=45))
    service.tick()
    wecom = [r for r in hook.requests if r.query.get("key") == ["token-2"]]
    assert len(wecom) == 1
    assert "请信访室于" in wecom[0].json["markdown"]["content"]

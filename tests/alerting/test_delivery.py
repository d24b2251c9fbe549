"""Delivery of the outbox under trouble: two tick processes and a slow channel, a process killed
while sending, a channel that is down, moot messages; against real receivers on loopback, on
SQLite and PostgreSQL. Time is simulated: a slow channel moves the ManualClock by its send time."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from alerting.access import Actor
from alerting.clock import ManualClock
from alerting.config import AlertingConfig
from alerting.notify import DeliveryError
from alerting.notify.channels import build_channels
from alerting.outbox import LEASE
from alerting.service import AlertService
from alerting.store.models import Notification
from alerting.testing import NINE, scored
from pipeline.records import SHANGHAI

OFFICE = Actor("王敏", "宣传部")


def webhook_config(hook, **extra) -> AlertingConfig:
    """Every office's messages, whatever the level, on one webhook (payloads carry the alert id)."""
    return AlertingConfig.model_validate({
        "notify": {"channels": [{"name": "oa", "kind": "webhook", "url": hook.url("/alerts")}],
                   "routes": [{"channels": ["oa"]}]},
        **extra})


def mail_config(smtp, hook, **notify) -> AlertingConfig:
    return AlertingConfig.model_validate({"notify": {
        "channels": [
            smtp.channel_config("xcb_mail", to=["xcb@huichang.example"]),
            smtp.channel_config("leader_mail", to=["zuzhang@huichang.example"]),
            {"name": "xcb_ding", "kind": "dingtalk", "key": "token-1", "base_url": hook.base_url},
        ],
        "routes": [
            {"offices": ["宣传部"], "min_level": 2, "channels": ["xcb_mail", "xcb_ding"]},
            {"offices": ["宣传部"], "min_level": 1, "max_level": 1, "channels": ["xcb_mail"], "mode": "digest"},
        ],
        "leader_channels": ["leader_mail"],
        **notify,
    }})


class Slow:
    """A real channel that takes ``seconds`` of simulated time a send; ``during(n, action)`` runs
    ``action`` in the middle of the n-th send (what another process does meanwhile)."""

    def __init__(self, channel, clock: ManualClock, seconds: float):
        self.name, self.channel, self.clock, self.seconds = channel.name, channel, clock, seconds
        self.sends = 0
        self.actions: dict[int, object] = {}

    def during(self, n: int, action) -> None:
        self.actions[n] = action

    def send(self, message) -> None:
        self.sends += 1
        self.clock.advance(seconds=self.seconds)
        if self.sends in self.actions:
            self.actions.pop(self.sends)()
        self.channel.send(message)


class Outage:
    """A real channel behind a line that is down (refused at once) until ``up`` is set."""

    def __init__(self, channel):
        self.name, self.channel, self.up = channel.name, channel, False

    def send(self, message) -> None:
        if not self.up:
            raise DeliveryError(self.name, "connection refused (the line is down)", True, code="unreachable")
        self.channel.send(message)


class Killed(BaseException):
    """The process dies: nothing after this line of the sender runs (not an Exception, so no
    handler of ours catches it)."""


class Dies:
    def __init__(self, name: str):
        self.name = name

    def send(self, message) -> None:
        raise Killed()


def pending(store) -> int:
    with store.session() as session:
        return session.execute(select(func.count()).select_from(Notification)
                               .where(Notification.status == "pending")).scalar()


def open_alerts(service, clock, count: int) -> list[str]:
    return [service.ingest(scored(f"网传某局干部违规收受礼金{n}", at=clock.now(), level=2, story=f"x{n}"))
            for n in range(count)]


def test_two_tick_processes_and_a_slow_channel_deliver_each_message_once(store_factory, hook):
    clock = ManualClock(NINE)
    config = webhook_config(hook)
    one_store, other_store = store_factory(), store_factory()
    slow_one = Slow(build_channels(config.notify.channels)["oa"], clock, seconds=8)
    slow_other = Slow(build_channels(config.notify.channels)["oa"], clock, seconds=8)
    one = AlertService(one_store, config, clock=clock, channels={"oa": slow_one})
    other = AlertService(other_store, config, clock=clock, channels={"oa": slow_other})
    alerts = open_alerts(one, clock, 29)

    # the other process ticks while the first is 16 sends (128 s) into the queue
    slow_one.during(16, other.tick)
    one.tick()
    one.tick()
    other.tick()

    delivered = Counter(r.json["alert_id"] for r in hook.requests)
    assert sorted(delivered) == sorted(alerts)
    assert set(delivered.values()) == {1}
    assert slow_other.sends == 13 and slow_one.sends == 16   # the work was shared, not repeated
    assert pending(one_store) == 0


def test_two_tick_threads_on_one_store_send_every_message_once(store_factory, hook):
    clock = ManualClock(NINE)
    config = webhook_config(hook)
    stores = [store_factory(), store_factory()]
    services = [AlertService(store, config, clock=clock,
                             channels={"oa": Slow(build_channels(config.notify.channels)["oa"], clock, seconds=8)})
                for store in stores]
    alerts = open_alerts(services[0], clock, 29)
    start = threading.Barrier(2)
    failures = []

    def ticker(service):
        try:
            start.wait()
            for _ in range(5000):  # a bound, not a timing: the queue empties long before
                if pending(service.store) == 0:
                    return
                service.tick()
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)

    threads = [threading.Thread(target=ticker, args=(s,)) for s in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    delivered = Counter(r.json["alert_id"] for r in hook.requests)
    assert sorted(delivered) == sorted(alerts) and set(delivered.values()) == {1}


def test_a_process_killed_while_sending_holds_back_only_the_message_in_its_hands(store_factory, smtp, hook):
    clock = ManualClock(NINE)
    config = mail_config(smtp, hook)
    dying = AlertService(store_factory(), config, clock=clock,
                         channels={name: Dies(name) for name in ("xcb_mail", "xcb_ding", "leader_mail")})
    dying.ingest(scored("多名群众围堵镇政府", at=clock.now(), story="k1"))
    clock.set(NINE + timedelta(hours=1, minutes=1))  # nothing was delivered; the deadline has passed
    with pytest.raises(Killed):
        dying.tick()                                 # the escalation is queued, then the first send kills it

    clock.advance(seconds=5)
    survivor = AlertService(store_factory(), config, clock=clock)
    assert survivor.tick().sent == 5                 # all but the one message the dead process held
    assert [s[:6] for s in (m["Subject"] for m in smtp.messages if "zuzhang@" in m["To"])] == \
        ["【重大舆情】", "【超时未办·"]
    assert pending(survivor.store) == 1
    clock.advance(seconds=LEASE.total_seconds())
    assert survivor.tick().sent == 1
    assert pending(survivor.store) == 0
    assert len(smtp.messages) + len(hook.requests) == 6    # each message once


def test_an_urgent_message_is_retried_on_a_short_fixed_pace_not_a_doubling_one(store_factory, smtp, hook):
    clock = ManualClock(NINE)
    config = mail_config(smtp, hook)
    channels = build_channels(config.notify.channels)
    ding = Outage(channels["xcb_ding"])
    service = AlertService(store_factory(), config, clock=clock, channels={**channels, "xcb_ding": ding})
    alert_id = service.ingest(scored("网友实名举报某镇干部吃拿卡要", at=clock.now(), story="r1"))
    tries = []
    while clock.now() < NINE + timedelta(minutes=5):  # the line is down for five minutes
        if service.tick().failed:
            tries.append(clock.now())
        clock.advance(seconds=5)
    ding.up = True
    came_back = clock.now()
    while not hook.requests:
        service.tick()
        clock.advance(seconds=5)
    gaps = {later - earlier for earlier, later in zip(tries, tries[1:])}
    assert gaps == {timedelta(seconds=20)}           # notify.urgent_retry_interval, every time
    assert clock.now() - came_back <= timedelta(seconds=25)
    (row,) = [n for n in service.show(alert_id, OFFICE).notifications if n.channel == "xcb_ding"]
    assert (row.status, row.attempts) == ("sent", len(tries) + 1)


def test_a_reminder_not_yet_delivered_is_withdrawn_once_the_report_is_made_or_the_deadline_passes(
        store_factory, smtp, hook):
    clock = ManualClock(NINE)
    config = mail_config(smtp, hook)
    channels = build_channels(config.notify.channels)
    ding = Outage(channels["xcb_ding"])
    service = AlertService(store_factory(), config, clock=clock, channels={**channels, "xcb_ding": ding})
    made = service.ingest(scored("网友实名举报某镇干部吃拿卡要", at=clock.now(), story="w1"))
    late = service.ingest(scored("多名群众围堵镇政府", at=clock.now(), story="w2"))
    for _ in range(3):                               # both 30-minute reminders fail on DingTalk
        service.tick()
        clock.advance(minutes=15)
    service.report(made, OFFICE)                      # 09:45: one report is made
    clock.set(NINE + timedelta(hours=1, seconds=1))   # the other deadline passes, the line still down
    service.tick()
    ding.up = True
    clock.advance(seconds=30)
    service.tick()

    reminders = [r.json["markdown"]["title"] for r in hook.requests if "时限提醒" in r.json["markdown"]["title"]]
    assert reminders == []                           # neither reminder went out late
    states = {(n.alert_id, n.subject[:6]): n.status for alert in (made, late)
              for n in service.show(alert, OFFICE).notifications if n.channel == "xcb_ding"}
    assert states[(made, "【时限提醒】")] == "withdrawn" and states[(late, "【时限提醒】")] == "withdrawn"
    assert states[(late, "【超时未办·")] == "sent" and states[(made, "【重大舆情】")] == "sent"


def test_a_digest_item_raised_to_major_is_withdrawn_from_the_digest(store_factory, smtp, hook):
    clock = ManualClock(NINE)
    service = AlertService(store_factory(), mail_config(smtp, hook), clock=clock)
    quiet = service.ingest(scored("县纪委监委召开警示教育会", at=clock.now(), level=1, story="g1"))
    raised = service.ingest(scored("网传某村干部优亲厚友", at=clock.now(), level=1, story="g2"))
    clock.advance(minutes=20)
    service.ingest(scored("网传某村干部优亲厚友，多名村民实名举报", at=clock.now(), level=3, story="g2",
                          source="forum-2"))
    service.tick()
    assert [m["Subject"][:7] for m in smtp.messages if "xcb@" in m["To"]] == ["【升级为重大】"]
    clock.set(datetime(2026, 11, 27, 17, 30, tzinfo=SHANGHAI))
    service.tick()
    digest = [m for m in smtp.messages if m["Subject"].startswith("【舆情摘要】")]
    assert [m["Subject"] for m in digest] == ["【舆情摘要】11月27日 17:30 一般舆情 1 条"]
    assert "警示教育会" in digest[0].get_content() and "优亲厚友" not in digest[0].get_content()
    assert [n.status for n in service.show(raised, OFFICE).notifications if n.subject.startswith("【一般")] == \
        ["withdrawn"]
    assert [n.status for n in service.show(quiet, OFFICE).notifications] == ["merged"]


def test_the_webhook_payload_links_the_alert_in_the_console(store_factory, hook):
    clock = ManualClock(NINE)
    service = AlertService(store_factory(), webhook_config(hook, console_url="https://yq.huichang.example/"),
                           clock=clock)
    alert_id = service.ingest(scored("网传某局长公车私用", at=clock.now(), level=2, story="u1"))
    service.tick()
    (request,) = hook.requests
    assert request.json["url"] == f"https://yq.huichang.example/alerts/{alert_id}"


def test_a_message_held_for_the_digest_leaves_with_the_numbers_of_now(store_factory, smtp, hook):
    clock = ManualClock(NINE)
    service = AlertService(store_factory(), mail_config(smtp, hook), clock=clock)
    service.ingest(scored("某单位召开警示教育会", at=clock.now(), level=1, story="h1"))
    for n in range(3):
        clock.advance(minutes=10)
        service.ingest(scored("某单位召开警示教育会", at=clock.now(), level=1, story="h1", source=f"site-{n}",
                              text=f"转载{n}：某单位召开警示教育会"))
    clock.set(datetime(2026, 11, 27, 17, 30, tzinfo=SHANGHAI))
    service.tick()
    (digest,) = smtp.messages
    assert "传播：4 篇，4 个来源" in digest.get_content()

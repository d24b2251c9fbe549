"""End to end in a real headless Chromium (Debian's /usr/bin/chromium through Playwright):

宣传部 logs in and watches a new alert arrive without a reload, its countdown red; judges it and
warns 信访室 from the queue; 信访室 logs in, reports its verification and so closes its task;
案管室 can neither see nor change the alert, on the pages or at the API; then 宣传部 and the
组长 take it to 办结. Under CI=true a missing Chromium fails the test (it is never skipped there).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerting.clock import SystemClock
from alerting.testing import scored
from yuqing.web import ConsoleOptions, create_app
from yuqing.web.testing import ConsoleServer, launch_chromium, log_in, require_chromium

PASSWORD = "correct horse 9"


@pytest.fixture
def console(sqlite_url, service_factory):
    require_chromium()
    service = service_factory(sqlite_url, clock=SystemClock())
    # an older, calmer alert so the queue is not empty when the page opens
    service.ingest(scored("县委第三巡察组进驻县自然资源局", at=service.clock.now() - timedelta(hours=2), level=1))
    with ConsoleServer(create_app(service, ConsoleOptions(poll_interval=0.2))) as server:
        yield service, server.url


def act_from(page, selector: str, fill: dict | None = None, check: list[str] = ()):
    """Click an action button, fill its dialog, submit, wait for the page it leads back to."""
    page.click(selector)
    dialog = page.locator("dialog[open]")
    for name, value in (fill or {}).items():
        dialog.locator(f"[name={name}]").fill(value)
    for value in check:
        dialog.locator(f"input[value='{value}']").check()
    with page.expect_navigation():
        dialog.locator("button:not(.cancel)").click()


def test_an_alert_from_arrival_to_closed_across_three_offices(console):
    from playwright.sync_api import expect, sync_playwright

    service, url = console
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            xc = browser.new_context(locale="zh-CN").new_page()
            xc.set_default_timeout(15_000)
            log_in(xc, url, "xc", PASSWORD)
            assert xc.url == f"{url}/queue"
            # an attribute check, not wait_for_function: Playwright polls a string predicate
            # with eval, which the console's CSP (script-src 'self') rightly refuses
            xc.locator("body[data-stream='open']").wait_for(state="attached")
            xc.evaluate("window.__sameDocument = true")

            # a 重大 item first seen 55 minutes ago: 5 minutes left on its 1-hour report
            alert_id = service.ingest(scored("#会昌 实名举报# 某单位副局长公车私用接送孩子",
                                             at=service.clock.now() - timedelta(minutes=55), level=3))
            row = xc.locator(f"tr[data-alert='{alert_id}']")
            expect(row).to_be_visible()
            assert xc.evaluate("window.__sameDocument") is True  # it came without a reload
            expect(row.locator(".countdown")).to_have_class("countdown red")
            expect(row.locator(".countdown")).to_contain_text("剩 4:")
            assert xc.locator("#queue-rows tr").first.get_attribute("data-alert") == alert_id  # most urgent first

            act_from(xc, f"tr[data-alert='{alert_id}'] button.act-judge", {"note": "实名举报，涉及干部作风，需核实"})
            expect(xc.locator(".flash.ok")).to_contain_text("已初步研判")
            expect(row.locator(".st")).to_have_text("初步研判")
            act_from(xc, f"tr[data-alert='{alert_id}'] button.act-warn", {"note": "请信访室核实"}, check=["信访室"])
            expect(row.locator(".st")).to_have_text("已预警")

            # 信访室: its task, reported back
            xf = browser.new_context().new_page()
            xf.set_default_timeout(15_000)
            log_in(xf, url, "xf", PASSWORD)
            xf.goto(f"{url}/tasks")
            task = xf.locator("tr[data-task]").first
            expect(task).to_contain_text(alert_id)
            task.locator("textarea[name=result]").fill("经核实，该副局长确有公车私用行为，已责令整改")
            with xf.expect_navigation():
                task.locator("button.primary").click()
            expect(xf.locator(".flash.ok")).to_contain_text("已反馈")
            expect(xf.locator("tr[data-task] .ts")).to_have_text("已完成")
            # ... which 宣传部 reads on the alert page
            xc.goto(f"{url}/alerts/{alert_id}")
            expect(xc.locator("#alert-tasks")).to_contain_text("经核实，该副局长确有公车私用行为")

            # 案管室: not in its queue, a 404 page, and 404 at the API for reading and acting
            ag = browser.new_context().new_page()
            ag.set_default_timeout(15_000)
            log_in(ag, url, "ag", PASSWORD)
            ag.goto(f"{url}/queue")
            expect(ag.locator(f"tr[data-alert='{alert_id}']")).to_have_count(0)
            assert ag.goto(f"{url}/alerts/{alert_id}").status == 404
            csrf = ag.request.get(f"{url}/api/me").json()["csrf_token"]
            assert ag.request.get(f"{url}/api/alerts/{alert_id}").status == 404
            assert ag.request.post(f"{url}/api/alerts/{alert_id}/dismiss", data={"reason": "不是我们的"},
                                   headers={"X-CSRF-Token": csrf}).status == 404
            task_id = service.show(alert_id, _coordinator()).tasks[0].id
            assert ag.request.post(f"{url}/api/tasks/{task_id}/complete", data={"result": "x"},
                                   headers={"X-CSRF-Token": csrf}).status == 404

            # 宣传部 and the 组长 finish it
            act_from(xc, "#alert-head button.act-deep_judge", {"note": "事实清楚，系个人违规"})
            act_from(xc, "#alert-head button.act-propose", {"proposal": "督促整改并发布情况通报"})
            zz = browser.new_context().new_page()
            zz.set_default_timeout(15_000)
            log_in(zz, url, "zz", PASSWORD)
            assert zz.url == f"{url}/overview"
            expect(zz.locator("body")).to_contain_text("某单位副局长公车私用")
            zz.goto(f"{url}/alerts/{alert_id}")
            act_from(zz, "#alert-head button.act-approve", {"note": "同意"})
            xc.goto(f"{url}/alerts/{alert_id}")
            act_from(xc, "#alert-head button.act-report", {"note": "已报县委、市纪委监委宣传部"})
            act_from(xc, "#alert-head button.act-close", {"note": "已整改，已发布通报"})
            expect(xc.locator("#alert-head .st")).to_have_text("已办结")
            expect(xc.locator("#alert-history")).to_contain_text("审定处置意见")

            with xc.expect_navigation():
                xc.click("header button.link")  # 退出
            assert xc.url.startswith(f"{url}/login")
            assert xc.request.get(f"{url}/api/me").status == 401
        finally:
            browser.close()
    detail = service.show(alert_id, _coordinator())
    assert detail.alert.state == "closed"
    assert [e.actor for e in detail.history if e.action in ("judge", "warn", "verify", "approve", "close")] == \
        ["xc", "xc", "xf", "zz", "xc"]


def test_the_queue_keeps_showing_new_alerts_after_a_dialog_was_opened_and_cancelled(console):
    # cancelling a dialog gives the focus back to the row's button: a region with a focused
    # button is not being written in, and must not stop taking changes
    from playwright.sync_api import sync_playwright

    service, url = console
    (older, _), = service.queue(_coordinator())
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            page.set_default_timeout(15_000)
            log_in(page, url, "xc", PASSWORD)
            page.locator("body[data-stream='open']").wait_for(state="attached")
            page.click(f"tr[data-alert='{older.id}'] button.act-judge")
            page.locator("dialog[open] button.cancel").click()
            assert page.evaluate("document.activeElement.tagName") == "BUTTON"
            arrived = service.ingest(scored("#会昌# 某镇党委书记被指收受礼金",
                                            at=service.clock.now() - timedelta(minutes=50), level=3))
            page.locator(f"tr[data-alert='{arrived}']").wait_for(state="attached")
            assert page.locator("#queue-count").inner_text() == "2"
        finally:
            browser.close()


def test_a_region_being_written_in_is_left_alone_and_refreshed_once_it_is_clean(console):
    from playwright.sync_api import sync_playwright

    service, url = console
    me = _coordinator()

    def warned(title: str) -> int:
        alert_id = service.ingest(scored(title, at=service.clock.now() - timedelta(minutes=50), level=2))
        service.judge(alert_id, me, "初判")
        (task,) = service.warn(alert_id, me, ["信访室"])
        return task

    first = warned("#会昌# 某村集体土地被指违规流转")
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            page.set_default_timeout(15_000)
            log_in(page, url, "xf", PASSWORD)
            page.goto(f"{url}/tasks")
            page.locator("body[data-stream='open']").wait_for(state="attached")
            field = page.locator(f"tr[data-task='{first}'] textarea[name=result]")
            field.fill("已联系村委会，正在核实")
            second = warned("#会昌# 某镇卫生院被指乱收费")
            page.locator("body[data-behind='1']").wait_for(state="attached")  # the change came, skipped
            assert field.input_value() == "已联系村委会，正在核实"
            assert page.locator(f"tr[data-task='{second}']").count() == 0
            field.fill("")
            page.locator("h1").click()  # done writing: the region is clean, and catches up
            page.locator(f"tr[data-task='{second}']").wait_for(state="attached")
        finally:
            browser.close()


def test_an_alert_that_arrived_while_the_stream_was_down_appears_when_it_reconnects(sqlite_url, service_factory):
    import socket

    from playwright.sync_api import sync_playwright

    require_chromium()
    service = service_factory(sqlite_url, clock=SystemClock())
    service.ingest(scored("县委第三巡察组进驻县自然资源局", at=service.clock.now() - timedelta(hours=2), level=1))
    with socket.socket() as probe:  # the restarted console listens where the page expects it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            page.set_default_timeout(20_000)
            with ConsoleServer(create_app(service, ConsoleOptions(poll_interval=0.2)), port=port) as first:
                log_in(page, first.url, "xc", PASSWORD)
                page.locator("body[data-stream='open']").wait_for(state="attached")
            page.locator(".live-dot:not(.on)").wait_for(state="attached")  # the page saw it go
            arrived = service.ingest(scored("#会昌# 实名举报某局长违规吃喝",
                                            at=service.clock.now() - timedelta(minutes=50), level=3))
            with ConsoleServer(create_app(service, ConsoleOptions(poll_interval=0.2)), port=port):
                page.locator(f"tr[data-alert='{arrived}']").wait_for(state="attached")
        finally:
            browser.close()


def _coordinator():
    from alerting.access import Actor

    return Actor("test", "宣传部", "staff")

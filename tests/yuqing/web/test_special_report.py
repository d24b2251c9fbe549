"""The alert page's 舆情专报 button, its handling and its receipts, on SQLite and PostgreSQL: the
协调小组办公室 makes the DOCX and PDF and downloads them; another office neither sees nor makes them."""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import pytest
from docx import Document
from fastapi.testclient import TestClient

from alerting.access import Actor
from alerting.testing import scored
from yuqing.web import ConsoleOptions, create_app

PASSWORD = "correct horse 9"
OFFICE = Actor("xc", "宣传部")


@pytest.fixture
def site(service, tmp_path):
    app = create_app(service, ConsoleOptions(special_reports=tmp_path / "special", poll_interval=0.1))
    opened = []

    def login(name: str) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        client.__enter__()
        opened.append(client)
        assert client.post("/api/login", json={"name": name, "password": PASSWORD}).status_code == 200
        return client

    yield login
    for client in opened:
        client.__exit__(None, None, None)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_the_office_makes_the_special_report_from_the_alert_page_and_downloads_it(service, site, tmp_path):
    alert_id = service.ingest(scored("网传县纪委干部收受红包视频", at=service.clock.now(), story="web-sp1"))
    service.report(alert_id, OFFICE, ["市纪委监委宣传部"])
    service.confirm_receipt(alert_id, OFFICE, "市纪委监委宣传部", "刘科长", "电话")
    service.handle(alert_id, OFFICE, "辟谣", "官网发布说明：视频系旧闻", link="https://www.hclz.gov.cn/n/1.html")

    xc = site("xc")
    page = xc.get(f"/alerts/{alert_id}").text
    assert "生成舆情专报（Word + PDF）" in page and "尚未制发专报" in page
    assert "辟谣：官网发布说明：视频系旧闻" in page and "回执：刘科长（电话）" in page

    response = xc.post(f"/alerts/{alert_id}/special", data={"csrf": csrf_of(page), "kind": "首报",
                                                            "next_steps": "联系首发账号核实\n持续监测"})
    assert response.status_code == 303
    page = xc.get(f"/alerts/{alert_id}").text
    assert "已生成舆情专报（首报）" in page
    names = re.findall(rf'href="/alerts/{alert_id}/special/([^"]+)"', page)
    assert sorted(names) == sorted(quote(f"舆情专报-{alert_id}-首报.{ext}") for ext in ("docx", "pdf"))
    docx = xc.get(f"/alerts/{alert_id}/special/{quote(f'舆情专报-{alert_id}-首报.docx')}")
    assert docx.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "舆情专报（首报）" in text and "辟谣：官网发布说明：视频系旧闻" in text and "联系首发账号核实" in text
    pdf = xc.get(f"/alerts/{alert_id}/special/{quote(f'舆情专报-{alert_id}-首报.pdf')}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    # a second 首报 is refused with the service's words, on the page
    xc.post(f"/alerts/{alert_id}/special", data={"csrf": csrf_of(page), "kind": "首报"})
    assert "舆情专报未生成" in xc.get(f"/alerts/{alert_id}").text

    # 信访室 does not see the alert: neither its files nor the button
    xf = site("xf")
    assert xf.get(f"/alerts/{alert_id}/special/{quote(f'舆情专报-{alert_id}-首报.docx')}").status_code == 404
    token = csrf_of(xf.get("/tasks").text)
    assert xf.post(f"/alerts/{alert_id}/special", data={"csrf": token, "kind": "续报"}).status_code == 404
    # nor can a name outside the 专报 be fetched through the route
    (tmp_path / "special" / "secret.pdf").write_bytes(b"%PDF secret")
    assert xc.get(f"/alerts/{alert_id}/special/secret.pdf").status_code == 404


def test_reports_receipts_and_handling_go_through_the_pages_forms_and_the_api(service, site):
    alert_id = service.ingest(scored("网传某镇纪委泄露举报人信息", at=service.clock.now(), story="web-sp2"))
    xc = site("xc")
    page = xc.get(f"/alerts/{alert_id}").text
    assert 'id="dlg-receipt"' in page and 'id="dlg-handle"' in page and '<option value="中央纪委国家监委宣传部">' in page
    assert 'data-action="handle"' in page and 'data-action="receipt"' in page
    token = csrf_of(page)

    xc.post(f"/alerts/{alert_id}/act/report", data={"csrf": token, "recipients": "张三"})
    assert "上报未完成" in xc.get(f"/alerts/{alert_id}").text and service.show(alert_id, OFFICE).reports == []
    xc.post(f"/alerts/{alert_id}/act/report", data={"csrf": token, "recipients": "市纪委监委宣传部、县委"})
    xc.post(f"/alerts/{alert_id}/act/receipt", data={"csrf": token, "unit": "县委", "by": "县委办值班员", "via": "传真"})
    xc.post(f"/alerts/{alert_id}/act/handle", data={"csrf": token, "kind": "线索移交", "text": "泄露举报人信息线索",
                                                    "office": "案管室", "partner": "", "link": ""})
    refused = xc.post(f"/api/alerts/{alert_id}/handle", json={"kind": "协同", "text": "核查", "partner": "居委会"},
                      headers={"X-CSRF-Token": csrf_of(page)})
    assert refused.status_code == 422 and "公安" in refused.json()["detail"]
    ok = xc.post(f"/api/alerts/{alert_id}/handle", json={"kind": "协同", "text": "请公安核查", "partner": "公安"},
                 headers={"X-CSRF-Token": csrf_of(page)})
    assert ok.status_code == 200, ok.text

    detail = service.show(alert_id, OFFICE)
    reports = {r.recipient: r for r in detail.reports}
    assert set(reports) == {"市纪委监委宣传部", "县委"} and reports["县委"].received_via == "传真"
    assert [(h.kind, h.actor) for h in detail.handlings] == [("线索移交", "xc"), ("协同", "xc")]
    page = xc.get(f"/alerts/{alert_id}").text
    assert "线索移交案管室：泄露举报人信息线索" in page and "回执：县委办值班员（传真）" in page

    # the office the clue went to sees its task and signs for it on the page
    ag = site("ag")
    (task,) = [t for t in detail.tasks if t.kind == "clue"]
    assert f'data-task="{task.id}"' in ag.get(f"/alerts/{alert_id}").text

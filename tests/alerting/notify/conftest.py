"""Fixtures for notification tests: a real SMTP server and a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import pytest

from alerting.notify import Notification
from alerting.notify.testing import SmtpReceiver, WebhookReceiver


@pytest.fixture
def smtp():
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
def hook():
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def note() -> Notification:
    return Notification(
        subject="【较大预警】某镇卫生院收费问题引发网民关注",
        body="有网民在本地论坛发帖，反映某镇卫生院违规收费。\n帖子已被转载 12 次。\n请宣传部核实并回应。",
        level=2,
        alert_id="AL-20240611-0007",
        url="https://yuqing.example.gov.cn/alerts/AL-20240611-0007",
    )

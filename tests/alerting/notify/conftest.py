"""Fixtures for notification tests (the SMTP server and HTTP receiver are in tests/alerting/conftest.py)."""

from __future__ import annotations

import pytest

from alerting.notify import Notification


@pytest.fixture
def note() -> Notification:
    return Notification(
        subject="【较大预警】某镇卫生院收费问题引发网民关注",
        body="有网民在本地论坛发帖，反映某镇卫生院违规收费。\n帖子已被转载 12 次。\n请宣传部核实并回应。",
        level=2,
        alert_id="AL-20240611-0007",
        url="https://yuqing.example.gov.cn/alerts/AL-20240611-0007",
    )

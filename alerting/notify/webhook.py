"""Generic JSON webhook through Apprise's ``json://`` plugin (apprise.plugins.custom_json).

The receiver gets Apprise's documented JSON format, so anything that already understands Apprise
understands us, plus the alert's own fields::

    POST /path?query                        (headers from the config; basic auth from user:pass@)
    {"version": "1.0", "title": SUBJECT, "message": BODY, "attachments": [],
     "type": "info" | "warning" | "failure",           (level 1, 2, 3; 0 is "info")
     "level": 2, "level_name": "较大", "alert_id": "..." | null, "url": "..." | null}

``url`` is the alert's page in the console (the outbox fills it from ``console_url`` in
alerting.yaml; null without one).

Apprise answers a send with an ``AppriseResult``; a failure carries the plugin's warning, e.g.
``Failed to send JSON POST notification: ..., error=500.``. The status code in it decides
``retryable`` (5xx, 408, 429 and connection trouble: yes; other 4xx: no). Should a later Apprise
word its warning differently, every failure becomes retryable, the safe side, and
tests/alerting/notify/test_webhook.py fails on the 400 case to say so.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import apprise
from apprise import AppriseAsset, AppriseResultStatus

from alerting.notify.base import DeliveryError, Notification, origin
from alerting.notify.config import WebhookConfig

__all__ = ["WebhookChannel"]

_TYPES = {0: "info", 1: "info", 2: "warning", 3: "failure"}
_STATUS = re.compile(r"\berror=(\d{3})\b")


class WebhookChannel:
    """POSTs each notification as JSON to one URL. ``send`` raises :class:`DeliveryError` unless
    the endpoint answered 2xx: ``http_status`` (retryable for 5xx/408/429), ``unreachable`` for
    refused connections and ``timeout`` when the whole call outlived ``timeout_s`` (retryable)."""

    kind = "webhook"

    def __init__(self, config: WebhookConfig):
        self.name = config.name
        self.config = config
        url = config.url.get_secret_value()
        self._where = f"webhook {origin(url)}"
        parts = urlsplit(url)
        # the components of Apprise's URL dictionary (Apprise.instantiate), so that no quoting
        # of ours sits between the operator's URL and what goes on the wire
        self._service: dict[str, Any] = {
            "schema": "jsons" if parts.scheme == "https" else "json",
            "host": parts.hostname,
            "port": parts.port,
            # still quoted: Apprise unquotes user, password, host and path itself
            "user": parts.username,
            "password": parts.password,
            "fullpath": parts.path or "/",
            "params": dict(parse_qsl(parts.query, keep_blank_values=True)),
            "headers": dict(config.headers),
            "method": "POST",
            "verify": config.verify_tls,
            "cto": config.timeout_s,
            # a second longer than the call's deadline (send), so a slow answer is reported as
            # the timeout it is rather than as Apprise's "connection error"; it still ends the
            # worker Apprise stopped waiting for
            "rto": config.timeout_s + 1.0,
        }
        # app_id is the User-Agent; storage stays in memory: Apprise writes nothing to disk
        self._asset = AppriseAsset(app_id="yuqing", app_desc="yuqing", storage_mode="memory")

    def __repr__(self) -> str:
        return f"WebhookChannel({self.name!r}, {self._where})"

    def send(self, message: Notification) -> None:
        extras = {"level": message.level, "level_name": message.level_name,
                  "alert_id": message.alert_id, "url": message.url}
        # a new plugin per message: the extra payload fields live on the plugin, and sharing one
        # between threads would mix two alerts' fields
        service = apprise.Apprise.instantiate({**self._service, "payload": extras},
                                              asset=self._asset, suppress_exceptions=False)
        notifier = apprise.Apprise(asset=self._asset)
        notifier.add(service)
        # timeout bounds the whole call: Apprise runs the plugin on its worker pool and stops
        # waiting then, even if the server trickles its answer past the per-read timeouts
        result = notifier.notify(body=message.body or message.subject, title=message.subject,
                                 notify_type=_TYPES[message.level], body_format="text",
                                 timeout=self.config.timeout_s, log_level=logging.WARNING)
        if result.status == AppriseResultStatus.SUCCESS:
            return
        warnings = [entry.message for entry in result.logs()]
        said = " | ".join(warnings) or result.status.name
        if result.status == AppriseResultStatus.TIMEOUT:
            raise self._error(f"no answer within {self.config.timeout_s:g}s", True, "timeout")
        status = next((int(m[1]) for w in warnings if (m := _STATUS.search(w))), None)
        if status is None:
            raise self._error(f"cannot deliver ({said})", True, "unreachable")
        retry = status >= 500 or status in (408, 429)
        raise self._error(f"answered HTTP {status} ({said})"
                          + ("" if retry else "; check url, headers and the receiver's logs"),
                          retry, "http_status")

    def _error(self, reason: str, retryable: bool, code: str) -> DeliveryError:
        return DeliveryError(self.name, f"{self._where}: {reason}", retryable, code=code)

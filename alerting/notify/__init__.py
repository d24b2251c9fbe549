"""Notification delivery (通知推送): e-mail and the chat robots Chinese offices use.

    config (ChannelConfig) ──build_channel──▶ Channel ──send(Notification)──▶ mailbox / chat group
                                                 └── raises DeliveryError(channel, reason, retryable)

    base.py      Notification, Channel (protocol), DeliveryError
    config.py    ChannelConfig: one pydantic model per kind, discriminated by ``kind``
    channels.py  build_channel: kind -> implementation, and why Apprise is used where it is
    smtp.py      e-mail (smtplib)
    bots.py      钉钉, 企业微信, 飞书 robots (httpx, the vendors' JSON and signatures)
    webhook.py   generic JSON webhook (Apprise)
    testing.py   SmtpReceiver and WebhookReceiver: real local servers for tests

Errors: configuration mistakes are ``pipeline.errors.ConfigError``; a failed send is
``DeliveryError`` (a ``YuqingError``) whose ``retryable`` tells the caller whether to try the
same message again later. A channel tries once: retries, backoff and persistence belong to the
outbox that calls it.
"""

from alerting.notify.base import DELIVERY_CODES, LEVEL_NAMES, Channel, DeliveryError, Notification
from alerting.notify.channels import build_channel, build_channels
from alerting.notify.config import (ChannelConfig, DingTalkConfig, EmailConfig, FeishuConfig,
                                    WebhookConfig, WeComConfig, load_channel_config)

__all__ = [
    "Channel", "ChannelConfig", "DELIVERY_CODES", "DeliveryError", "DingTalkConfig",
    "EmailConfig", "FeishuConfig", "LEVEL_NAMES", "Notification", "WeComConfig",
    "WebhookConfig", "build_channel", "build_channels", "load_channel_config",
]

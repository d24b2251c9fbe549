"""``build_channel(config)``: the one place that maps a channel kind to its implementation.

    kind      class            transport                       module
    email     EmailChannel     smtplib (standard library)      smtp.py
    dingtalk  DingTalkChannel  httpx, vendor JSON + signature  bots.py
    wecom     WeComChannel     httpx, vendor JSON              bots.py
    feishu    FeishuChannel    httpx, vendor JSON + signature  bots.py
    webhook   WebhookChannel   Apprise json:// plugin          webhook.py

Why not Apprise for all five, as the issue suggests: Apprise 2.3 was read plugin by plugin.
Its DingTalk, WeCom and Feishu plugins post to a host fixed in the class, so they can reach
neither a local test receiver nor the private hosts government deployments use (政务钉钉), and
they accept an HTTP 200 that carries the vendor's refusal (``errcode`` != 0) as success; the
adapters in bots.py are small and follow the vendors' documents. Its e-mail plugin hides the
SMTP reply behind ``False`` and a "connection error" warning, so it cannot tell a wrong password
from a dead server (smtp.py explains). Its JSON webhook plugin does what is needed, reports the
HTTP status, and can be pointed anywhere: webhook.py uses it.

Every network operation of a send is bounded by the channel's ``timeout_s`` (default 10 s).
"""

from __future__ import annotations

from alerting.notify.base import Channel
from alerting.notify.bots import DingTalkChannel, FeishuChannel, WeComChannel
from alerting.notify.config import (ChannelConfig, DingTalkConfig, EmailConfig, FeishuConfig,
                                    WebhookConfig, WeComConfig)
from alerting.notify.smtp import EmailChannel
from alerting.notify.webhook import WebhookChannel
from pipeline.errors import ConfigError

__all__ = ["build_channel", "build_channels"]

_REGISTRY: dict[type, type] = {
    EmailConfig: EmailChannel,
    DingTalkConfig: DingTalkChannel,
    WeComConfig: WeComChannel,
    FeishuConfig: FeishuChannel,
    WebhookConfig: WebhookChannel,
}


def build_channel(config: ChannelConfig) -> Channel:
    """The channel for a validated config. Makes no network call: a channel that cannot be
    reached shows it on the first ``send`` as a retryable :class:`DeliveryError`."""
    try:
        factory = _REGISTRY[type(config)]
    except KeyError:
        raise TypeError(f"not a channel config: {type(config).__name__}") from None
    return factory(config)


def build_channels(configs: list[ChannelConfig]) -> dict[str, Channel]:
    """Channels by name; raises :class:`ConfigError` for a name used twice, since the name keys
    logs, metrics and the outbox."""
    channels: dict[str, Channel] = {}
    for config in configs:
        if config.name in channels:
            raise ConfigError(f"channels: name {config.name!r} is used twice; give each channel "
                              "its own name")
        channels[config.name] = build_channel(config)
    return channels

"""``yuqing alerts new``: an office hands in an item it found (报送); ``yuqing alerts petition``:
信访室 records a letter, visit, call or online report linked to an alert.

    yuqing alerts new --title 标题 (--link URL | --text 内容) --source 来源 --office 信访室 \
        [--level 一般|较大|重大] [--reason 理由]

The item is scored by the classifier the pipeline uses (the current model and the keyword
schemes), then enters the same alert queue as crawled articles; a proposed level is recorded beside
the model's and the higher one governs, the reason shown on the alert
(:meth:`alerting.service.AlertService.hand_in`). Who hands it in is the account of ``yuqing login``.

    yuqing alerts petition --channel 来信|来访|来电|网上举报 --summary 内容 [--received 2026-12-07T09:30]
        [--named] (--alert ID | [--title 标题] [--level 较大])

With ``--alert`` the item joins that alert; without, its summary is handed in as an item of 信访室
(scored and queued the same way) and linked to the alert that opens or that it joins. Only whether
it was signed (实名) is recorded, never the name.
"""

from __future__ import annotations

import argparse
from datetime import datetime

from alerting.handins import LEVEL_WORDS, item_article, level_of, petition_article, petition_proposal
from alerting.petitions import CHANNELS
from alerting.routing import LEVEL_NAMES, Proposal
from pipeline.errors import ConfigError
from pipeline.records import beijing_time
from yuqing.app import Application
from yuqing.cli.common import settings_from
from yuqing.cli.identity import acting


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--title", required=True, help="what the item is about, in a line")
    parser.add_argument("--link", metavar="URL", help="where it was found (http/https)")
    parser.add_argument("--text", default="", help="the item's text (what was said or posted)")
    parser.add_argument("--source", required=True, metavar="NAME", help="where it was found: 某微信群, 群众来电 ...")
    parser.add_argument("--office", required=True, help="the office handing it in")
    parser.add_argument("--level", choices=tuple(LEVEL_WORDS), help="the level the office proposes")
    parser.add_argument("--reason", default="", help="why that level (shown on the alert)")


def run_new(args) -> int:
    settings = settings_from(args)
    with acting(args) as (service, actor):
        try:
            article = item_article(args.title, args.source, service.clock.now(), args.link, args.text)
            proposal = Proposal(args.office, level_of(args.level), args.reason.strip())
        except ValueError as exc:
            raise ConfigError(f"yuqing alerts new: {exc}") from None
        with Application(settings) as app:
            scored = app.scorer.score(article)
        alert_id = service.hand_in(scored, proposal, actor)
        if alert_id is None:
            print(f"not taken in: the classifier finds it unrelated ({LEVEL_NAMES[scored.level]}) and no level "
                  "was proposed; hand it in again with --level 一般|较大|重大 if it concerns the commission")
            return 1
        alert = service.show(alert_id, actor).alert
    print(f"{alert.id} 【{LEVEL_NAMES[alert.level]}】 {alert.office}  {alert.title}")
    print(f"  model: {LEVEL_NAMES[scored.level]}; proposed: {args.level or '—'}; reasons: "
          + "；".join(alert.level_reasons))
    return 0


def configure_petition(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", required=True, choices=CHANNELS)
    parser.add_argument("--summary", required=True, help="what it reports (the petitioner's name is not kept)")
    parser.add_argument("--received", metavar="YYYY-MM-DDTHH:MM", help="when it came in, Beijing time (default now)")
    parser.add_argument("--named", action="store_true", help="signed by the petitioner (实名)")
    parser.add_argument("--alert", metavar="ALERT_ID", help="the alert it belongs to; without, it is handed in")
    parser.add_argument("--title", help="a title when handing it in (default: the start of the summary)")
    parser.add_argument("--level", choices=tuple(LEVEL_WORDS), help="the level 信访室 proposes when handing it in")


def _received(text: str | None, now: datetime) -> datetime:
    if not text:
        return now
    try:
        return beijing_time(text)
    except ValueError:
        raise ConfigError(f"yuqing alerts petition: --received {text!r} is not a time like 2026-12-07T09:30") from None


def run_petition(args) -> int:
    settings = settings_from(args)
    with acting(args) as (service, actor):
        received = _received(args.received, service.clock.now())
        service.check_petition(actor, args.channel, args.summary, received)  # before anything is handed in
        alert_id = args.alert
        if alert_id is None:
            article = petition_article(args.channel, args.summary, received, args.title or "")
            with Application(settings) as app:
                scored = app.scorer.score(article)
            proposal = petition_proposal(args.channel, args.level)
            alert_id = service.hand_in(scored, proposal, actor)
        number = service.record_petition(alert_id, actor, args.channel, args.summary, received, args.named)
        alert = service.show(alert_id, actor).alert
    print(f"信访 #{number} ({args.channel}) → {alert.id} 【{LEVEL_NAMES[alert.level]}】 {alert.title}")
    return 0

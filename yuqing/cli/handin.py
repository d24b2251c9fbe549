"""``yuqing alerts new``: an office hands in an item it found (报送).

    yuqing alerts new --title 标题 (--link URL | --text 内容) --source 来源 --office 信访室 \
        [--level 一般|较大|重大] [--reason 理由]

The item is scored by the classifier the pipeline uses (the current model and the keyword
schemes), then enters the same alert queue as crawled articles; a proposed level is recorded beside
the model's and the higher one governs, the reason shown on the alert
(:meth:`alerting.service.AlertService.hand_in`). Who hands it in is the account of ``yuqing login``.
"""

from __future__ import annotations

import argparse

from alerting.handins import LEVEL_WORDS, item_article, level_of
from alerting.routing import LEVEL_NAMES, Proposal
from pipeline.errors import ConfigError
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

"""Build the alert service from ``yuqing.yaml``: the store, ``alerting.yaml`` and the feedback hook.

The command line, the workers and the web console all start here, so they share one service.
"""

from __future__ import annotations

import logging

from alerting.clock import Clock
from alerting.config import load_alerting_config
from alerting.service import AlertService
from alerting.store import open_store

__all__ = ["open_service", "training_feedback", "BriefingJob"]

log = logging.getLogger(__name__)


def training_feedback(settings):
    """A dismissal hook that stores each article of a false alarm as a correction (误报) for the
    classifier's next training run; articles no longer in the index are skipped with a warning."""

    def hook(alert, article_ids, reason, actor) -> None:
        from classifiers.feedback import Correction, FeedbackStore
        from pipeline.backends import open_index

        index = open_index(settings)
        try:
            articles = [index.get(article_id) for article_id in article_ids[:20]]
        finally:
            index.close()
        settings.paths.data_dir.mkdir(parents=True, exist_ok=True)
        store = FeedbackStore(settings.paths.data_dir / "feedback.sqlite3")
        try:
            for article_id, article in zip(article_ids, articles):
                if article is None:
                    log.warning("dismiss %s: article %s is not in the index; not kept for training",
                                alert.id, article_id)
                    continue
                store.add(Correction(article.id, "false_alarm", article.title, article.content, 0, "",
                                     sensitive=False, note=f"排除误报 {alert.id}：{reason}",
                                     analyst=actor.name))
        finally:
            store.close()

    return hook


def open_service(settings, clock: Clock | None = None, channels=None) -> AlertService:
    config = load_alerting_config(settings.alerting.file)
    store = open_store(settings.store.url)
    return AlertService(store, config, clock=clock, channels=channels,
                        on_dismiss=training_feedback(settings))


class BriefingJob:
    """Make the scheduled briefings when their time comes (``briefings`` in alerting.yaml) into
    ``DATA_DIR/briefings/`` and announce them on ``briefings.channels``. A briefing whose PDF
    exists is not made again, and its announcement has a unique outbox key: once each."""

    def __init__(self, settings, service: AlertService):
        self.settings = settings
        self.service = service
        self.out_dir = settings.paths.data_dir / "briefings"

    def __call__(self, now) -> list:
        from alerting import outbox
        from alerting.reports import KIND_NAMES, due_briefings, gather, period, write_briefing
        from pipeline.backends import open_index

        made = []
        config = self.service.config
        for kind, day in due_briefings(config, now):
            start, end, prev_start, prev_end = period(kind, day)
            stem = f"{KIND_NAMES[kind]}-{start:%Y-%m-%d}"
            if any(self.out_dir.glob(f"{stem}*.pdf")):
                continue
            index = open_index(self.settings)
            try:
                data = gather(self.service.store, config, kind, start, end, prev_start, prev_end, now, index)
            finally:
                index.close()
            written = write_briefing(data, self.out_dir)
            made.append(written)
            log.info("briefing_made kind=%s pdf=%s", kind, written.pdf)
            if config.briefings.channels:
                link = (f"{config.console_url.rstrip('/')}/briefings/{written.pdf.name}"
                        if config.console_url else str(written.pdf))
                with self.service.store.session() as session:
                    outbox.queue(session, config.notify, key=f"briefing:{kind}:{start:%Y%m%d}",
                                 channels=config.briefings.channels,
                                 subject=f"【{KIND_NAMES[kind]}】{config.unit} {start:%Y年%m月%d日}",
                                 body=f"{KIND_NAMES[kind]}已生成，请查阅：{link}", level=1, now=now,
                                 urgent=True)
        return made

"""Prometheus metrics of the stream, served by ``yuqing worker|run --metrics-port PORT``.

Labels come from fixed sets (stage names, drop reasons), never free text, so the number of series
stays bounded.

    yuqing_consumed_total{stage}            records read from the stage's input topic
    yuqing_produced_total{stage}            records written onward (topic or index)
    yuqing_deadlettered_total{stage}        records sent to the dead-letter topic
    yuqing_dropped_total{stage,reason}      records dropped on purpose (e.g. below_alert_level)
    yuqing_backend_errors_total{stage}      batches that failed because a backend was unavailable
    yuqing_batch_seconds{stage}             time to handle one batch, output made durable
    yuqing_fetch_to_alert_seconds           from the crawler's fetch time to the alert being queued
    yuqing_consumer_lag{stage}              records waiting in the stage's input topic
    yuqing_alerts_opened_total{trigger,level} alerts opened (content or volume trigger)
    yuqing_deadlines_missed_total{kind}     deadlines escalated to the 组长 (major, overall, task)
    yuqing_notifications_total{channel,outcome}  deliveries: sent or failed (channel names are
                                            the operator's, a bounded set)
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

CONSUMED = Counter("yuqing_consumed", "records read from the stage's input topic", ["stage"])
PRODUCED = Counter("yuqing_produced", "records written onward", ["stage"])
DEADLETTERED = Counter("yuqing_deadlettered", "records sent to the dead-letter topic", ["stage"])
DROPPED = Counter("yuqing_dropped", "records dropped on purpose", ["stage", "reason"])
BACKEND_ERRORS = Counter("yuqing_backend_errors", "batches failed on an unavailable backend",
                         ["stage"])
BATCH_SECONDS = Histogram("yuqing_batch_seconds", "time to handle one batch", ["stage"],
                          buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
FETCH_TO_ALERT = Histogram("yuqing_fetch_to_alert_seconds",
                           "from the crawler's fetch time to the alert being queued",
                           buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600))
ALERTS_OPENED = Counter("yuqing_alerts_opened", "alerts opened", ["trigger", "level"])
DEADLINES_MISSED = Counter("yuqing_deadlines_missed", "deadlines escalated", ["kind"])
NOTIFICATIONS = Counter("yuqing_notifications", "notification deliveries", ["channel", "outcome"])
LAG = Gauge("yuqing_consumer_lag", "records waiting in the stage's input topic", ["stage"])


def serve(port: int, address: str = "127.0.0.1") -> None:
    """Expose /metrics on ``address:port`` (loopback unless told otherwise)."""
    start_http_server(port, addr=address)

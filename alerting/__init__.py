"""Alerts and the response workflow: from the alert queue to reports upward, under the rules' clocks.

    intake.py      the ``alerts`` topic into the service; the Ticker that keeps the clocks
    service.py     AlertService: ingest (one alert per story), reading, tick()
    workflow.py    the actions of 研判预警 and 即时会商, each checked and audited
    routing.py     level and office from scores, schemes, sources; spread raises the level
    volume.py      spikes of articles naming a watched place, unit or person
    deadlines.py   1-hour / 2-hour / task deadlines and their reminder and escalation timers
    outbox.py      messages as rows first; retried, digested, held in quiet hours
    notify/        the channels: SMTP, DingTalk, WeCom, Feishu, JSON webhook
    audit.py       the hash-chained record of every action
    reports.py     a briefing's data from the store and the index; scheduling
    reviews.py     the leading group approves briefings or returns them for rework
    briefing/      the briefing (例会通报) rendered as HTML, PDF and PNG
    store/         SQLAlchemy models and Alembic migrations (SQLite, PostgreSQL)
    web/           the console for the offices, analysts and operators
    config.py      alerting.yaml, typed; clock.py the time everything is measured by
    app.py         building the service from yuqing.yaml, for the CLI, workers and console
"""

"""Alerts and the response workflow: from the alert queue to reports upward, under the rules' clocks.

    service.py     AlertService: the one door (the CLI, the console and the stream go through it),
                   built from the parts below around one store, alerting.yaml and one clock
    access.py      who acts (Actor) and what they may see and do — every permission in one place
    intake.py      the alert queue into alerts, one per story; the intake step of the stream
    workflow.py    the actions of 研判预警 and 即时会商, each checked and audited
    timekeeper.py  the 1-hour / 2-hour clocks: started, reminders, escalations, tick(), Ticker
    notifier.py    which offices and channels hear of an alert; outbox.py delivers
    queries.py     the queue, one alert in full, the open deadlines
    dismissals.py  排除误报: from 较大 up a request the 组长 decides
    handins.py     items an office hands in (报送), as articles the classifier scores
    petitions.py   信访室's 来信/来访/来电/网上举报, linked to alerts
    drills.py      演练: marked drill alerts, kept out of every count, and the drill report
    directory.py   the units reports go to (上级, 县委, partners), from alerting.yaml
    chain.py       上报 level by level to the directory's units, receipts (回执) chased
    handling.py    舆情处置 records: 回应/澄清/辟谣/信息发布, 线索移交, 协同
    special.py     舆情专报 (首报, 续报, 结报): the data; briefing/special.py renders DOCX and PDF
    people.py      the people who answer for the work (责任人) and the duty roster (值班)
    accountability.py  迟报漏报情况: every late or missed duty by office and person
    routing.py     level and office from scores, schemes, sources (reasons as data); spread, reach
    locality.py    本地 / 本市本省 / 外地: whose item it is, and whether its clocks run
    volume.py      spikes of articles naming a watched place, unit or person
    deadlines.py   deadlines and their reminder and escalation timers, as rows
    accounts.py    the people who log in, their offices and roles
    audit.py       the record of every action, chained under a key kept outside the database
    anchors.py     the log's head anchored outside the database (a file, every briefing)
    reports.py     a briefing's data from the store and the index; the scheduled BriefingJob
    drafts.py      the briefing's 预控处置意见 and 下一步工作, drafted from the open items
    reviews.py     the coordinating group approves briefings or returns them for rework
    notify/        the channels: SMTP, DingTalk, WeCom, Feishu, JSON webhook
    briefing/      the briefing (例会通报) rendered as HTML, PDF and PNG
    store/         SQLAlchemy models and Alembic migrations (SQLite, PostgreSQL)
    config.py      alerting.yaml, typed; clock.py the time everything is measured by
"""

"""yuqing 舆情: the application — the command line, the web console, and the wiring between them.

This is the top floor: it imports the libraries beneath it and nothing imports it::

    yuqing/         app.py     builds backends, the classifier, the alert service and the stream
                               steps from yuqing.yaml (STEPS: which step reads which topic)
                    cli/       every ``yuqing`` command, one module each (main.py lists them)
                    web/       the console: queue, workflow, tasks, search, trends, sources, briefings
                    demo/      the sample articles and the local demo web of ``yuqing demo``
    alerting/       alerts, the workflow, the clocks, notifications, the audit log, briefings
    crawlers/       sources, fetching, feeds, pages, extraction    } side by side, neither
    classifiers/    scoring, story clusters, the classify step      } imports the other
    pipeline/       the spine: records, settings, errors, bus, index, the step runner

docs/architecture.md draws the floors and says where to add a source type, a step, a channel or
a command; ``lint-imports`` holds the floors in CI.
"""

"""The spine that every other package stands on; it imports none of them.

    records.py     Article and ScoredArticle, and their versioned JSON on the bus
    config.py      yuqing.yaml, typed; yamlfile.py reads YAML with FILE:LINE:COL errors
    errors.py      the one error tree (exit codes) and the per-item signals Drop, Retry, Quarantine
    bus/           the Bus protocol: local.py (SQLite, embedded), kafka.py
    index/         the Index protocol: sqlite.py (FTS5, embedded), elasticsearch.py
    backends.py    a backend picked by the scheme of its URL; urloptions.py reads a cluster from
                   it (several nodes, replication of the topics and indices yuqing creates)
    flow.py        the step runner (handle_batch, dead_letter, Worker) and the index and alert steps
    jsonl.py       articles as JSON Lines, the one shape commands read
    text.py        normalisation, segmentation, hashes, canonical URLs
    metrics.py     Prometheus counters; export.py CSV and Excel; testing.py helpers for tests
"""

"""What indexing one article costs the Elasticsearch node, by index setting.

    .venv/bin/python benchmarks/es_index_cost.py --rate 200 --seconds 30 \\
        --variants refresh1s,shipped,unigrams,no-words [--search-every 1] [--rounds 2]

Prepares the documents first (``pipeline.index.document`` of articles of about 1,500
characters), then for each variant creates a fresh index with the shipped settings and mappings
(``pipeline/index/elasticsearch.py``) changed as the variant says, and sends them in bulk
requests at a steady ``--rate`` (a bulk every 0.5 s) for ``--seconds``, as the index step does
under a steady stream, then refreshes. Printed per variant: the node's CPU (``/proc/PID/stat`` of
the pid deploy/services wrote) per document over the run and the refresh and the merges that
follow it within 3 s, and the node's own indexing, refresh and merge times.

``--search-every S`` sends a search every S seconds meanwhile, as a dashboard would: without
searches an index whose refresh_interval is not set goes "search idle" after 30 s and stops
refreshing, which is cheaper but not what happens while analysts look.

Variants (each changes only what it names in the shipped settings):
  shipped      the settings as shipped (refresh_interval 5s)
  refresh1s    refresh_interval not set: Elasticsearch's default, every second (search idle
               aside); what was shipped before
  refresh5s    refresh_interval 5s
  refresh30s   refresh_interval 30s
  unigrams     title_s/content_s analysed into single characters only, no bigrams (a phrase of
               single characters is still a substring search; ranking and query speed change)
  no-words     documents without the jieba ``words`` field (whole-word ranking is lost)
  lean-source  title_s, content_s and words indexed but left out of the stored _source (they are
               the normalised copies of title and content, and the jieba words)
  prenormalised  title_s/content_s analysed at index time without cjk_width and lowercase (the
               text is normalised in Python before it is sent); queries keep both filters
  no-norms     lean-source, and no length norms on the three text fields (ranking no longer
               favours short documents)
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from pipeline_profile import cpu_seconds, service_pids  # noqa: E402


def variant_settings(name: str, settings: dict, mappings: dict):
    settings, mappings = copy.deepcopy(settings), copy.deepcopy(mappings)
    if name == "refresh1s":
        settings.pop("refresh_interval", None)
    elif name == "refresh5s":
        settings["refresh_interval"] = "5s"
    elif name == "refresh30s":
        settings["refresh_interval"] = "30s"
    elif name == "prenormalised":
        analyzers = settings["analysis"]["analyzer"]
        analyzers["zh_bigram_normalised"] = dict(analyzers["zh_bigram"],
                                                 filter=["cjk_bigram_keep_unigrams"])
        for field in ("title_s", "content_s"):
            mappings["properties"][field].update(analyzer="zh_bigram_normalised",
                                                 search_analyzer="zh_bigram")
    elif name in ("lean-source", "no-norms"):
        mappings["_source"] = {"excludes": ["title_s", "content_s", "words"]}
        if name == "no-norms":
            for field in ("title_s", "content_s", "words"):
                mappings["properties"][field]["norms"] = False
    elif name == "unigrams":
        settings["analysis"]["analyzer"]["zh_bigram"]["filter"] = ["cjk_width", "lowercase"]
    elif name not in ("shipped", "no-words"):
        raise SystemExit(f"unknown variant {name!r}")
    return settings, mappings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:9200")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--variants", default="refresh1s,shipped,unigrams,no-words")
    parser.add_argument("--search-every", type=float, default=0.0)
    parser.add_argument("--rounds", type=int, default=1, help="run the list of variants N times")
    args = parser.parse_args()

    from elasticsearch import Elasticsearch
    from elasticsearch.helpers import bulk

    from pipeline.index import document
    from pipeline.index.elasticsearch import MAPPINGS, SETTINGS
    from pipeline.records import ScoredArticle
    from pipeline_sustained import distinct_articles

    pid = service_pids().get("elasticsearch")
    if pid is None:
        raise SystemExit("no Elasticsearch of deploy/services is running (deploy/services/start "
                         "elasticsearch)")
    n = int(args.rate * args.seconds)
    run_id = uuid.uuid4().hex[:6]
    docs = []
    for article in distinct_articles(n, run_id):
        docs.append(document(ScoredArticle.from_article(
            article, relevance=0.5, sensitivity=0.5, level=1, model_version="bench")))
    client = Elasticsearch(args.url, request_timeout=120)
    per_bulk = max(1, int(args.rate / 2))
    print(f"{n} documents, {per_bulk} per bulk every 0.5 s ({args.rate:g}/s), searches every "
          f"{args.search_every or 'never'} s")
    for _ in range(args.rounds):
        for name in args.variants.split(","):
            index = f"bench-cost-{run_id}-{name}"
            settings, mappings = variant_settings(name, SETTINGS, MAPPINGS)
            client.indices.create(index=index, settings=settings, mappings=mappings)
            client.cluster.health(index=index, wait_for_status="yellow")
            source = ([{k: v for k, v in d.items() if k != "words"} for d in docs]
                      if name == "no-words" else docs)
            cpu0 = cpu_seconds(pid)
            start = time.perf_counter()
            next_search = start
            for i in range(0, n, per_bulk):
                bulk(client, ({"_op_type": "index", "_index": index, "_id": d["content_hash"],
                               "_source": d} for d in source[i:i + per_bulk]),
                     chunk_size=per_bulk)
                now = time.perf_counter()
                if args.search_every and now >= next_search:
                    client.search(index=index, query={"match_phrase": {"content_s": "纪委"}},
                                  size=10)
                    next_search = now + args.search_every
                pause = start + (i + per_bulk) / args.rate - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
            behind = time.perf_counter() - start - args.seconds
            client.indices.refresh(index=index)
            time.sleep(3)  # merges the last refresh starts
            cpu = cpu_seconds(pid) - cpu0
            stats = client.indices.stats(index=index, metric="indexing,refresh,merge")
            total = stats["_all"]["total"]
            print(f"{name:<11} ES CPU {1000 * cpu / n:5.2f} ms/doc; indexing "
                  f"{total['indexing']['index_time_in_millis'] / n:5.2f} ms/doc, refreshes "
                  f"{total['refresh']['total']:>3} ({total['refresh']['total_time_in_millis'] / n:5.2f}"
                  f" ms/doc), merges {total['merges']['total_time_in_millis'] / n:5.2f} ms/doc; "
                  f"{'kept the pace' if behind < 1 else f'{behind:.1f} s behind'}; "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
            client.indices.delete(index=index)


if __name__ == "__main__":
    main()

"""ElasticsearchIndex: the index on Elasticsearch, through the official client.

Chinese full text works without the IK plugin: ``title_s``/``content_s`` (the normalised text) are
analysed with the built-in CJK bigram filter *keeping unigrams*, so a one-character query still
matches and a phrase query of bigrams finds any substring; ``words`` holds jieba's
``cut_for_search`` words with a whitespace analyzer, so that whole-word matches rank first.
Every filter field is a keyword, scores and levels are numbers. Document id = content hash, so a
replayed record overwrites itself instead of adding a copy.

Months of data: documents go to one index per month of their time (``yuqing-articles-2026.11``,
by publication time, else fetch time, in UTC), all created from one template that puts them in the
alias ``yuqing-articles``, which searches read. A month is one shard: at the volume of a county's
monitoring (tens of thousands of articles a day at most, a few kB each) a month stays well under
the 10–50 GB a shard should hold, and 24 months are 24 small indices. Retention is dropping whole
months (``prune``, ``yuqing index prune --keep-months 24``), which costs nothing, unlike deleting
documents. The same article always lands in the same month, so a replay still overwrites itself.

On a cluster the URL lists several nodes and the replicas each month keeps
(``http://h1:9200,h2:9200?replicas=1``, :mod:`pipeline.urloptions`): the client sends each request
to a node that answers, and a month whose primary's node is lost carries on from its replica.
Indices made before a change of ``replicas`` keep theirs (``PUT yuqing-articles-*/_settings``).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone

from elasticsearch import Elasticsearch
from elasticsearch import exceptions as es_errors
from elasticsearch.helpers import bulk
from elasticsearch.serializer import OrjsonSerializer

from pipeline.errors import BackendUnavailable, ConfigError
from pipeline.index import RECORD_FIELDS, Hit, Query, Rejected, SearchResult, document
from pipeline.records import ScoredArticle
from pipeline.urloptions import index_hosts, index_options

log = logging.getLogger(__name__)

_HINT = "is it running? (deploy/services/start elasticsearch, or check index.url / YUQING_INDEX_URL)"

SETTINGS = {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    # New articles become searchable within 5 s instead of 1 s. Each refresh writes a segment
    # that merges then rewrite; at 5 s the node spends about a fifth less CPU per article while
    # a dashboard searches every second (3.6 → 2.9 ms, docs/benchmarks.md). Alerts do not wait
    # for search, and Index.refresh() still makes a write visible at once where needed.
    "refresh_interval": "5s",
    "analysis": {
        "filter": {
            "cjk_bigram_keep_unigrams": {"type": "cjk_bigram", "output_unigrams": True},
        },
        "analyzer": {
            "zh_bigram": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["cjk_width", "lowercase", "cjk_bigram_keep_unigrams"],
            },
        },
    },
}

_KEYWORD = {"type": "keyword"}
_STORED_ONLY = {"type": "text", "index": False}

MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "source_id": _KEYWORD,
        "url": {"type": "keyword", "ignore_above": 2048},
        "canonical_url": {"type": "keyword", "ignore_above": 2048},
        "title": _STORED_ONLY,
        "content": _STORED_ONLY,
        "title_s": {"type": "text", "analyzer": "zh_bigram"},
        "content_s": {"type": "text", "analyzer": "zh_bigram"},
        "words": {"type": "text", "analyzer": "whitespace"},
        "published": {"type": "date"},
        "fetched": {"type": "date"},
        "time": {"type": "date"},
        "author": _KEYWORD,
        "encoding": _KEYWORD,
        "content_hash": _KEYWORD,
        "script": _KEYWORD,
        "relevance": {"type": "float"},
        "sensitivity": {"type": "float"},
        "level": {"type": "byte"},
        "department": _KEYWORD,
        "matched_rules": _KEYWORD,
        "model_version": _KEYWORD,
        "explanation": _KEYWORD,
        "story_id": _KEYWORD,
        "first_source": _KEYWORD,
        "repost_count": {"type": "integer"},
        "spread": {"type": "object",
                   "properties": {k: {"type": "integer"} for k in ("reposts", "comments", "likes", "reads")}},
    },
}
_ADDED = ("spread",)

_SORTS = {
    "relevance": ["_score", {"time": "desc"}],
    "newest": [{"time": "desc"}, {"content_hash": "desc"}],
    "oldest": [{"time": "asc"}, {"content_hash": "asc"}],
    "level": [{"level": "desc"}, {"time": "desc"}],
}


def _month(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y.%m")


class ElasticsearchIndex:
    """The :class:`~pipeline.index.Index` on Elasticsearch: ``ElasticsearchIndex(url, name)``.

    Creating one checks that the node answers, installs the index template for ``name-*`` (whose
    indices join the alias ``name``) and creates this month's index so the alias exists; raises
    :class:`BackendUnavailable` otherwise.
    """

    def __init__(
        self,
        url: str,
        name: str = "yuqing-articles",
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 30.0,
    ):
        self.url = url
        self.name = name
        self._pending: dict[str, ScoredArticle] = {}
        try:
            hosts, replicas = index_hosts(url), index_options(url).replicas
        except ValueError as exc:
            raise ConfigError(f"index.url: {exc}") from None
        self._settings = {**SETTINGS, "number_of_replicas": replicas}
        auth = (username, password or "") if username else None
        # orjson writes the bulk bodies (each document about 9 kB of JSON: the text twice and
        # its words) and reads the answers, in half the standard library's time. With several
        # hosts, a request refused by a node that is down is sent to another one.
        self.client = Elasticsearch(hosts, basic_auth=auth, request_timeout=timeout_s,
                                    serializer=OrjsonSerializer())
        try:
            # Cluster health rather than GET /: it also waits until the node can take writes.
            health = self.client.cluster.health(wait_for_status="yellow", timeout="30s")
            self._install()
        except (es_errors.ApiError, es_errors.TransportError) as exc:
            raise BackendUnavailable(f"Elasticsearch at {url}: {exc}; {_HINT}") from None
        log.info("elasticsearch cluster %s (%s) at %s, index %s",
                 health["cluster_name"], health["status"], url, name)

    def _install(self) -> None:
        if self.client.indices.exists_index_template(name=f"{self.name}-template") and \
                self.client.indices.exists(index=self.name) and \
                not self.client.indices.exists_alias(name=self.name):
            raise BackendUnavailable(
                f"Elasticsearch at {self.url}: {self.name!r} is an index, not the alias of monthly "
                f"indices this version writes; reindex it into {self.name}-YYYY.MM indices or choose "
                "another index.name")
        self.client.indices.put_index_template(
            name=f"{self.name}-template",
            index_patterns=[f"{self.name}-*"],
            template={"settings": self._settings, "mappings": MAPPINGS, "aliases": {self.name: {}}},
            priority=100,
        )
        # Fields added to the record since an index was created (strict mappings refuse them).
        self.client.indices.put_mapping(index=f"{self.name}-*", allow_no_indices=True,
                                        properties={k: MAPPINGS["properties"][k] for k in _ADDED})
        self._ensure(self._monthly(datetime.now(timezone.utc)))

    def _monthly(self, moment: datetime) -> str:
        return f"{self.name}-{_month(moment)}"

    def _ensure(self, index: str) -> None:
        if not self.client.indices.exists(index=index):
            try:
                self.client.indices.create(index=index)
            except Exception as exc:  # created by another worker in between
                if "resource_already_exists" not in str(exc):
                    raise

    def add(self, article: ScoredArticle) -> None:
        self._pending[article.id] = article

    def flush(self) -> list[Rejected]:
        if not self._pending:
            return []
        pending, self._pending = self._pending, {}
        try:
            filed = self._filed(list(pending))
            actions = (
                {"_op_type": "index",
                 "_index": filed.get(id) or self._monthly(article.published or article.fetched),
                 "_id": id, "_source": document(article)}
                for id, article in pending.items()
            )
            # Per-document refusals come back as errors; transport failures raise.
            _, errors = bulk(self.client, actions, chunk_size=500, max_retries=3,
                             raise_on_error=False, raise_on_exception=True)
        except (es_errors.ApiError, es_errors.TransportError) as exc:
            self._pending = {**pending, **self._pending}
            raise BackendUnavailable(f"Elasticsearch at {self.url}: bulk failed: {exc}") from None
        if errors:
            log.warning("elasticsearch refused %d of %d documents", len(errors), len(pending))
        return [_rejected(item) for item in errors]

    def _filed(self, ids: list[str]) -> dict[str, str]:
        """The monthly index each of ``ids`` is already in, where one is.

        A document's month comes from its publication time, or its fetch time when it has none:
        an undated page fetched again a month later has the same id but another month, and
        would otherwise become a second document. One search per bulk; it sees what was
        refreshed (within 5 s), which a re-fetch a month later always is, and a replay of the
        same record has the same times and so the same month anyway.
        """
        filed: dict[str, str] = {}
        for start in range(0, len(ids), 1000):  # a search returns at most 10,000 hits
            chunk = ids[start:start + 1000]
            found = self.client.search(index=self.name, query={"ids": {"values": chunk}},
                                       size=len(chunk), source=False)
            filed.update((hit["_id"], hit["_index"]) for hit in found["hits"]["hits"])
        return filed

    def refresh(self) -> None:
        self.client.indices.refresh(index=self.name)

    def search(self, query: Query) -> SearchResult:
        body = {
            "query": self._query(query),
            "sort": _SORTS[query.effective_sort()],
            "from": query.offset,
            "size": query.limit,
            "track_total_hits": True,
            "_source": sorted(RECORD_FIELDS),
        }
        found = self.client.search(index=self.name, body=body)
        hits = [
            Hit(ScoredArticle.model_validate(h["_source"]), h.get("_score"))
            for h in found["hits"]["hits"]
        ]
        return SearchResult(total=found["hits"]["total"]["value"], hits=hits)

    @staticmethod
    def _query(query: Query) -> dict:
        must = []
        for term in query.terms():
            # The term must occur in title or body; a whole-word match adds to the score.
            must.append(
                {
                    "bool": {
                        "should": [
                            {"match_phrase": {"title_s": {"query": term, "boost": 4.0}}},
                            {"match_phrase": {"content_s": {"query": term}}},
                        ],
                        "minimum_should_match": 1,
                    }
                }
            )
        should = [{"match": {"words": {"query": t, "boost": 2.0}}} for t in query.terms()]
        filters: list[dict] = []
        if query.since or query.until:
            span = {}
            if query.since:
                span["gte"] = query.since.isoformat()
            if query.until:
                span["lte"] = query.until.isoformat()
            filters.append({"range": {"time": span}})
        for field, values in (
            ("source_id", query.sources),
            ("level", query.levels),
            ("department", query.departments),
        ):
            if values:
                filters.append({"terms": {field: list(values)}})
        if query.min_level is not None:
            filters.append({"range": {"level": {"gte": query.min_level}}})
        if not must and not filters:
            return {"match_all": {}}
        return {"bool": {"must": must, "should": should, "filter": filters}}

    def get(self, id: str) -> ScoredArticle | None:
        # the alias spans months, and GET by id needs one index: ask by id across them
        found = self.client.search(index=self.name, query={"ids": {"values": [id]}}, size=1,
                                   source_includes=sorted(RECORD_FIELDS))
        hits = found["hits"]["hits"]
        return ScoredArticle.model_validate(hits[0]["_source"]) if hits else None

    def count(self) -> int:
        return self.client.count(index=self.name)["count"]

    def prune(self, before: datetime) -> int:
        """Drop the monthly indices of months that ended by ``before``; returns the documents
        dropped. Whole months only: the month ``before`` falls in is kept."""
        keep_from = _month(before)
        dropped = 0
        for index in self.client.indices.get(index=f"{self.name}-*", allow_no_indices=True):
            match = re.fullmatch(re.escape(self.name) + r"-(\d{4}\.\d{2})", index)
            if match and match[1] < keep_from:
                dropped += self.client.count(index=index)["count"]
                self.client.indices.delete(index=index)
                log.info("index_pruned index=%s", index)
        return dropped

    def delete_index(self) -> None:
        """Drop the monthly indices and the template (tests clean up with this)."""
        self.client.options(ignore_status=404).indices.delete(index=f"{self.name}-*")
        self.client.options(ignore_status=404).indices.delete_index_template(
            name=f"{self.name}-template"
        )

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.client.close()


def _rejected(item: dict) -> Rejected:
    op = next(iter(item.values()))
    error = op.get("error", {})
    reason = error.get("reason") if isinstance(error, dict) else str(error)
    return Rejected(id=op.get("_id", "?"), reason=f"{op.get('status')}: {reason}")

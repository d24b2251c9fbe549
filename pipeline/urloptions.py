"""What a bus or index URL says besides where the service is: several nodes, replication, batching.

A cluster is named in one URL, so that one environment variable (``YUQING_BUS_URL``,
``YUQING_INDEX_URL``) carries a whole deployment and a client survives any one node being down:

    kafka://h1:9092,h2:9092,h3:9092?replication_factor=3&min_insync_replicas=2
    http://h1:9200,h2:9200?replicas=1

Kafka: ``replication_factor`` (copies of each partition of the topics yuqing creates, default 1)
and ``min_insync_replicas`` (copies that must have a record before the producer, which asks
``acks=all``, is told it is written; default 1, at most the replication factor). Elasticsearch:
``replicas`` (``number_of_replicas`` of the monthly indices, default 0). The defaults are the single
node's. The options apply to topics and indices yuqing creates; an existing topic keeps its
replication (Kafka cannot change it in place: reassign partitions with the Kafka tools).

Kafka's consumers also take ``fetch_min_bytes`` and ``fetch_max_wait_ms`` (Kafka's own
``fetch.min.bytes`` and ``fetch.max.wait.ms``; default 131072 and 100): the broker answers a
fetch once that much is there or the wait is over. Larger batches cost less CPU an article in
every step, the broker and the Elasticsearch node, and each hop waits up to the wait longer
(docs/benchmarks.md, "Larger fetches"):

    kafka://h1:9092?fetch_min_bytes=1048576&fetch_max_wait_ms=500

Kept apart from the clients so that settings are checked when they are read (a wrong option is
reported with the file and line) without importing the Kafka or Elasticsearch client.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit, urlunsplit

__all__ = ["KafkaOptions", "IndexOptions", "kafka_options", "index_options", "index_hosts"]


@dataclass(frozen=True)
class KafkaOptions:
    replication_factor: int = 1
    min_insync_replicas: int = 1
    fetch_min_bytes: int = 128 * 1024
    fetch_max_wait_ms: int = 100


@dataclass(frozen=True)
class IndexOptions:
    replicas: int = 0


#: The options a URL may carry, with the lowest and highest value each accepts. The fetch wait
#: stays far below the consumer's request timeout (30 s), so a quiet topic is never a timeout.
_RANGES = {
    "replication_factor": (1, 100),
    "min_insync_replicas": (1, 100),
    "fetch_min_bytes": (1, 64 * 1024 * 1024),
    "fetch_max_wait_ms": (0, 5000),
    "replicas": (0, 100),
}


def _query(url: str, allowed: tuple[str, ...]) -> dict[str, int]:
    """The URL's query as whole numbers within their ranges, by name; ValueError says what is
    wrong."""
    out: dict[str, int] = {}
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True, strict_parsing=False):
        if name not in allowed:
            raise ValueError(f"{url!r}: unknown option {name!r}; the options are "
                             + ", ".join(allowed))
        if name in out:
            raise ValueError(f"{url!r}: option {name!r} given twice")
        low, high = _RANGES[name]
        if not value.isdigit() or not low <= int(value) <= high:
            raise ValueError(f"{url!r}: {name}={value!r} is not a whole number from {low} to {high}")
        out[name] = int(value)
    return out


def kafka_options(url: str) -> KafkaOptions:
    """The replication and fetch sizes a ``kafka://`` URL asks for; ValueError names the option
    and the fix."""
    options = KafkaOptions(**_query(url, ("replication_factor", "min_insync_replicas",
                                          "fetch_min_bytes", "fetch_max_wait_ms")))
    if options.min_insync_replicas > options.replication_factor:
        raise ValueError(
            f"{url!r}: min_insync_replicas={options.min_insync_replicas} is more than "
            f"replication_factor={options.replication_factor}: no write could ever succeed; "
            "lower min_insync_replicas")
    return options


def index_options(url: str) -> IndexOptions:
    """The replication an ``http(s)://`` index URL asks for; ValueError names the option."""
    return IndexOptions(**_query(url, ("replicas",)))


def index_hosts(url: str) -> list[str]:
    """``http://h1:9200,h2:9201?replicas=1`` → ``["http://h1:9200", "http://h2:9201"]``: the nodes
    the Elasticsearch client may send requests to (a credential before ``@`` goes to each)."""
    parts = urlsplit(url)
    credential, _, hosts = parts.netloc.rpartition("@")
    prefix = credential + "@" if credential else ""
    nodes = [h for h in hosts.split(",") if h]
    if not nodes:
        raise ValueError(f"{url!r} names no host; expected {parts.scheme}://HOST:PORT[,HOST:PORT...]")
    return [urlunsplit((parts.scheme, prefix + h, parts.path, "", "")) for h in nodes]

"""What a bus or index URL says besides where the service is: several nodes, and replication.

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


@dataclass(frozen=True)
class IndexOptions:
    replicas: int = 0


def _query(url: str, allowed: tuple[str, ...]) -> dict[str, int]:
    """The URL's query as small non-negative integers, by name; ValueError says what is wrong."""
    out: dict[str, int] = {}
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True, strict_parsing=False):
        if name not in allowed:
            raise ValueError(f"{url!r}: unknown option {name!r}; the options are "
                             + ", ".join(allowed))
        if name in out:
            raise ValueError(f"{url!r}: option {name!r} given twice")
        if not value.isdigit() or int(value) > 100:
            raise ValueError(f"{url!r}: {name}={value!r} is not a whole number from 0 to 100")
        out[name] = int(value)
    return out


def kafka_options(url: str) -> KafkaOptions:
    """The replication a ``kafka://`` URL asks for; ValueError names the option and the fix."""
    given = _query(url, ("replication_factor", "min_insync_replicas"))
    options = KafkaOptions(**given)
    if options.replication_factor < 1 or options.min_insync_replicas < 1:
        raise ValueError(f"{url!r}: replication_factor and min_insync_replicas are at least 1")
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

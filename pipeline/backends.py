"""Pick a backend by the scheme of its URL: the one place that knows every implementation.

    bus:   sqlite:///PATH → LocalBus            kafka://HOST:PORT → KafkaBus
    index: sqlite:///PATH → SqliteIndex         http(s)://HOST:PORT → ElasticsearchIndex
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pipeline.bus import Bus
from pipeline.bus.local import LocalBus
from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.index import Index
from pipeline.index.sqlite import SqliteIndex


def sqlite_path(url: str) -> str:
    """SQLAlchemy's convention: ``sqlite:///rel/path`` is relative, ``sqlite:////abs/path`` absolute."""
    if not url.startswith("sqlite:///"):
        raise ConfigError(f"{url!r}: a SQLite URL is sqlite:///PATH")
    return url[len("sqlite:///"):]


def open_bus(settings: Settings) -> Bus:
    """The configured bus; raises BackendUnavailable when it cannot be reached."""
    url = settings.bus.url
    scheme = urlsplit(url).scheme
    retention_ms = int(settings.bus.retention_days * 86_400_000)
    if scheme == "sqlite":
        return LocalBus(sqlite_path(url), settings.bus.partitions, settings.bus.topic_prefix,
                        retention_ms=retention_ms)
    if scheme == "kafka":
        # deferred: the Kafka client takes a while to import, and the embedded default needs none
        from pipeline.bus.kafka import KafkaBus

        return KafkaBus(url, settings.bus.partitions, settings.bus.topic_prefix,
                        settings.bus.client_id, retention_ms=retention_ms)
    raise ConfigError(f"bus.url: no backend for {url!r}")


def open_index(settings: Settings) -> Index:
    """The configured index; raises BackendUnavailable when it cannot be reached."""
    cfg = settings.index
    scheme = urlsplit(cfg.url).scheme
    if scheme == "sqlite":
        return SqliteIndex(sqlite_path(cfg.url))
    if scheme in ("http", "https"):
        # deferred: the Elasticsearch client takes a while to import, and the embedded default needs none
        from pipeline.index.elasticsearch import ElasticsearchIndex

        password = cfg.password.get_secret_value() if cfg.password else None
        return ElasticsearchIndex(cfg.url, cfg.name, cfg.username, password, cfg.timeout_s)
    raise ConfigError(f"index.url: no backend for {cfg.url!r}")

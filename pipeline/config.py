"""``yuqing.yaml``: typed, validated settings for the bus, the index, the store and paths.

Precedence, lowest first: defaults < YAML file < environment (``YUQING_*``) < command line.
The defaults are the embedded setup: every backend is a SQLite file under ``paths.data_dir``, so
yuqing runs on one machine with no servers. A mistake is reported as ``FILE:LINE: what is wrong``
followed by what is allowed; the command line exits with code 2.

Environment variables (deployment settings and secrets; read here and nowhere else):

    YUQING_CONFIG          path of the YAML file when no --config is given
    YUQING_DATA_DIR        paths.data_dir
    YUQING_BUS_URL         bus.url       e.g. kafka://10.0.0.5:9092,10.0.0.6:9092
    YUQING_INDEX_URL       index.url     e.g. https://es.example:9200
                                         a cluster: kafka://h1:9092,h2:9092,h3:9092?replication_factor=3&min_insync_replicas=2
                                         and http://h1:9200,h2:9200?replicas=1 (pipeline/urloptions.py)
    YUQING_INDEX_USERNAME  index.username
    YUQING_INDEX_PASSWORD  index.password
    YUQING_STORE_URL       store.url     e.g. postgresql://yuqing@db/yuqing
    YUQING_AUDIT_KEY       store.audit_key       the audit log's secret (never in the YAML file)
    YUQING_AUDIT_KEY_FILE  store.audit_key_file  where the audit log's secret is kept
    YUQING_ALERTING_FILE   alerting.file e.g. /etc/yuqing/alerting.yaml
"""

from __future__ import annotations

import os
from pathlib import Path
from functools import partial
from typing import Annotated, Any, Mapping
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError

from pipeline.errors import ConfigError
from pipeline.urloptions import index_hosts, index_options, kafka_options
from pipeline.yamlfile import PATTERN_WORDS, Marks, read_mapping, validation_problems

DEFAULT_FILE = "yuqing.yaml"


# One pattern, one wording: the same regex also checks source ids (crawlers/sources.py), and the
# message's key (index.name, sources[3].id) already says which thing is meant.
PATTERN_WORDS[r"^[a-z0-9][a-z0-9._-]*$"] = "lower-case letters, digits, '.', '_' and '-', starting with a letter or digit"
PATTERN_WORDS[r"^[A-Za-z0-9._-]*$"] = "letters, digits, '.', '_' and '-' (part of a topic name)"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_scheme(url: str | None, allowed: tuple[str, ...]) -> str | None:
    if url is None:
        return url
    if "://" not in url:
        raise ValueError(f"{url!r} is not a URL; use one of " + ", ".join(f"{s}://" for s in allowed))
    scheme = urlsplit(url).scheme
    if scheme not in allowed:
        raise ValueError(
            f"{url!r} has scheme {scheme or '(none)'!r}; use one of "
            + ", ".join(f"{s}://" for s in allowed)
        )
    return url


def _url(*schemes: str):
    """A URL field that accepts only the given schemes (the backend registry's choices)."""
    return Annotated[str | None, AfterValidator(partial(_check_scheme, allowed=schemes))]


def _check_options(url: str | None) -> str | None:
    """The cluster options of a Kafka or Elasticsearch URL (pipeline.urloptions), checked when the
    settings are read so that a wrong one is reported with its file and line."""
    if url is None:
        return url
    scheme = urlsplit(url).scheme
    if scheme == "kafka":
        kafka_options(url)
    elif scheme in ("http", "https"):
        index_options(url)
        index_hosts(url)
    elif urlsplit(url).query:
        raise ValueError(f"{url!r}: a {scheme}:// URL takes no options (the part after '?')")
    return url


BusUrl = Annotated[_url("sqlite", "kafka"), AfterValidator(_check_options)]
IndexUrl = Annotated[_url("sqlite", "http", "https"), AfterValidator(_check_options)]
StoreUrl = _url("sqlite", "postgresql", "postgresql+psycopg")


class BusSettings(_Section):
    """Where articles and alerts travel: the embedded log or Kafka."""

    url: BusUrl = Field(
        default=None,
        description="sqlite:///PATH for the embedded log (default: DATA_DIR/bus.sqlite3), "
        "or kafka://HOST:PORT[,HOST:PORT...][?replication_factor=3&min_insync_replicas=2] "
        "(the replication of the topics yuqing creates; pipeline/urloptions.py)",
    )
    topic_prefix: str = Field(default="", pattern=r"^[A-Za-z0-9._-]*$")
    partitions: int = Field(default=3, ge=1, le=1000, description="for topics yuqing creates")
    client_id: str = "yuqing"
    retention_days: float = Field(
        default=7.0, gt=0, le=3650,
        description="how long a record stays on the bus, read or not: set as retention.ms on "
        "yuqing's Kafka topics at start; the embedded bus drops older records as it writes. "
        "Longer than any outage the workers may need to catch up after")


class IndexSettings(_Section):
    """Where scored articles are searched: the embedded SQLite FTS5 index or Elasticsearch."""

    url: IndexUrl = Field(
        default=None,
        description="sqlite:///PATH (default: DATA_DIR/index.sqlite3) or "
        "http(s)://HOST:PORT[,HOST:PORT...][?replicas=1] (number_of_replicas of the indices "
        "yuqing creates; pipeline/urloptions.py)",
    )
    name: str = Field(default="yuqing-articles", pattern=r"^[a-z0-9][a-z0-9._-]*$")
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = Field(default=30.0, gt=0)


class StoreSettings(_Section):
    """The relational store for alerts, the workflow and the audit log."""

    url: StoreUrl = Field(
        default=None,
        description="sqlite:///PATH (default: DATA_DIR/yuqing.sqlite3) or postgresql://...",
    )
    audit_key_file: Path | None = Field(
        default=None, description="the audit log's secret key, readable by the service account only "
        "(default: DATA_DIR/audit.key, made when missing); relative to this file")
    audit_key: SecretStr | None = Field(
        default=None, description="the key itself, from YUQING_AUDIT_KEY only (BASE64[:FIRST_ENTRY])")
    audit_anchors: Path | None = Field(
        default=None, description="append-only file of the audit log's anchored heads "
        "(default: DATA_DIR/audit-anchors.log); relative to this file")


class AlertingSettings(_Section):
    """The alert workflow's own file: offices, routing, clocks, notification channels."""

    file: Path | None = Field(default=None, description="alerting.yaml; relative to this file; "
                              "default: the built-in settings from the commission's rules")


class CrawlSettings(_Section):
    """How hard and how politely the crawler works; ``crawl``, ``run`` and ``sources`` take
    ``--workers`` and ``--host-delay`` over these. docs/crawling.md sizes them."""

    workers: int = Field(default=32, ge=1, le=512,
                         description="sources polled at once (threads; each mostly waits)")
    host_delay_s: float = Field(default=1.0, ge=0, le=600,
                                description="minimum gap between two requests to one host")
    rate_limit_per_minute: float = Field(
        default=30.0, gt=0, le=600, description="requests a minute to a source that sets none")
    robots_ttl_s: float = Field(default=3600.0, ge=0, le=7 * 86400,
                                description="how long a robots.txt is trusted (kept across runs)")
    page_attempts: int = Field(default=6, ge=1, le=100,
                               description="failures of an article page before it is given up")
    page_retry_s: float = Field(default=120.0, ge=0, le=86400,
                                description="wait before the first retry of a failed page "
                                "(doubling after each failure; at the source's next round at "
                                "the earliest)")
    snapshot_months: int = Field(
        default=24, ge=1, le=240,
        description="months a page snapshot is kept after it was last fetched, as the index "
        "keeps articles (yuqing storage prune)")


class PathSettings(_Section):
    data_dir: Path = Field(default=Path("data"), description="relative to the config file")


class Settings(_Section):
    """All of yuqing's settings. Build with :func:`load_settings`, which also resolves defaults."""

    bus: BusSettings = Field(default_factory=BusSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    alerting: AlertingSettings = Field(default_factory=AlertingSettings)
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    paths: PathSettings = Field(default_factory=PathSettings)
    #: the file the settings came from, for messages; None when built from defaults only
    source: str | None = Field(default=None, exclude=True)

    def resolved(self, base: Path) -> "Settings":
        """Fill in the embedded defaults: relative paths against ``base``, SQLite files under it."""
        data = self.paths.data_dir if self.paths.data_dir.is_absolute() else base / self.paths.data_dir
        data = data.resolve()

        def embedded(url: str | None, filename: str) -> str:
            return url or f"sqlite:///{data / filename}"

        def under(path: Path | None, default: str, relative_to: Path) -> Path:
            if path is None:
                return data / default
            return path if path.is_absolute() else (relative_to / path).resolve()

        alerting_file = self.alerting.file
        if alerting_file is not None and not alerting_file.is_absolute():
            alerting_file = (base / alerting_file).resolve()
        return self.model_copy(
            update={
                "paths": PathSettings(data_dir=data),
                "alerting": AlertingSettings(file=alerting_file),
                "bus": self.bus.model_copy(update={"url": embedded(self.bus.url, "bus.sqlite3")}),
                "index": self.index.model_copy(
                    update={"url": embedded(self.index.url, "index.sqlite3")}
                ),
                "store": self.store.model_copy(
                    update={"url": embedded(self.store.url, "yuqing.sqlite3"),
                            "audit_key_file": under(self.store.audit_key_file, "audit.key", base),
                            "audit_anchors": under(self.store.audit_anchors, "audit-anchors.log", base)}
                ),
            }
        )


_ENV = {
    "YUQING_DATA_DIR": ("paths", "data_dir"),
    "YUQING_BUS_URL": ("bus", "url"),
    "YUQING_INDEX_URL": ("index", "url"),
    "YUQING_INDEX_USERNAME": ("index", "username"),
    "YUQING_INDEX_PASSWORD": ("index", "password"),
    "YUQING_STORE_URL": ("store", "url"),
    "YUQING_AUDIT_KEY": ("store", "audit_key"),
    "YUQING_AUDIT_KEY_FILE": ("store", "audit_key_file"),
    "YUQING_ALERTING_FILE": ("alerting", "file"),
}


def load_settings(
    path: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[tuple[str, str], Any] | None = None,
) -> Settings:
    """Read settings with the documented precedence and return them resolved.

    ``path`` None means ``$YUQING_CONFIG``, else ``./yuqing.yaml`` if it exists, else defaults.
    Raises :class:`ConfigError` listing every mistake as ``FILE:LINE: message``.
    """
    env = os.environ if env is None else env
    if path is None:
        path = env.get("YUQING_CONFIG") or (DEFAULT_FILE if Path(DEFAULT_FILE).exists() else None)

    data: dict[str, Any] = {}
    marks = Marks(None)
    if path is not None:
        data, marks = read_mapping(path, "sections (bus, index, store, alerting, crawl, paths)",
                                   "point --config elsewhere")

    store = data.get("store")
    if isinstance(store, dict) and "audit_key" in store:
        raise ConfigError(f"{marks.find(('store', 'audit_key'))}: store.audit_key: the audit log's secret is "
                          "never kept in the settings file; give it as YUQING_AUDIT_KEY or in the file "
                          "named by store.audit_key_file")
    layers = [(name, section, key) for name, (section, key) in _ENV.items() if env.get(name)]
    for name, section, key in layers:
        data.setdefault(section, {})
        if isinstance(data[section], dict):
            data[section][key] = env[name]
            marks.set((section, key), f"environment {name}")
    for (section, key), value in (overrides or {}).items():
        data.setdefault(section, {})[key] = value
        marks.set((section, key), "command line")

    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, marks, Settings)) from None
    base = Path(path).resolve().parent if path is not None else Path.cwd()
    return settings.model_copy(update={"source": str(path) if path else None}).resolved(base)


def describe(settings: Settings) -> str:
    """A short human summary of where things go; secrets are never printed."""
    return (
        f"bus={settings.bus.url} index={settings.index.url} (name {settings.index.name}) "
        f"store={settings.store.url} data_dir={settings.paths.data_dir}"
    )

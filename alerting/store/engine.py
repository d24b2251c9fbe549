"""Open the alert database by URL and bring its schema up to date with the Alembic migrations.

``sqlite:///PATH`` is the embedded default; ``postgresql://`` (or ``postgresql+psycopg://``) is for
deployments. On SQLite every transaction starts with ``BEGIN IMMEDIATE`` so that two writers (the
intake worker and an office clicking in the console) queue instead of failing half way, and
foreign keys are enforced; on PostgreSQL the audit chain's head row is locked ``FOR UPDATE``.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.errors import BackendUnavailable

__all__ = ["Store", "open_store", "sqlalchemy_url"]

MIGRATIONS = Path(__file__).with_name("migrations")


def sqlalchemy_url(url: str) -> str:
    """The settings' store URL in SQLAlchemy's form (``postgresql://`` uses the psycopg 3 driver)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


class Store:
    """The alert database: ``session()`` is a transaction, committed on success, rolled back on error.

    ``audit_key`` (an :class:`alerting.audit.AuditKey`, kept outside the database) goes with every
    session, so every audit entry written through this store is keyed; set it with
    :meth:`use_audit_key` once it is known.
    """

    def __init__(self, engine: Engine, audit_key=None):
        self.engine = engine
        self.audit_key = audit_key
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def use_audit_key(self, key) -> None:
        self.audit_key = key

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions(info={"audit_key": self.audit_key}) as session:
            with session.begin():
                yield session

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_immediate(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations up to ``revision`` on ``engine``'s database."""

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def open_store(url: str, migrate: bool = True) -> Store:
    """Connect to the database at ``url`` and (by default) migrate it to the current schema.

    Raises :class:`BackendUnavailable` naming the URL (password hidden) when it cannot be reached.
    """
    sa_url = make_url(sqlalchemy_url(url))
    shown = sa_url.render_as_string(hide_password=True)
    if sa_url.get_backend_name() == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(sa_url)
        _sqlite_immediate(engine)
    else:
        engine = create_engine(sa_url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        if migrate:
            upgrade(engine)
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise BackendUnavailable(
            f"alert store {shown} cannot be reached ({reason}); check store.url in yuqing.yaml "
            "or start PostgreSQL (deploy/services/start postgres)"
        ) from None
    return Store(engine)

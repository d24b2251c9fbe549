"""Where alerts live: a relational database behind SQLAlchemy (SQLite embedded, PostgreSQL deployed)."""

from alerting.store.engine import Store, open_store

__all__ = ["Store", "open_store"]

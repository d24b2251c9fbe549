"""The alert store: the migrations build exactly the schema the code uses, on both databases."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from alerting.store import open_store
from alerting.store.models import Base, VolumeCount
from pipeline.errors import BackendUnavailable


def test_the_migrations_create_exactly_the_tables_the_models_describe(store_factory):
    store = store_factory()
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_opening_twice_migrates_once_and_keeps_the_data(store_factory):
    hour = datetime(2026, 11, 27, 1, tzinfo=timezone.utc)
    with store_factory().session() as session:
        session.add(VolumeCount(name="会昌", hour=hour, count=3))
    with store_factory().session() as session:
        assert session.get(VolumeCount, ("会昌", hour)).count == 3


def test_times_come_back_aware_and_naive_times_are_refused(store_factory):
    store = store_factory()
    with store.session() as session:
        session.add(VolumeCount(name="周田", hour=datetime(2026, 11, 27, 9, tzinfo=timezone.utc), count=1))
    with store.session() as session:
        (row,) = session.query(VolumeCount).all()
        assert row.hour.tzinfo is not None and row.hour.hour == 9
    with pytest.raises(Exception, match="naive datetime"):
        with store.session() as session:
            session.add(VolumeCount(name="x", hour=datetime(2026, 11, 27, 9), count=1))


def test_an_unreachable_database_is_reported_with_what_to_do():
    with pytest.raises(BackendUnavailable, match=r"postgres(ql)?\+psycopg://yuqing:\*\*\*@127.0.0.1:1/.*start PostgreSQL"):
        open_store("postgresql://yuqing:secret@127.0.0.1:1/yuqing")

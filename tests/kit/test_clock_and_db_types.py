from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.engine import Dialect

from chatcart.kit.clock import as_utc, in_seconds, to_local, utcnow
from chatcart.kit.db import UTCDateTime
from chatcart.models import Workspace
from chatcart.runtime import Runtime
from tests.helpers.factory import make_shop

SQLITE: Dialect = SQLiteDialect()
POSTGRES: Dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


def test_utcnow_is_aware_utc() -> None:
    now = utcnow()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_in_seconds_is_in_the_future() -> None:
    assert timedelta(seconds=59) < in_seconds(60) - utcnow() <= timedelta(seconds=60)


def test_as_utc_naive_is_taken_as_utc() -> None:
    naive = datetime(2026, 1, 2, 3, 4, 5)
    result = as_utc(naive)
    assert result == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert result.utcoffset() == timedelta(0)


def test_as_utc_converts_aware_values() -> None:
    saigon = datetime(2026, 1, 2, 10, 0, tzinfo=timezone(timedelta(hours=7)))
    result = as_utc(saigon)
    assert result.tzinfo == UTC
    assert (result.hour, result.day) == (3, 2)
    assert result == saigon


def test_to_local_ho_chi_minh_is_plus_seven() -> None:
    value = datetime(2026, 1, 1, 20, 30, tzinfo=UTC)
    local = to_local(value, "Asia/Ho_Chi_Minh")
    assert local.utcoffset() == timedelta(hours=7)
    assert (local.day, local.hour, local.minute) == (2, 3, 30)
    assert local == value
    # Naive input is read as UTC first.
    assert to_local(value.replace(tzinfo=None), "Asia/Ho_Chi_Minh") == local


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRES], ids=lambda d: d.name)
def test_utc_datetime_refuses_naive(dialect: Dialect) -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), dialect)


def test_utc_datetime_binds_utc() -> None:
    saigon = datetime(2026, 1, 2, 10, 0, tzinfo=timezone(timedelta(hours=7)))
    kind = UTCDateTime()
    # SQLite has no time zones: stored as naive UTC.
    assert kind.process_bind_param(saigon, SQLITE) == datetime(2026, 1, 2, 3, 0)
    bound = kind.process_bind_param(saigon, POSTGRES)
    assert bound is not None
    assert bound.tzinfo == UTC
    assert bound == saigon
    assert kind.process_bind_param(None, SQLITE) is None


def test_utc_datetime_results_are_aware() -> None:
    kind = UTCDateTime()
    value = kind.process_result_value(datetime(2026, 1, 2, 3, 0), SQLITE)
    assert value == datetime(2026, 1, 2, 3, 0, tzinfo=UTC)
    assert kind.process_result_value(None, SQLITE) is None


async def test_created_at_round_trips_as_aware_utc(runtime: Runtime) -> None:
    before = utcnow()
    shop = await make_shop(runtime)
    after = utcnow()
    async with runtime.sessions() as session:
        created_at = await session.scalar(
            select(Workspace.created_at).where(Workspace.id == shop.workspace_id)
        )
    assert created_at is not None
    assert created_at.tzinfo is not None, runtime.engine.dialect.name
    assert created_at.utcoffset() == timedelta(0)
    # Stored and read back without an hour shift (e.g. no local-time mix-up).
    assert before - timedelta(seconds=1) <= created_at <= after + timedelta(seconds=1)

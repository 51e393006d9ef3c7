"""One metadata for every table, with a naming convention so migrations name constraints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from chatcart.kit.clock import utcnow
from chatcart.kit.db import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL; INTEGER on SQLite so the key is the rowid alias and autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        int: BigId,
    }


class IdMixin:
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)


class CreatedMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# Search indexes the ORM does not describe (SQLite FTS5 tables and their shadow tables,
# PostgreSQL expression indexes): migrations create them, autogenerate leaves them alone.
UNMANAGED_PREFIX = "fts_"


def managed(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic include_name hook: False for what the ORM does not own."""
    return not (name or "").startswith(UNMANAGED_PREFIX)

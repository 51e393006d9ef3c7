"""appointments: services, booking rules, dates with other hours, bookings

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chatcart.kit.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "appointment_day",
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hours", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_appointment_day_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_day")),
        sa.UniqueConstraint(
            "workspace_id", "day", name=op.f("uq_appointment_day_workspace_id_day")
        ),
    )
    op.create_table(
        "appointment_service",
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("name_vi", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("duration_minutes", _ID, nullable=False),
        sa.Column("price", _ID, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", _ID, nullable=False),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("created_at", chatcart.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_appointment_service_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_service")),
    )
    with op.batch_alter_table("appointment_service", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_service_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "appointment_setting",
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("hours", sa.JSON(), nullable=False),
        sa.Column("capacity", _ID, nullable=False),
        sa.Column("step_minutes", _ID, nullable=False),
        sa.Column("min_notice_minutes", _ID, nullable=False),
        sa.Column("days_ahead", _ID, nullable=False),
        sa.Column("updated_at", chatcart.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_appointment_setting_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_setting")),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_appointment_setting_workspace_id")),
    )
    op.create_table(
        "appointment_booking",
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("service_id", _ID, nullable=False),
        sa.Column("contact_id", _ID, nullable=True),
        sa.Column("conversation_id", _ID, nullable=True),
        sa.Column("starts_at", chatcart.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", chatcart.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("rescheduled_at", chatcart.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", chatcart.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=200), nullable=True),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("created_at", chatcart.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
            name=op.f("fk_appointment_booking_contact_id_contact"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_appointment_booking_conversation_id_conversation"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["appointment_service.id"],
            name=op.f("fk_appointment_booking_service_id_appointment_service"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_appointment_booking_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_booking")),
    )
    with op.batch_alter_table("appointment_booking", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_booking_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_appointment_booking_service_id"), ["service_id"], unique=False
        )
        batch_op.create_index(
            "ix_appointment_booking_time", ["workspace_id", "starts_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("appointment_booking", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_booking_time")
        batch_op.drop_index(batch_op.f("ix_appointment_booking_service_id"))
        batch_op.drop_index(batch_op.f("ix_appointment_booking_contact_id"))

    op.drop_table("appointment_booking")
    op.drop_table("appointment_setting")
    with op.batch_alter_table("appointment_service", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_service_workspace_id"))

    op.drop_table("appointment_service")
    op.drop_table("appointment_day")

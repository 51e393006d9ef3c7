"""webhook deliveries: every accepted POST kept as received

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 11:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chatcart.kit.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_delivery",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "channel_account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("received_at", chatcart.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("items", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["channel_account_id"],
            ["channel_account.id"],
            name=op.f("fk_webhook_delivery_channel_account_id_channel_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_webhook_delivery_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_delivery_channel_account_id"),
            ["channel_account_id"],
            unique=False,
        )

    with op.batch_alter_table("inbound_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "delivery_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_index(
            batch_op.f("ix_inbound_event_delivery_id"), ["delivery_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_inbound_event_delivery_id_webhook_delivery"),
            "webhook_delivery",
            ["delivery_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("inbound_event", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_inbound_event_delivery_id_webhook_delivery"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_inbound_event_delivery_id"))
        batch_op.drop_column("delivery_id")

    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_channel_account_id"))

    op.drop_table("webhook_delivery")

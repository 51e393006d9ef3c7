"""shop in chat: conversation carts, shop settings, payments

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 12:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chatcart.kit.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", _ID, autoincrement=True, nullable=False)


def _workspace(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"],
        ["workspace.id"],
        name=op.f(f"fk_{table}_workspace_id_workspace"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "shop_chat",
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", chatcart.kit.db.UTCDateTime(timezone=True), nullable=False),
        _id(),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_shop_chat_conversation_id_conversation"),
            ondelete="CASCADE",
        ),
        _workspace("shop_chat"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_chat")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_shop_chat_conversation_id")),
    )
    op.create_table(
        "shop_setting",
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("public_url", sa.Text(), nullable=True),
        sa.Column("shipping", sa.JSON(), nullable=False),
        sa.Column("payment_link", sa.Boolean(), nullable=False),
        sa.Column("store_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("updated_at", chatcart.kit.db.UTCDateTime(timezone=True), nullable=False),
        _id(),
        _workspace("shop_setting"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_setting")),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_shop_setting_workspace_id")),
    )
    op.create_table(
        "shop_payment",
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("amount", _ID, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("paid_at", chatcart.kit.db.UTCDateTime(timezone=True), nullable=True),
        _id(),
        sa.Column("created_at", chatcart.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["shop_order.id"],
            name=op.f("fk_shop_payment_order_id_shop_order"),
            ondelete="CASCADE",
        ),
        _workspace("shop_payment"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_payment")),
        sa.UniqueConstraint("token", name=op.f("uq_shop_payment_token")),
    )
    with op.batch_alter_table("shop_payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_payment_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shop_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_payment_order_id"))
    op.drop_table("shop_payment")
    op.drop_table("shop_setting")
    op.drop_table("shop_chat")

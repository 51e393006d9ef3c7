"""workspace.config_rev, bumped by triggers when flows, shop settings or products change

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 04:20:00.000000

Every claimed inbound batch reads the workspace's published flows, its shop settings and
whether it has products. Those change rarely, and from any process (the admin, the CLI),
so the worker caches them keyed by this counter, which it reads with the workspace row.
Triggers keep it true whatever writes the rows. Products count only when one is added or
removed (the chat asks whether there is any; stock changes must not empty the cache).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, events) whose rows make a workspace's configuration.
_WATCHED = (
    ("flow", ("INSERT", "UPDATE", "DELETE")),
    ("shop_setting", ("INSERT", "UPDATE", "DELETE")),
    ("product", ("INSERT", "DELETE")),
)
_BUMP = "UPDATE workspace SET config_rev = config_rev + 1 WHERE id = {row}.workspace_id"
_PG_FUNCTION = """
CREATE FUNCTION chatcart_bump_config_rev() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE workspace SET config_rev = config_rev + 1 WHERE id = OLD.workspace_id;
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.workspace_id <> OLD.workspace_id) THEN
        UPDATE workspace SET config_rev = config_rev + 1 WHERE id = NEW.workspace_id;
    END IF;
    RETURN NULL;
END
$$
"""


def _name(table: str, event: str) -> str:
    return f"trg_{table}_config_rev_{event.lower()}"


def upgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("config_rev", sa.Integer(), server_default="0", nullable=False)
        )
    if op.get_bind().dialect.name == "sqlite":
        for table, events in _WATCHED:
            for event in events:
                row = "OLD" if event == "DELETE" else "NEW"
                op.execute(
                    f"CREATE TRIGGER {_name(table, event)} AFTER {event} ON {table} "
                    f"FOR EACH ROW BEGIN {_BUMP.format(row=row)}; END"
                )
        return
    op.execute(_PG_FUNCTION)
    for table, events in _WATCHED:
        op.execute(
            f"CREATE TRIGGER {_name(table, 'change')} AFTER {' OR '.join(events)} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION chatcart_bump_config_rev()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, events in _WATCHED:
            for event in events:
                op.execute(f"DROP TRIGGER IF EXISTS {_name(table, event)}")
    else:
        for table, _ in _WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS {_name(table, 'change')} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS chatcart_bump_config_rev()")
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.drop_column("config_rev")

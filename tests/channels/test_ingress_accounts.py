"""The webhook door's account cache: a burst of requests reads the account once, also
when the cached entry is due for a refresh."""

from __future__ import annotations

import asyncio

from sqlalchemy import event

from chatcart.channels import service as channels
from chatcart.channels.webhooks import Ingress
from chatcart.kit.db import transaction
from chatcart.runtime import Runtime
from tests.helpers.factory import make_shop


async def test_a_burst_reads_the_account_once_and_a_due_entry_is_refreshed_once(
    runtime: Runtime,
) -> None:
    shop = await make_shop(runtime)
    async with transaction(runtime.sessions) as session:
        account = await channels.connect_meta(
            session,
            runtime.secrets,
            workspace_id=shop.workspace_id,
            kind="messenger",
            name="Page",
            external_id="1234",
            page_token="token",
            app_secret="secret",
        )
    ingress = Ingress(runtime)
    reads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "FROM channel_account" in statement:
            reads.append(statement)

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        first = await asyncio.gather(*(ingress.account(account.id) for _ in range(50)))
        assert len(reads) == 1
        assert {c.account.id for c in first if c.account} == {account.id}
        assert first[0].account is not None
        assert first[0].account.credentials["app_secret"] == "secret"
        first[0].until = 0.0  # due for a refresh
        again = await asyncio.gather(*(ingress.account(account.id) for _ in range(50)))
        assert all(c is first[0] for c in again)  # the entry they had, meanwhile
        while ingress._loading:
            await asyncio.sleep(0.01)
        assert len(reads) == 2  # one refresh for the fifty
        fresh = await ingress.account(account.id)
        assert fresh is not first[0] and fresh.until > 0
        missing = await asyncio.gather(*(ingress.account(999_999) for _ in range(10)))
        assert {c.status for c in missing} == {"missing"}
        assert len(reads) == 3
    finally:
        event.remove(engine, "before_cursor_execute", count)

"""Connecting Meta accounts: credentials encrypted, reconnects keep the verify token."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from chatcart.channels import service as channels
from chatcart.contacts import service as contacts
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.kit.errors import ValidationFailed
from chatcart.models import ChannelAccount, ContactIdentity
from chatcart.runtime import Runtime
from tests.helpers.factory import make_shop


async def test_credentials_are_encrypted_and_reconnect_keeps_the_verify_token(
    runtime: Runtime,
) -> None:
    shop = await make_shop(runtime)
    async with transaction(runtime.sessions) as session:
        first = await channels.connect_meta(
            session, runtime.secrets, workspace_id=shop.workspace_id, kind="messenger",
            name="Page", external_id="123", page_token="EAA-first", app_secret="s3cret",
        )  # fmt: skip
        verify = await channels.verify_token_of(session, runtime.secrets, first.id)
        assert await channels.flag_reauth(session, first.id, "190: token expired")
    async with transaction(runtime.sessions) as session:
        again = await channels.connect_meta(
            session, runtime.secrets, workspace_id=shop.workspace_id, kind="messenger",
            name="", external_id="123", page_token="EAA-second", app_secret="s3cret",
        )  # fmt: skip
        ref = await channels.account_ref(session, runtime.secrets, again.id)
        row = await session.scalar(select(ChannelAccount).where(ChannelAccount.id == again.id))
    assert again.id == first.id
    assert again.status == "active"  # reconnecting clears the flag
    assert ref.credentials == {
        "page_token": "EAA-second",
        "app_secret": "s3cret",
        "verify_token": verify,
    }
    assert row is not None and row.credentials_encrypted is not None
    assert "EAA-second" not in row.credentials_encrypted
    assert "s3cret" not in row.credentials_encrypted


async def test_instagram_needs_its_linked_page(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    with pytest.raises(ValidationFailed) as refused:
        async with transaction(runtime.sessions) as session:
            await channels.connect_meta(
                session, runtime.secrets, workspace_id=shop.workspace_id, kind="instagram",
                name="IG", external_id="1784", page_token="EAA", app_secret="s",
            )  # fmt: skip
    assert refused.value.details["field"] == "page_id"


async def test_a_first_opt_in_opens_no_window(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    async with transaction(runtime.sessions) as session:
        await contacts.resolve(
            session, workspace_id=shop.workspace_id, channel_account_id=shop.widget_account_id,
            external_id="psid-1", profile={}, source=None, seen_at=utcnow(), opens_window=False,
        )  # fmt: skip
    async with runtime.sessions() as session:
        identity = await session.scalar(select(ContactIdentity))
    assert identity is not None and identity.last_inbound_at is None

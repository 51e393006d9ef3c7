"""The admin contact page: profile, identities, phones, tags, typed fields, consent,
conversation excerpts, timeline, and merging with the suggested duplicate."""

from __future__ import annotations

import html

import httpx
from sqlalchemy import select

from chatcart.contacts import service as contacts
from chatcart.contacts.schemas import FieldDefinitionIn, FieldType
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.models import Contact, Conversation, Message
from chatcart.runtime import Runtime
from tests.helpers.admin import csrf_of, login
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server
from tests.web.test_contacts_page import add


async def test_contact_page_edits_and_merges(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    ws, account = shop.workspace_id, shop.widget_account_id
    lan = await add(runtime, ws, account, 1, "Trần Thị Lan", "sdt em 0912.345.678")
    twin = await add(runtime, ws, account, 2, "Lan (Zalo)", "0912345678")
    other = await make_shop(runtime, slug="other", name="Other")
    stranger = await add(
        runtime, other.workspace_id, other.widget_account_id, 3, "Người lạ", "0911111111"
    )
    async with transaction(runtime.sessions) as session:
        await contacts.define_field(
            session, ws, FieldDefinitionIn(key="size", label="Cỡ áo", type=FieldType.choice,
                                           choices=["S", "M", "L"])
        )  # fmt: skip
        await contacts.define_field(
            session, ws, FieldDefinitionIn(key="height", label="Chiều cao", type=FieldType.number)
        )
        identity = (await contacts.detail(session, ws, twin, utcnow())).identities[0]
        conversation = Conversation(
            workspace_id=ws, contact_id=twin, channel_account_id=account,
            identity_id=identity.id, last_message_at=utcnow(),
        )  # fmt: skip
        session.add(conversation)
        await session.flush()
        session.add(
            Message(
                workspace_id=ws, conversation_id=conversation.id, direction="in",
                sender="contact", text="Còn size M không shop?", content={},
            )
        )  # fmt: skip
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        await login(client, shop.email, shop.password)
        page = await client.get(f"/admin/contacts/{lan}")
        text = html.unescape(page.text)
        assert page.status_code == 200
        assert "Trần Thị Lan" in text and "+84912345678" in text
        assert "0912.345.678" in text  # as typed, beside the E.164 form
        assert f"/admin/contacts/{lan}/merge?other={twin}" in text  # the shared phone
        assert "Cỡ áo" in text and "Chiều cao" in text
        csrf = csrf_of(page.text)

        assert (await client.get(f"/admin/contacts/{stranger}")).status_code == 404
        refused = await client.post(f"/admin/contacts/{lan}/tags", data={"tag": "VIP"})
        assert refused.status_code == 403

        added = await client.post(
            f"/admin/contacts/{lan}/tags", data={"tag": "Khách VIP", "csrf_token": csrf}
        )
        assert added.status_code == 303
        bad = await client.post(
            f"/admin/contacts/{lan}/fields",
            data={"field:size": "M", "field:height": "cao lắm", "csrf_token": csrf},
        )
        assert bad.status_code == 422
        assert "height" in html.unescape(bad.text) and 'value="cao lắm"' in html.unescape(bad.text)
        good = await client.post(
            f"/admin/contacts/{lan}/fields",
            data={"field:size": "m", "field:height": "1,62", "csrf_token": csrf},
        )
        assert good.status_code == 303
        consent = await client.post(
            f"/admin/contacts/{lan}/consent",
            data={"purpose": "marketing", "status": "granted", "csrf_token": csrf},
        )
        assert consent.status_code == 303

        confirm = await client.get(f"/admin/contacts/{lan}/merge", params={"other": twin})
        assert confirm.status_code == 200 and "Lan (Zalo)" in html.unescape(confirm.text)
        merged = await client.post(
            f"/admin/contacts/{lan}/merge", data={"other": str(twin), "csrf_token": csrf}
        )
        assert merged.status_code == 303
        again = await client.post(
            f"/admin/contacts/{lan}/merge", data={"other": str(twin), "csrf_token": csrf}
        )
        assert again.status_code == 409  # already merged: said, not a 500

        after = html.unescape((await client.get(f"/admin/contacts/{lan}")).text)
        assert "Còn size M không shop?" in after  # the merged contact's conversation moved
        assert f"/admin/conversations/{conversation.id}" in after
        assert "Khách VIP" in after
        assert "Lan (Zalo) #" in after  # merged into this contact, kept for history
        gone = html.unescape((await client.get(f"/admin/contacts/{twin}")).text)
        assert f"/admin/contacts/{lan}" in gone

    async with runtime.sessions() as session:
        assert await contacts.tags_of(session, lan) == ["Khách VIP"]
        assert await contacts.fields_of(session, lan) == {"size": "M", "height": 1.62}
        detail = await contacts.detail(session, ws, lan, utcnow())
        assert [c.status for c in detail.consents] == ["granted"]
        assert len(detail.identities) == 2
        assert {"merged", "tagged", "fields_set", "consent"} <= {e.kind for e in detail.events}
        twin_row = await session.scalar(select(Contact).where(Contact.id == twin))
        assert twin_row is not None and twin_row.merged_into_id == lan

"""Phones, tags, typed fields, consent and merging, on both databases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from chatcart.contacts import service as contacts
from chatcart.contacts.errors import FieldValueInvalid, MergeRefused, UnknownField
from chatcart.contacts.schemas import FieldDefinitionIn, FieldType
from chatcart.kit.clock import utcnow
from chatcart.kit.contact_points import find_points
from chatcart.kit.db import transaction
from chatcart.models import (
    Contact,
    ContactConsent,
    ContactEvent,
    ContactIdentity,
    ContactPoint,
    Conversation,
)
from chatcart.runtime import Runtime
from tests.helpers.factory import make_shop


async def person(
    runtime: Runtime, workspace_id: int, account_id: int, external_id: str, name: str
) -> int:
    async with transaction(runtime.sessions) as session:
        resolved = await contacts.resolve(
            session,
            workspace_id=workspace_id,
            channel_account_id=account_id,
            external_id=external_id,
            profile={"name": name},
            source=None,
            seen_at=utcnow(),
        )
    return resolved.contact_id


async def test_points_tags_fields_and_search_text(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    lan = await person(runtime, shop.workspace_id, shop.widget_account_id, "v1", "Trần Thị Lan")
    async with transaction(runtime.sessions) as session:
        added = await contacts.add_points(
            session,
            shop.workspace_id,
            lan,
            find_points("sdt em 0912.345.678, mail lan@gmail.com", "VN"),
            source="message",
            at=utcnow(),
        )
        again = await contacts.add_points(
            session,
            shop.workspace_id,
            lan,
            find_points("0912345678", "VN"),
            source="message",
            at=utcnow(),
        )
        await contacts.tag(session, shop.workspace_id, [lan], ["Khách VIP", "khach vip", "Áo thun"])
        await contacts.define_field(
            session,
            shop.workspace_id,
            FieldDefinitionIn(key="size", type=FieldType.choice, choices=["S", "M", "L"]),
        )
        await contacts.define_field(
            session, shop.workspace_id, FieldDefinitionIn(key="birthday", type=FieldType.date)
        )
        await contacts.define_field(
            session, shop.workspace_id, FieldDefinitionIn(key="budget", type=FieldType.number)
        )
        await contacts.set_fields(
            session,
            shop.workspace_id,
            lan,
            {"size": "m", "birthday": "1995-03-08", "budget": "500000"},
        )
    assert added == ["lan@gmail.com", "+84912345678"]
    assert again == []
    async with runtime.sessions() as session:
        assert await contacts.tags_of(session, lan) == ["Khách VIP", "Áo thun"]
        assert await contacts.fields_of(session, lan) == {
            "size": "M",
            "birthday": date(1995, 3, 8),
            "budget": 500000.0,
        }
        row = await session.get(Contact, lan)
        assert row is not None
        # Accent-insensitive, and phones both international and as typed locally.
        assert "tran thi lan" in row.search_text
        assert "+84912345678" in row.search_text and "0912345678" in row.search_text


@pytest.mark.parametrize(
    ("values", "error", "field"),
    [
        ({"nope": "x"}, UnknownField, "nope"),
        ({"size": "XXL"}, FieldValueInvalid, "size"),
        ({"birthday": "08/03/1995x"}, FieldValueInvalid, "birthday"),
        ({"budget": "nhiều"}, FieldValueInvalid, "budget"),
    ],
)
async def test_field_values_that_do_not_fit_name_the_field(
    runtime: Runtime, values: dict[str, object], error: type[Exception], field: str
) -> None:
    shop = await make_shop(runtime)
    lan = await person(runtime, shop.workspace_id, shop.widget_account_id, "v1", "Lan")
    async with transaction(runtime.sessions) as session:
        await contacts.define_field(
            session,
            shop.workspace_id,
            FieldDefinitionIn(key="size", type=FieldType.choice, choices=["S", "M"]),
        )
        await contacts.define_field(
            session, shop.workspace_id, FieldDefinitionIn(key="birthday", type=FieldType.date)
        )
        await contacts.define_field(
            session, shop.workspace_id, FieldDefinitionIn(key="budget", type=FieldType.number)
        )
    with pytest.raises(error) as raised:
        async with transaction(runtime.sessions) as session:
            await contacts.set_fields(session, shop.workspace_id, lan, values)
    assert raised.value.details["field"] == field  # type: ignore[attr-defined]


async def test_merge_moves_everything_and_keeps_history(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    keep = await person(runtime, shop.workspace_id, shop.widget_account_id, "v1", "Lan")
    gone = await person(runtime, shop.workspace_id, shop.widget_account_id, "v2", "Trần Lan")
    async with transaction(runtime.sessions) as session:
        for contact_id in (keep, gone):
            await contacts.add_points(
                session,
                shop.workspace_id,
                contact_id,
                find_points("0912345678", "VN"),
                source="message",
                at=utcnow(),
            )
        await contacts.add_points(
            session,
            shop.workspace_id,
            gone,
            find_points("lan@gmail.com", "VN"),
            source="import",
            at=utcnow(),
        )
        await contacts.tag(session, shop.workspace_id, [keep], ["vip"])
        await contacts.tag(session, shop.workspace_id, [gone], ["vip", "đã mua"])
        await contacts.set_consent(
            session, shop.workspace_id, gone, "marketing", "granted", source="import"
        )
        session.add(
            Conversation(
                workspace_id=shop.workspace_id,
                contact_id=gone,
                channel_account_id=shop.widget_account_id,
                identity_id=(
                    await session.scalar(
                        select(ContactIdentity.id).where(ContactIdentity.external_id == "v2")
                    )
                ),
            )
        )
    async with runtime.sessions() as session:
        (suggestion,) = await contacts.merge_suggestions(session, shop.workspace_id)
    assert (suggestion.contact_id, suggestion.other_id, suggestion.value) == (
        keep,
        gone,
        "+84912345678",
    )

    async with transaction(runtime.sessions) as session:
        await contacts.merge(session, shop.workspace_id, keep, gone, actor="owner@shop.test")
    async with runtime.sessions() as session:
        identities = (await session.scalars(select(ContactIdentity.contact_id))).all()
        conversations = (await session.scalars(select(Conversation.contact_id))).all()
        points = (
            await session.scalars(select(ContactPoint.value).where(ContactPoint.contact_id == keep))
        ).all()
        consent = await session.get(ContactConsent, (keep, "marketing"))
        merged = await session.get(Contact, gone)
        events = (
            await session.scalars(select(ContactEvent.kind).where(ContactEvent.contact_id == keep))
        ).all()
        assert set(identities) == {keep}
        assert set(conversations) == {keep}
        assert sorted(points) == ["+84912345678", "lan@gmail.com"]
        assert await contacts.tags_of(session, keep) == ["vip", "đã mua"]
        assert consent is not None and consent.status == "granted"
        assert merged is not None and merged.merged_into_id == keep
        assert "merged" in events and "consent" in events  # the history came along
        assert await contacts.merge_suggestions(session, shop.workspace_id) == []
    with pytest.raises(MergeRefused):
        async with transaction(runtime.sessions) as session:
            await contacts.merge(session, shop.workspace_id, keep, gone, actor="x")

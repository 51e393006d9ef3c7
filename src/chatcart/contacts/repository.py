from __future__ import annotations

from sqlalchemy import Row, and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chatcart.models import (
    Contact,
    ContactConsent,
    ContactEvent,
    ContactFieldValue,
    ContactIdentity,
    ContactPoint,
    ContactTag,
    Conversation,
    FieldDefinition,
    OptinToken,
    OutboundMessage,
    Tag,
)


async def identity(
    session: AsyncSession, channel_account_id: int, external_id: str
) -> ContactIdentity | None:
    return await session.scalar(
        select(ContactIdentity).where(
            ContactIdentity.channel_account_id == channel_account_id,
            ContactIdentity.external_id == external_id,
        )
    )


async def contact(session: AsyncSession, workspace_id: int, contact_id: int) -> Contact | None:
    return await session.scalar(
        select(Contact).where(Contact.id == contact_id, Contact.workspace_id == workspace_id)
    )


async def identity_by_id(session: AsyncSession, identity_id: int) -> ContactIdentity | None:
    return await session.get(ContactIdentity, identity_id)


async def known_external_ids(
    session: AsyncSession, channel_account_id: int, external_ids: set[str]
) -> set[str]:
    if not external_ids:
        return set()
    rows = await session.scalars(
        select(ContactIdentity.external_id).where(
            ContactIdentity.channel_account_id == channel_account_id,
            ContactIdentity.external_id.in_(external_ids),
        )
    )
    return set(rows.all())


async def optin(session: AsyncSession, identity_id: int, topic: str) -> OptinToken | None:
    return await session.scalar(
        select(OptinToken).where(OptinToken.identity_id == identity_id, OptinToken.topic == topic)
    )


async def point_values(session: AsyncSession, contact_id: int) -> list[str]:
    rows = await session.scalars(
        select(ContactPoint.value).where(ContactPoint.contact_id == contact_id)
    )
    return list(rows.all())


async def point(
    session: AsyncSession, contact_id: int, kind: str, value: str
) -> ContactPoint | None:
    return await session.scalar(
        select(ContactPoint).where(
            ContactPoint.contact_id == contact_id,
            ContactPoint.kind == kind,
            ContactPoint.value == value,
        )
    )


async def tag_by_key(session: AsyncSession, workspace_id: int, key: str) -> Tag | None:
    return await session.scalar(select(Tag).where(Tag.workspace_id == workspace_id, Tag.key == key))


async def tags_by_keys(session: AsyncSession, workspace_id: int, keys: list[str]) -> list[Tag]:
    rows = await session.scalars(
        select(Tag).where(Tag.workspace_id == workspace_id, Tag.key.in_(keys))
    )
    return list(rows.all())


async def tag_ids_of(session: AsyncSession, contact_id: int) -> set[int]:
    rows = await session.scalars(
        select(ContactTag.tag_id).where(ContactTag.contact_id == contact_id)
    )
    return set(rows.all())


async def remove_tags(session: AsyncSession, contact_id: int, tag_ids: list[int]) -> int:
    result = await session.execute(
        delete(ContactTag).where(
            ContactTag.contact_id == contact_id, ContactTag.tag_id.in_(tag_ids)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def tag_names_of(session: AsyncSession, contact_id: int) -> list[str]:
    rows = await session.scalars(
        select(Tag.name)
        .join(ContactTag, ContactTag.tag_id == Tag.id)
        .where(ContactTag.contact_id == contact_id)
        .order_by(Tag.name)
    )
    return list(rows.all())


async def field_definition(
    session: AsyncSession, workspace_id: int, key: str
) -> FieldDefinition | None:
    return await session.scalar(
        select(FieldDefinition).where(
            FieldDefinition.workspace_id == workspace_id, FieldDefinition.key == key
        )
    )


async def field_definitions(session: AsyncSession, workspace_id: int) -> list[FieldDefinition]:
    rows = await session.scalars(
        select(FieldDefinition)
        .where(FieldDefinition.workspace_id == workspace_id)
        .order_by(FieldDefinition.key)
    )
    return list(rows.all())


async def field_values_of(
    session: AsyncSession, contact_id: int
) -> list[Row[FieldDefinition, ContactFieldValue]]:
    rows = await session.execute(
        select(FieldDefinition, ContactFieldValue)
        .join(ContactFieldValue, ContactFieldValue.field_id == FieldDefinition.id)
        .where(ContactFieldValue.contact_id == contact_id)
    )
    return list(rows.all())


async def move_contact_data(session: AsyncSession, from_id: int, to_id: int) -> dict[str, int]:
    """Everything of one contact moves to another; where both hold the same thing (a tag,
    a phone, a field, a consent purpose), the receiving contact's copy is kept."""
    moved: dict[str, int] = {}

    async def reassign(name: str, model: type, column: str) -> None:
        result = await session.execute(
            update(model).where(getattr(model, column) == from_id).values({column: to_id})
        )
        moved[name] = int(getattr(result, "rowcount", 0) or 0)

    await reassign("identities", ContactIdentity, "contact_id")
    await reassign("conversations", Conversation, "contact_id")
    await reassign("outbound_messages", OutboundMessage, "contact_id")
    await reassign("events", ContactEvent, "contact_id")
    # Rows keyed by contact: move those the receiver lacks, drop the rest (duplicates).
    other = aliased(ContactPoint)
    await session.execute(
        delete(ContactPoint).where(
            ContactPoint.contact_id == from_id,
            select(other.id)
            .where(
                other.contact_id == to_id,
                other.kind == ContactPoint.kind,
                other.value == ContactPoint.value,
            )
            .exists(),
        )
    )
    await reassign("points", ContactPoint, "contact_id")
    for model, key in (
        (ContactTag, ContactTag.tag_id),
        (ContactFieldValue, ContactFieldValue.field_id),
        (ContactConsent, ContactConsent.purpose),
    ):
        owned = select(key).where(model.contact_id == to_id)
        await session.execute(delete(model).where(model.contact_id == from_id, key.in_(owned)))
        await reassign(model.__tablename__, model, "contact_id")
    return moved


async def shared_points(
    session: AsyncSession, workspace_id: int, limit: int
) -> list[Row[int, int, str, str]]:
    a = ContactPoint.__table__.alias("a")
    b = ContactPoint.__table__.alias("b")
    ca = Contact.__table__.alias("ca")
    cb = Contact.__table__.alias("cb")
    query = (
        select(a.c.contact_id, b.c.contact_id, a.c.kind, a.c.value)
        .join(
            b, and_(a.c.kind == b.c.kind, a.c.value == b.c.value, a.c.contact_id < b.c.contact_id)
        )
        .join(ca, ca.c.id == a.c.contact_id)
        .join(cb, cb.c.id == b.c.contact_id)
        .where(
            a.c.workspace_id == workspace_id,
            b.c.workspace_id == workspace_id,
            a.c.valid.is_(True),
            b.c.valid.is_(True),
            ca.c.merged_into_id.is_(None),
            cb.c.merged_into_id.is_(None),
        )
        .distinct()
        .limit(limit)
    )
    return list((await session.execute(query)).all())

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, and_, delete, func, or_, select, update
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


async def identity_with_contact(
    session: AsyncSession, channel_account_id: int, external_id: str
) -> tuple[ContactIdentity, Contact] | None:
    """An identity and its contact in one query (the inbound hot path)."""
    row = (
        await session.execute(
            select(ContactIdentity, Contact)
            .join(Contact, Contact.id == ContactIdentity.contact_id)
            .where(
                ContactIdentity.channel_account_id == channel_account_id,
                ContactIdentity.external_id == external_id,
            )
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def identities_with_contacts(
    session: AsyncSession, senders: set[tuple[int, str]]
) -> list[tuple[ContactIdentity, Contact]]:
    """`identity_with_contact` for many (account, external id) pairs in one query."""
    if not senders:
        return []
    by_account: dict[int, list[str]] = {}
    for account_id, external_id in senders:
        by_account.setdefault(account_id, []).append(external_id)
    query = (
        select(ContactIdentity, Contact)
        .join(Contact, Contact.id == ContactIdentity.contact_id)
        .where(
            or_(
                *(
                    and_(
                        ContactIdentity.channel_account_id == account_id,
                        ContactIdentity.external_id.in_(external_ids),
                    )
                    for account_id, external_ids in by_account.items()
                )
            )
        )
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def identities_by_ids(
    session: AsyncSession, identity_ids: list[int]
) -> list[ContactIdentity]:
    if not identity_ids:
        return []
    query = select(ContactIdentity).where(ContactIdentity.id.in_(identity_ids))
    return list((await session.scalars(query)).all())


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


# ---- CSV export and import (contacts/csv_export.py, contacts/csv_import.py) ---------------

_EXPORT_COLUMNS = (
    Contact.id,
    Contact.name,
    Contact.first_name,
    Contact.last_name,
    Contact.locale,
    Contact.source,
    Contact.created_at,
    Contact.last_interaction_at,
    Contact.order_count,
    Contact.total_spent,
)
# id, name, first_name, last_name, locale, source, created_at, last_interaction_at,
# order_count, total_spent
ExportRow = Row[
    int,
    str,
    str | None,
    str | None,
    str | None,
    dict[str, Any],
    datetime,
    datetime | None,
    int,
    int,
]


async def export_contacts_after(
    session: AsyncSession, workspace_id: int, after_id: int, limit: int
) -> list[ExportRow]:
    """One keyset page of live (not merged) contacts, as plain rows (no identity map)."""
    rows = await session.execute(
        select(*_EXPORT_COLUMNS)
        .where(
            Contact.workspace_id == workspace_id,
            Contact.merged_into_id.is_(None),
            Contact.id > after_id,
        )
        .order_by(Contact.id)
        .limit(limit)
    )
    return list(rows.all())


async def export_contacts_in(
    session: AsyncSession, workspace_id: int, contact_ids: list[int]
) -> list[ExportRow]:
    rows = await session.execute(
        select(*_EXPORT_COLUMNS)
        .where(
            Contact.workspace_id == workspace_id,
            Contact.merged_into_id.is_(None),
            Contact.id.in_(contact_ids),
        )
        .order_by(Contact.id)
    )
    return list(rows.all())


async def count_live_contacts(session: AsyncSession, workspace_id: int) -> int:
    total = await session.scalar(
        select(func.count())
        .select_from(Contact)
        .where(Contact.workspace_id == workspace_id, Contact.merged_into_id.is_(None))
    )
    return int(total or 0)


async def points_of_many(
    session: AsyncSession, contact_ids: list[int]
) -> list[Row[int, str, str, bool]]:
    rows = await session.execute(
        select(ContactPoint.contact_id, ContactPoint.kind, ContactPoint.value, ContactPoint.valid)
        .where(ContactPoint.contact_id.in_(contact_ids))
        .order_by(ContactPoint.contact_id, ContactPoint.first_seen_at, ContactPoint.id)
    )
    return list(rows.all())


async def tag_names_of_many(session: AsyncSession, contact_ids: list[int]) -> list[Row[int, str]]:
    rows = await session.execute(
        select(ContactTag.contact_id, Tag.name)
        .join(Tag, Tag.id == ContactTag.tag_id)
        .where(ContactTag.contact_id.in_(contact_ids))
        .order_by(ContactTag.contact_id, Tag.name)
    )
    return list(rows.all())


async def field_values_of_many(
    session: AsyncSession, contact_ids: list[int]
) -> list[Row[int, str, str, str | None, float | None, date | None, bool | None]]:
    rows = await session.execute(
        select(
            ContactFieldValue.contact_id,
            FieldDefinition.key,
            FieldDefinition.type,
            ContactFieldValue.value_text,
            ContactFieldValue.value_number,
            ContactFieldValue.value_date,
            ContactFieldValue.value_bool,
        )
        .join(FieldDefinition, FieldDefinition.id == ContactFieldValue.field_id)
        .where(ContactFieldValue.contact_id.in_(contact_ids))
    )
    return list(rows.all())


async def identities_of_many(
    session: AsyncSession, contact_ids: list[int]
) -> list[Row[int, int, str]]:
    rows = await session.execute(
        select(
            ContactIdentity.contact_id,
            ContactIdentity.channel_account_id,
            ContactIdentity.external_id,
        )
        .where(ContactIdentity.contact_id.in_(contact_ids))
        .order_by(ContactIdentity.contact_id, ContactIdentity.id)
    )
    return list(rows.all())


async def consents_of_many(
    session: AsyncSession, contact_ids: list[int], purpose: str
) -> list[Row[int, str]]:
    rows = await session.execute(
        select(ContactConsent.contact_id, ContactConsent.status).where(
            ContactConsent.contact_id.in_(contact_ids), ContactConsent.purpose == purpose
        )
    )
    return list(rows.all())


async def contact_by_point(
    session: AsyncSession, workspace_id: int, kind: str, value: str
) -> Contact | None:
    """The oldest live contact holding this valid phone / email (invalid ones never match)."""
    return await session.scalar(
        select(Contact)
        .join(ContactPoint, ContactPoint.contact_id == Contact.id)
        .where(
            ContactPoint.workspace_id == workspace_id,
            ContactPoint.kind == kind,
            ContactPoint.value == value,
            ContactPoint.valid.is_(True),
            Contact.merged_into_id.is_(None),
        )
        .order_by(Contact.id)
        .limit(1)
    )


async def identity_on_accounts(
    session: AsyncSession, channel_account_ids: list[int], external_id: str
) -> ContactIdentity | None:
    if not channel_account_ids:
        return None
    return await session.scalar(
        select(ContactIdentity)
        .where(
            ContactIdentity.channel_account_id.in_(channel_account_ids),
            ContactIdentity.external_id == external_id,
        )
        .order_by(ContactIdentity.id)
        .limit(1)
    )


async def point_keys(session: AsyncSession, contact_id: int) -> set[tuple[str, str]]:
    rows = await session.execute(
        select(ContactPoint.kind, ContactPoint.value).where(ContactPoint.contact_id == contact_id)
    )
    return {(kind, value) for kind, value in rows.all()}

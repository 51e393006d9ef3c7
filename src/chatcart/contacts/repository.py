from __future__ import annotations

from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any, cast

from sqlalchemy import Row, Table, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chatcart.models import (
    Base,
    ChannelAccount,
    Contact,
    ContactConsent,
    ContactEvent,
    ContactFieldValue,
    ContactIdentity,
    ContactImport,
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
    statement, params = _by_account(senders, with_contacts=True)
    return [(row[0], row[1]) for row in (await session.execute(statement, params)).all()]


@lru_cache(maxsize=64)
def _senders_query(accounts: int, with_contacts: bool) -> Any:
    """Identities of (account, external id) pairs as `accounts` groups of account =
    :a<n> AND external_id IN (:e<n>): built once per number of accounts, the pairs as
    parameters (building the expression was most of a small batch's read)."""
    if with_contacts:
        base = select(ContactIdentity, Contact).join(
            Contact, Contact.id == ContactIdentity.contact_id
        )
    else:
        base = select(ContactIdentity.channel_account_id, ContactIdentity.external_id)
    return base.where(
        or_(
            *(
                and_(
                    ContactIdentity.channel_account_id == bindparam(f"a{n}"),
                    ContactIdentity.external_id.in_(bindparam(f"e{n}", expanding=True)),
                )
                for n in range(accounts)
            )
        )
    )


def _by_account(
    senders: set[tuple[int, str]], *, with_contacts: bool
) -> tuple[Any, dict[str, Any]]:
    by_account: dict[int, list[str]] = {}
    for account_id, external_id in senders:
        by_account.setdefault(account_id, []).append(external_id)
    params: dict[str, Any] = {}
    for n, (account_id, external_ids) in enumerate(sorted(by_account.items())):
        params[f"a{n}"] = account_id
        params[f"e{n}"] = sorted(external_ids)
    return _senders_query(len(by_account), with_contacts), params


async def identities_by_ids(
    session: AsyncSession, identity_ids: list[int]
) -> list[ContactIdentity]:
    if not identity_ids:
        return []
    found = await session.scalars(_IDENTITIES_BY_IDS, {"ids": sorted(set(identity_ids))})
    return list(found.all())


_IDENTITIES_BY_IDS = select(ContactIdentity).where(
    ContactIdentity.id.in_(bindparam("ids", expanding=True))
)


async def known_senders(
    session: AsyncSession, senders: set[tuple[int, str]]
) -> set[tuple[int, str]]:
    """Which (account, external id) pairs have an identity, in one query."""
    if not senders:
        return set()
    statement, params = _by_account(senders, with_contacts=False)
    return {(a, e) for a, e in (await session.execute(statement, params)).all()}


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


# ---- the contact page (contacts/profile.py) ----------------------------------------------


async def identities_with_accounts(
    session: AsyncSession, contact_id: int
) -> list[Row[ContactIdentity, str, str]]:
    """(identity, channel kind, account name), oldest identity first."""
    rows = await session.execute(
        select(ContactIdentity, ChannelAccount.kind, ChannelAccount.name)
        .join(ChannelAccount, ChannelAccount.id == ContactIdentity.channel_account_id)
        .where(ContactIdentity.contact_id == contact_id)
        .order_by(ContactIdentity.id)
    )
    return list(rows.all())


async def points_with_channel(
    session: AsyncSession, contact_id: int
) -> list[Row[ContactPoint, str | None]]:
    rows = await session.execute(
        select(ContactPoint, ChannelAccount.kind)
        .outerjoin(ChannelAccount, ChannelAccount.id == ContactPoint.channel_account_id)
        .where(ContactPoint.contact_id == contact_id)
        .order_by(ContactPoint.kind.desc(), ContactPoint.first_seen_at, ContactPoint.id)
    )
    return list(rows.all())


async def consents_of(session: AsyncSession, contact_id: int) -> list[ContactConsent]:
    rows = await session.scalars(
        select(ContactConsent)
        .where(ContactConsent.contact_id == contact_id)
        .order_by(ContactConsent.purpose)
    )
    return list(rows.all())


async def events_of(session: AsyncSession, contact_id: int, limit: int) -> list[ContactEvent]:
    """The newest events first (ix_contact_event_contact_at)."""
    rows = await session.scalars(
        select(ContactEvent)
        .where(ContactEvent.contact_id == contact_id)
        .order_by(ContactEvent.at.desc(), ContactEvent.id.desc())
        .limit(limit)
    )
    return list(rows.all())


async def duplicates_of(
    session: AsyncSession, workspace_id: int, contact_id: int, limit: int
) -> list[Row[Contact, str, str]]:
    """Live contacts sharing a valid phone or email with this one: (contact, kind, value)."""
    mine = aliased(ContactPoint)
    rows = await session.execute(
        select(Contact, ContactPoint.kind, ContactPoint.value)
        .join(ContactPoint, ContactPoint.contact_id == Contact.id)
        .join(
            mine,
            and_(
                mine.workspace_id == ContactPoint.workspace_id,
                mine.kind == ContactPoint.kind,
                mine.value == ContactPoint.value,
            ),
        )
        .where(
            mine.contact_id == contact_id,
            mine.valid.is_(True),
            ContactPoint.workspace_id == workspace_id,
            ContactPoint.valid.is_(True),
            ContactPoint.contact_id != contact_id,
            Contact.workspace_id == workspace_id,
            Contact.merged_into_id.is_(None),
        )
        .order_by(Contact.id)
        .limit(limit)
    )
    return list(rows.all())


async def merged_into_this(
    session: AsyncSession, workspace_id: int, contact_id: int
) -> list[Contact]:
    rows = await session.scalars(
        select(Contact)
        .where(Contact.workspace_id == workspace_id, Contact.merged_into_id == contact_id)
        .order_by(Contact.id)
    )
    return list(rows.all())


async def tag_names(session: AsyncSession, workspace_id: int) -> list[str]:
    rows = await session.scalars(
        select(Tag.name).where(Tag.workspace_id == workspace_id).order_by(Tag.name)
    )
    return list(rows.all())


# ---- admin imports (contacts/imports.py) -------------------------------------------------


async def update_import(session: AsyncSession, import_id: int, values: dict[str, Any]) -> None:
    await session.execute(update(ContactImport).where(ContactImport.id == import_id).values(values))


async def contact_import(
    session: AsyncSession, workspace_id: int, import_id: int
) -> ContactImport | None:
    return await session.scalar(
        select(ContactImport).where(
            ContactImport.id == import_id, ContactImport.workspace_id == workspace_id
        )
    )


async def recent_imports(
    session: AsyncSession, workspace_id: int, limit: int
) -> list[ContactImport]:
    rows = await session.scalars(
        select(ContactImport)
        .where(ContactImport.workspace_id == workspace_id)
        .order_by(ContactImport.created_at.desc(), ContactImport.id.desc())
        .limit(limit)
    )
    return list(rows.all())


# ---- the import's batched writer (contacts/csv_batch.py) ---------------------------------

_IN = 500  # values per IN (...) list


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[start : start + _IN] for start in range(0, len(values), _IN)]


async def identities_by_keys(
    session: AsyncSession, keys: set[tuple[int, str]]
) -> list[tuple[tuple[int, str], int]]:
    """((channel account, external id), contact id) of the identities that exist."""
    by_account: dict[int, list[str]] = {}
    for account_id, external_id in keys:
        by_account.setdefault(account_id, []).append(external_id)
    found: list[tuple[tuple[int, str], int]] = []
    for account_id, external_ids in by_account.items():
        for chunk in _chunks(sorted(external_ids)):
            rows = await session.execute(
                select(ContactIdentity.external_id, ContactIdentity.contact_id).where(
                    ContactIdentity.channel_account_id == account_id,
                    ContactIdentity.external_id.in_(chunk),
                )
            )
            found.extend(((account_id, ext), cid) for ext, cid in rows.all())
    return found


async def identities_on(
    session: AsyncSession, account_ids: set[int], external_ids: set[str]
) -> list[Row[int, str, int]]:
    """(account, external id, contact id) on these accounts, oldest identity first."""
    if not account_ids or not external_ids:
        return []
    found: list[Row[int, str, int]] = []
    for chunk in _chunks(sorted(external_ids)):
        rows = await session.execute(
            select(
                ContactIdentity.channel_account_id,
                ContactIdentity.external_id,
                ContactIdentity.contact_id,
            )
            .where(
                ContactIdentity.channel_account_id.in_(sorted(account_ids)),
                ContactIdentity.external_id.in_(chunk),
            )
            .order_by(ContactIdentity.id)
        )
        found.extend(rows.all())
    return found


async def contacts_by_points(
    session: AsyncSession, workspace_id: int, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """(kind, value) -> the oldest live contact holding it as a valid point."""
    found: dict[tuple[str, str], int] = {}
    for kind in ("phone", "email"):
        values = sorted(value for k, value in keys if k == kind)
        for chunk in _chunks(values):
            rows = await session.execute(
                select(ContactPoint.value, func.min(Contact.id))
                .join(Contact, Contact.id == ContactPoint.contact_id)
                .where(
                    ContactPoint.workspace_id == workspace_id,
                    ContactPoint.kind == kind,
                    ContactPoint.value.in_(chunk),
                    ContactPoint.valid.is_(True),
                    Contact.merged_into_id.is_(None),
                )
                .group_by(ContactPoint.value)
            )
            found.update({(kind, value): contact_id for value, contact_id in rows.all()})
    return found


async def contacts_by_ids(
    session: AsyncSession, workspace_id: int, contact_ids: set[int]
) -> list[Contact]:
    found: list[Contact] = []
    for chunk in _chunks(sorted(contact_ids)):
        rows = await session.scalars(
            select(Contact).where(Contact.workspace_id == workspace_id, Contact.id.in_(chunk))
        )
        found.extend(rows.all())
    return found


async def point_keys_of_many(
    session: AsyncSession, contact_ids: list[int]
) -> list[Row[int, str, str]]:
    found: list[Row[int, str, str]] = []
    for chunk in _chunks(contact_ids):
        rows = await session.execute(
            select(ContactPoint.contact_id, ContactPoint.kind, ContactPoint.value)
            .where(ContactPoint.contact_id.in_(chunk))
            .order_by(ContactPoint.id)
        )
        found.extend(rows.all())
    return found


async def tag_ids_of_many(session: AsyncSession, contact_ids: list[int]) -> list[Row[int, int]]:
    found: list[Row[int, int]] = []
    for chunk in _chunks(contact_ids):
        rows = await session.execute(
            select(ContactTag.contact_id, ContactTag.tag_id).where(ContactTag.contact_id.in_(chunk))
        )
        found.extend(rows.all())
    return found


async def field_value_rows(
    session: AsyncSession, contact_ids: list[int]
) -> list[ContactFieldValue]:
    found: list[ContactFieldValue] = []
    for chunk in _chunks(contact_ids):
        rows = await session.scalars(
            select(ContactFieldValue).where(ContactFieldValue.contact_id.in_(chunk))
        )
        found.extend(rows.all())
    return found


async def consent_rows(
    session: AsyncSession, contact_ids: list[int], purpose: str
) -> list[ContactConsent]:
    found: list[ContactConsent] = []
    for chunk in _chunks(contact_ids):
        rows = await session.scalars(
            select(ContactConsent).where(
                ContactConsent.contact_id.in_(chunk), ContactConsent.purpose == purpose
            )
        )
        found.extend(rows.all())
    return found


async def insert_rows(session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """One Core executemany (no ORM bookkeeping per row); every row names every column."""
    if rows:
        await session.execute(insert(cast(Table, model.__table__)), rows)


async def insert_contacts(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """New contacts in one executemany; their ids, in the order of `rows`."""
    if not rows:
        return []
    if session.get_bind().dialect.name != "sqlite":
        # PostgreSQL: one INSERT ... RETURNING, ids matched to rows by SQLAlchemy's sentinel.
        table = cast(Table, Contact.__table__)
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        result = await session.execute(statement, rows)
        return list(result.scalars().all())
    # SQLite cannot order RETURNING rows, so SQLAlchemy would insert them one at a time.
    # This transaction holds SQLite's only write lock (BEGIN IMMEDIATE), and an executemany
    # gives rowids max+1, max+2, ... in parameter order: the new ids are those above the max.
    before = int(await session.scalar(select(func.coalesce(func.max(Contact.id), 0))) or 0)
    await insert_rows(session, Contact, rows)
    ids = list(
        (
            await session.scalars(
                select(Contact.id).where(Contact.id > before).order_by(Contact.id)
            )
        ).all()
    )
    if len(ids) != len(rows):  # pragma: no cover - only if the lock assumption broke
        raise RuntimeError("contact ids of the import batch could not be told apart")
    return ids


_IDENTITIES = cast(Table, ContactIdentity.__table__)
_CONTACTS = cast(Table, Contact.__table__)


async def advance_clocks(
    session: AsyncSession, inbound_at: dict[int, datetime], interaction_at: dict[int, datetime]
) -> None:
    """Move identities' last inbound and contacts' last interaction forward (Core, one
    executemany each); a clock already later in the database is left as it is."""
    for table, column, values in (
        (_IDENTITIES, _IDENTITIES.c.last_inbound_at, inbound_at),
        (_CONTACTS, _CONTACTS.c.last_interaction_at, interaction_at),
    ):
        if not values:
            continue
        statement = _advance(table, column)
        await session.execute(statement, [{"row_id": k, "at": v} for k, v in values.items()])


@cache
def _advance(table: Any, column: Any) -> Any:
    """UPDATE one clock forward by id (built once per clock)."""
    at = bindparam("at", type_=column.type)
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"), or_(column.is_(None), column < at))
        .values({column.name: at})
    )

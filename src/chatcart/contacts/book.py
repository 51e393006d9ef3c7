"""The contact book: phones and emails, tags, custom fields, consent, the timeline and the
search text. Reached through contacts.service."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.contacts import repository
from chatcart.contacts.errors import ContactNotFound, FieldValueInvalid, UnknownField
from chatcart.contacts.schemas import FieldDefinitionIn, FieldType
from chatcart.kit.clock import utcnow
from chatcart.kit.contact_points import FoundPoint
from chatcart.kit.textnorm import fold, nfc
from chatcart.models import (
    Contact,
    ContactConsent,
    ContactEvent,
    ContactFieldValue,
    ContactPoint,
    ContactTag,
    FieldDefinition,
    Tag,
)

_TRUE = {"1", "true", "yes", "y", "có", "co", "x", "oo"}
_FALSE = {"0", "false", "no", "n", "không", "khong", "hindi", ""}


async def contact_row(session: AsyncSession, workspace_id: int, contact_id: int) -> Contact:
    row = await repository.contact(session, workspace_id, contact_id)
    if row is None:
        raise ContactNotFound(f"no contact {contact_id}")
    return row


def event(
    session: AsyncSession,
    contact: Contact,
    kind: str,
    data: dict[str, Any] | None = None,
    actor: str | None = None,
    at: datetime | None = None,
) -> None:
    session.add(
        ContactEvent(
            workspace_id=contact.workspace_id,
            contact_id=contact.id,
            kind=kind,
            data=data or {},
            actor=actor,
            at=at or utcnow(),
        )
    )


async def refresh_search_text(session: AsyncSession, contact: Contact) -> None:
    parts = [contact.name or "", *await repository.point_values(session, contact.id)]
    # Phones also as typed locally (0912345678), since that is what sellers search for.
    parts += ["0" + p[3:] for p in parts if p.startswith("+84") or p.startswith("+63")]
    contact.search_text = fold(" ".join(p for p in parts if p))


# ---- phones and emails ------------------------------------------------------------------


async def record_points(
    session: AsyncSession,
    contact: Contact,
    points: Iterable[FoundPoint],
    *,
    source: str,
    at: datetime,
    channel_account_id: int | None = None,
    message_id: int | None = None,
) -> list[str]:
    """Keep each phone/email once per contact, moving last_seen_at; returns new values."""
    added: list[str] = []
    for point in points:
        row = await repository.point(session, contact.id, point.kind, point.value)
        if row is not None:
            row.last_seen_at = max(row.last_seen_at, at)
            continue
        session.add(
            ContactPoint(
                workspace_id=contact.workspace_id,
                contact_id=contact.id,
                kind=point.kind,
                value=point.value,
                raw=point.raw[:320],
                valid=point.valid,
                source=source,
                channel_account_id=channel_account_id,
                message_id=message_id,
                first_seen_at=at,
                last_seen_at=at,
            )
        )
        added.append(point.value)
    if added:
        await session.flush()
        event(session, contact, "points_added", {"values": added, "source": source}, at=at)
        await refresh_search_text(session, contact)
    return added


# ---- tags --------------------------------------------------------------------------------


async def ensure_tags(session: AsyncSession, workspace_id: int, names: Iterable[str]) -> list[Tag]:
    tags: list[Tag] = []
    for name in names:
        clean = " ".join(nfc(name).split())[:100]
        if not clean:
            continue
        key = fold(clean)
        tag = await repository.tag_by_key(session, workspace_id, key)
        if tag is None:
            tag = Tag(workspace_id=workspace_id, name=clean, key=key)
            session.add(tag)
            await session.flush()
        if tag not in tags:
            tags.append(tag)
    return tags


async def tag_contacts(
    session: AsyncSession,
    workspace_id: int,
    contact_ids: Iterable[int],
    names: Iterable[str],
    *,
    actor: str | None = None,
) -> int:
    tags = await ensure_tags(session, workspace_id, names)
    changed = 0
    for contact_id in contact_ids:
        contact = await contact_row(session, workspace_id, contact_id)
        have = await repository.tag_ids_of(session, contact.id)
        new = [t for t in tags if t.id not in have]
        for tag in new:
            session.add(ContactTag(contact_id=contact.id, tag_id=tag.id))
        if new:
            event(session, contact, "tagged", {"tags": [t.name for t in new]}, actor)
            changed += 1
    await session.flush()
    return changed


async def untag_contacts(
    session: AsyncSession,
    workspace_id: int,
    contact_ids: Iterable[int],
    names: Iterable[str],
    *,
    actor: str | None = None,
) -> int:
    keys = [fold(n) for n in names if n.strip()]
    tags = await repository.tags_by_keys(session, workspace_id, keys)
    if not tags:
        return 0
    changed = 0
    for contact_id in contact_ids:
        contact = await contact_row(session, workspace_id, contact_id)
        if await repository.remove_tags(session, contact.id, [t.id for t in tags]):
            event(session, contact, "untagged", {"tags": [t.name for t in tags]}, actor)
            changed += 1
    return changed


async def tags_of(session: AsyncSession, contact_id: int) -> list[str]:
    return await repository.tag_names_of(session, contact_id)


# ---- custom fields -----------------------------------------------------------------------


async def define_field(
    session: AsyncSession, workspace_id: int, data: FieldDefinitionIn
) -> FieldDefinition:
    row = await repository.field_definition(session, workspace_id, data.key)
    if row is None:
        row = FieldDefinition(workspace_id=workspace_id, key=data.key)
        session.add(row)
    row.label = data.label or data.key
    row.type = data.type.value
    row.choices = data.choices
    await session.flush()
    return row


async def field_definitions(session: AsyncSession, workspace_id: int) -> list[FieldDefinition]:
    return await repository.field_definitions(session, workspace_id)


def coerce(definition: FieldDefinition, raw: object) -> dict[str, Any]:
    """A value for a field of this type, as the column it is stored in; a value that does
    not fit raises FieldValueInvalid naming the field."""
    key, kind = definition.key, FieldType(definition.type)
    text = nfc(str(raw)).strip() if raw is not None else ""
    try:
        if kind is FieldType.number:
            number = float(raw) if isinstance(raw, int | float) else float(text.replace(",", "."))
            return {"value_number": number}
        if kind is FieldType.date:
            value = raw if isinstance(raw, date) else date.fromisoformat(text[:10])
            return {"value_date": value}
        if kind is FieldType.boolean:
            if isinstance(raw, bool):
                return {"value_bool": raw}
            if fold(text) in _TRUE:
                return {"value_bool": True}
            if fold(text) in _FALSE:
                return {"value_bool": False}
            raise ValueError(text)
        if kind is FieldType.choice:
            choices = definition.choices or []
            match = next((c for c in choices if fold(c) == fold(text)), None)
            if match is None:
                raise ValueError(f"not one of {choices}")
            return {"value_text": match}
    except (TypeError, ValueError) as exc:
        raise FieldValueInvalid(
            f"{key}: {text!r} is not a valid {kind.value}", field=key, value=text
        ) from exc
    return {"value_text": text[:2000]}


async def set_fields(
    session: AsyncSession,
    workspace_id: int,
    contact_id: int,
    values: dict[str, object],
    *,
    actor: str | None = None,
) -> None:
    contact = await contact_row(session, workspace_id, contact_id)
    definitions = {d.key: d for d in await field_definitions(session, workspace_id)}
    for key, raw in values.items():
        definition = definitions.get(key)
        if definition is None:
            raise UnknownField(f"unknown field {key!r}", field=key)
        row = await session.get(ContactFieldValue, (contact.id, definition.id))
        if raw is None or raw == "":
            if row is not None:
                await session.delete(row)
            continue
        column = coerce(definition, raw)
        if row is None:
            row = ContactFieldValue(contact_id=contact.id, field_id=definition.id)
            session.add(row)
        row.value_text = row.value_number = row.value_date = row.value_bool = None
        for name, value in column.items():
            setattr(row, name, value)
    event(session, contact, "fields_set", {"fields": sorted(values)}, actor)
    await session.flush()


async def fields_of(session: AsyncSession, contact_id: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for definition, value in await repository.field_values_of(session, contact_id):
        column = {
            "number": value.value_number,
            "date": value.value_date,
            "boolean": value.value_bool,
        }.get(definition.type, value.value_text)
        out[definition.key] = column
    return out


async def facts_of_many(
    session: AsyncSession, contact_ids: list[int]
) -> dict[int, tuple[dict[str, Any], list[str]]]:
    """`fields_of` and `tags_of` for many contacts with one query each (a claimed inbound
    batch); a contact with neither is missing from the answer."""
    if not contact_ids:
        return {}
    fields: dict[int, dict[str, Any]] = {}
    tags: dict[int, list[str]] = {}
    for cid, key, kind, text, number, day, flag in await repository.field_values_of_many(
        session, contact_ids
    ):
        value = {"number": number, "date": day, "boolean": flag}.get(kind, text)
        fields.setdefault(cid, {})[key] = value
    for cid, name in await repository.tag_names_of_many(session, contact_ids):
        tags.setdefault(cid, []).append(name)
    return {cid: (fields.get(cid, {}), tags.get(cid, [])) for cid in fields.keys() | tags.keys()}


# ---- consent -----------------------------------------------------------------------------


async def set_consent(
    session: AsyncSession,
    workspace_id: int,
    contact_id: int,
    purpose: str,
    status: str,
    *,
    source: str,
    at: datetime | None = None,
) -> None:
    contact = await contact_row(session, workspace_id, contact_id)
    at = at or utcnow()
    row = await session.get(ContactConsent, (contact.id, purpose))
    if row is None:
        row = ContactConsent(contact_id=contact.id, purpose=purpose)
        session.add(row)
    row.status, row.source, row.updated_at = status, source, at
    event(session, contact, "consent", {"purpose": purpose, "status": status, "source": source})
    await session.flush()

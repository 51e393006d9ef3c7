"""Everything the contact page shows about one contact, read in a handful of queries:
profile, identities with their window state now, phones and emails with where and when they
were seen, tags, custom fields, consent, the timeline, suggested duplicates and the contacts
merged into it. Reached through contacts.service."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.contacts import repository
from chatcart.contacts.book import contact_row
from chatcart.contacts.schemas import (
    ConsentView,
    ContactBrief,
    ContactDetail,
    EventView,
    FieldType,
    FieldView,
    IdentityView,
    PointView,
)
from chatcart.kit.clock import as_utc
from chatcart.models import Contact, ContactFieldValue, ContactIdentity
from chatcart.policy import service as policy
from chatcart.policy.errors import UnknownChannel

TIMELINE = 100  # newest events on the page
DUPLICATES = 20


def window_hours(channel: str) -> int | None:
    """The channel's standard messaging window (None: no window, or no rules for it)."""
    try:
        window = policy.rules_for(channel).window
    except UnknownChannel:
        return None
    return None if window is None else window.hours


def _identity(row: ContactIdentity, channel: str, account: str, now: datetime) -> IdentityView:
    hours = window_hours(channel)
    closes = None
    if hours is not None and row.last_inbound_at is not None:
        closes = as_utc(row.last_inbound_at) + timedelta(hours=hours)
    if not row.reachable:
        messageable = False
    elif hours is None:
        messageable = True
    else:
        # Inclusive, like policy.decide and the segment compiler.
        messageable = closes is not None and now <= closes
    return IdentityView(
        id=row.id,
        channel_account_id=row.channel_account_id,
        channel=channel,
        account_name=account,
        external_id=row.external_id,
        last_inbound_at=row.last_inbound_at,
        reachable=row.reachable,
        unreachable_reason=row.unreachable_reason,
        messageable_now=messageable,
        window_closes_at=closes,
        created_at=row.created_at,
    )


def _field_value(kind: str, row: ContactFieldValue | None) -> tuple[object, str]:
    if row is None:
        return None, ""
    if kind == FieldType.number:
        number = row.value_number
        if number is None:
            return None, ""
        shown = str(int(number)) if number == int(number) else str(number)
        return number, shown
    if kind == FieldType.date:
        day: date | None = row.value_date
        return day, day.isoformat() if day else ""
    if kind == FieldType.boolean:
        flag = row.value_bool
        return flag, "" if flag is None else ("true" if flag else "false")
    return row.value_text, row.value_text or ""


def _brief(row: Contact, reason: str | None = None, value: str | None = None) -> ContactBrief:
    return ContactBrief(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        last_interaction_at=row.last_interaction_at,
        reason=reason,
        value=value,
    )


async def detail(
    session: AsyncSession, workspace_id: int, contact_id: int, now: datetime
) -> ContactDetail:
    contact = await contact_row(session, workspace_id, contact_id)
    now = as_utc(now)
    identities = [
        _identity(row, kind, name, now)
        for row, kind, name in await repository.identities_with_accounts(session, contact.id)
    ]
    points = [
        PointView(
            id=point.id,
            kind=point.kind,
            value=point.value,
            raw=point.raw,
            valid=point.valid,
            source=point.source,
            channel=channel,
            message_id=point.message_id,
            first_seen_at=point.first_seen_at,
            last_seen_at=point.last_seen_at,
        )
        for point, channel in await repository.points_with_channel(session, contact.id)
    ]
    rows = await repository.field_values_of(session, contact.id)
    values = {value.field_id: value for _, value in rows}
    fields: list[FieldView] = []
    for definition in await repository.field_definitions(session, workspace_id):
        value, text = _field_value(definition.type, values.get(definition.id))
        fields.append(
            FieldView(
                key=definition.key,
                label=definition.label or definition.key,
                type=FieldType(definition.type),
                choices=definition.choices,
                value=value,
                text=text,
            )
        )
    duplicates: dict[int, ContactBrief] = {}
    for other, kind, value in await repository.duplicates_of(
        session, workspace_id, contact.id, DUPLICATES
    ):
        duplicates.setdefault(other.id, _brief(other, kind, value))
    merged = await repository.merged_into_this(session, workspace_id, contact.id)
    return ContactDetail(
        id=contact.id,
        name=contact.name,
        first_name=contact.first_name,
        last_name=contact.last_name,
        avatar_url=contact.avatar_url,
        locale=contact.locale,
        timezone=contact.timezone,
        source=contact.source or {},
        created_at=contact.created_at,
        last_interaction_at=contact.last_interaction_at,
        order_count=contact.order_count,
        total_spent=contact.total_spent,
        last_order_at=contact.last_order_at,
        merged_into_id=contact.merged_into_id,
        identities=identities,
        points=points,
        tags=await repository.tag_names_of(session, contact.id),
        fields=fields,
        consents=[
            ConsentView(
                purpose=row.purpose, status=row.status, source=row.source, updated_at=row.updated_at
            )
            for row in await repository.consents_of(session, contact.id)
        ],
        events=[
            EventView(kind=row.kind, data=row.data or {}, actor=row.actor, at=row.at)
            for row in await repository.events_of(session, contact.id, TIMELINE)
        ],
        duplicates=list(duplicates.values()),
        merged_from=[_brief(row) for row in merged],
    )

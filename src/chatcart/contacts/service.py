"""The contacts room's only door."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.contacts import repository
from chatcart.contacts.schemas import ContactOut, IdentityOut, ResolvedContact
from chatcart.kit.clock import as_utc
from chatcart.kit.errors import NotFound
from chatcart.kit.textnorm import nfc
from chatcart.models import Contact, ContactIdentity


async def resolve(
    session: AsyncSession,
    *,
    workspace_id: int,
    channel_account_id: int,
    external_id: str,
    profile: dict[str, Any],
    source: dict[str, Any] | None,
    seen_at: datetime,
) -> ResolvedContact:
    """Find the contact behind a channel identity, creating both on first contact, and move
    the identity's window clock (last inbound) forward."""
    seen_at = as_utc(seen_at)
    identity = await repository.identity(session, channel_account_id, external_id)
    created = False
    if identity is None:
        contact = Contact(
            workspace_id=workspace_id,
            name=nfc(str(profile.get("name") or "")),
            locale=profile.get("locale"),
            source=source or {},
            last_interaction_at=seen_at,
        )
        identity = ContactIdentity(
            workspace_id=workspace_id,
            channel_account_id=channel_account_id,
            external_id=external_id,
            last_inbound_at=seen_at,
        )
        try:
            async with session.begin_nested():
                session.add(contact)
                await session.flush()
                identity.contact_id = contact.id
                session.add(identity)
            created = True
        except IntegrityError:  # another worker created it first
            found = await repository.identity(session, channel_account_id, external_id)
            if found is None:
                raise
            identity = found
    contact_row = await repository.contact(session, workspace_id, identity.contact_id)
    if contact_row is None:
        raise NotFound(f"contact {identity.contact_id} vanished")
    if not created:
        _advance(identity, contact_row, seen_at)
        if not contact_row.locale and profile.get("locale"):
            contact_row.locale = profile["locale"]
    return ResolvedContact(
        contact_id=contact_row.id,
        identity_id=identity.id,
        name=contact_row.name,
        locale=contact_row.locale,
        created=created,
    )


def _advance(identity: ContactIdentity, contact: Contact, seen_at: datetime) -> None:
    # Redeliveries can arrive out of order: the clocks only move forward.
    if identity.last_inbound_at is None or seen_at > identity.last_inbound_at:
        identity.last_inbound_at = seen_at
    if contact.last_interaction_at is None or seen_at > contact.last_interaction_at:
        contact.last_interaction_at = seen_at


async def get(session: AsyncSession, workspace_id: int, contact_id: int) -> ContactOut:
    row = await repository.contact(session, workspace_id, contact_id)
    if row is None:
        raise NotFound(f"no contact {contact_id}")
    return ContactOut.model_validate(row)


async def identity(session: AsyncSession, identity_id: int) -> IdentityOut:
    row = await repository.identity_by_id(session, identity_id)
    if row is None:
        raise NotFound(f"no identity {identity_id}")
    return IdentityOut.model_validate(row)


async def find_identity(
    session: AsyncSession, channel_account_id: int, external_id: str
) -> IdentityOut | None:
    row = await repository.identity(session, channel_account_id, external_id)
    return IdentityOut.model_validate(row) if row else None

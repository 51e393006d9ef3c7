"""The people of one claimed inbound batch, read with one query so that resolving each
event's sender is a dictionary look-up (the inbound hot path)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.contacts import repository
from chatcart.models import Contact, ContactIdentity

Key = tuple[int, str]  # (channel account, the platform's id of the person)


@dataclass
class KnownPeople:
    """Identities with their contacts for a batch's senders. A sender missing here is new:
    `resolve` creates them (keys from kit/ids) without a query and adds them here."""

    found: dict[Key, tuple[ContactIdentity, Contact]] = field(default_factory=dict)
    asked: set[Key] = field(default_factory=set)


async def load(session: AsyncSession, senders: set[Key]) -> KnownPeople:
    known = KnownPeople(asked=set(senders))
    for identity, contact in await repository.identities_with_contacts(session, senders):
        known.found[(identity.channel_account_id, identity.external_id)] = (identity, contact)
    return known

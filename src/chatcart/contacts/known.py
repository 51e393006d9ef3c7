"""The people of one claimed inbound batch, read with one query so that resolving each
event's sender is a dictionary look-up (the inbound hot path); their window clocks moved
by the batch are written at its end with two executemany statements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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
    read: set[Key] = field(default_factory=set)  # found in the database (not new)
    # Window clocks moved forward by the batch, for the people read: identity -> last
    # inbound, contact -> last interaction (written by `write_clocks`).
    inbound_at: dict[int, datetime] = field(default_factory=dict)
    interaction_at: dict[int, datetime] = field(default_factory=dict)


async def load(session: AsyncSession, senders: set[Key]) -> KnownPeople:
    known = KnownPeople(asked=set(senders))
    for identity, contact in await repository.identities_with_contacts(session, senders):
        key = (identity.channel_account_id, identity.external_id)
        known.found[key] = (identity, contact)
        known.read.add(key)
    return known

"""The contacts room's only door."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from chatcart.channels.base import OptinRef
from chatcart.contacts import (
    book,
    csv_export,
    csv_format,
    csv_import,
    imports,
    profile,
    repository,
)
from chatcart.contacts import known as known_people
from chatcart.contacts import merge as merging
from chatcart.contacts.known import KnownPeople as KnownPeople
from chatcart.contacts.schemas import (
    ContactOut,
    FieldDefinitionOut,
    IdentityOut,
    ResolvedContact,
)
from chatcart.kit.clock import as_utc, utcnow
from chatcart.kit.contact_points import FoundPoint
from chatcart.kit.crypto import SecretBox
from chatcart.kit.errors import NotFound
from chatcart.kit.ids import blocks_of
from chatcart.kit.textnorm import fold, nfc
from chatcart.models import Contact, ContactIdentity, OptinToken

load_known = known_people.load
NEW_PERSON_ROWS = (Contact, ContactIdentity)  # the rows a new person adds


async def resolve(
    session: AsyncSession,
    *,
    workspace_id: int,
    channel_account_id: int,
    external_id: str,
    profile: dict[str, Any],
    source: dict[str, Any] | None,
    seen_at: datetime,
    opens_window: bool = True,
    known: KnownPeople | None = None,
) -> ResolvedContact:
    """Find the contact behind a channel identity, creating both on first contact, and move
    the identity's window clock (last inbound) forward when this interaction opens it.

    With `known` (a batch's senders, read at once) and kit/ids blocks open, nothing is
    read and a new person is only added to the session, written by the batch's flush."""
    seen_at = as_utc(seen_at)
    key = (channel_account_id, external_id)
    blocks = blocks_of(session)
    if known is not None and blocks is not None and key in known.asked:
        found_pair = known.found.get(key)
        if found_pair is None:
            return await _create_held(
                session, known, key, workspace_id, profile, source, seen_at, opens_window
            )
    else:
        found_pair = await repository.identity_with_contact(
            session, channel_account_id, external_id
        )
    identity, contact_row = found_pair if found_pair is not None else (None, None)
    created = False
    if identity is None:
        contact = _new_contact(workspace_id, profile, source, seen_at, opens_window)
        identity = _new_identity(workspace_id, key, profile, seen_at, opens_window)
        try:
            async with session.begin_nested():
                session.add(contact)
                await session.flush()
                identity.contact_id = contact.id
                session.add(identity)
            created = True
            contact_row = contact
        except IntegrityError:  # another worker created it first
            found = await repository.identity(session, channel_account_id, external_id)
            if found is None:
                raise
            identity = found
    if contact_row is None or contact_row.workspace_id != workspace_id:
        contact_row = await repository.contact(session, workspace_id, identity.contact_id)
    if contact_row is None:
        raise NotFound(f"contact {identity.contact_id} vanished")
    if not created:
        if known is not None and key in known.read:
            _advance_held(known, identity, contact_row, seen_at, opens_window)
        else:
            _advance(identity, contact_row, seen_at, opens_window)
        if profile and not contact_row.name:
            _fill_from_profile(contact_row, profile)
            await book.refresh_search_text(session, contact_row)
        elif profile:
            _fill_from_profile(contact_row, profile)
    return _resolved(contact_row, identity, created=created)


async def _create_held(
    session: AsyncSession,
    known: KnownPeople,
    key: tuple[int, str],
    workspace_id: int,
    profile: dict[str, Any],
    source: dict[str, Any] | None,
    seen_at: datetime,
    opens_window: bool,
) -> ResolvedContact:
    """A new person inside a batch: keys taken ahead, rows added for the batch's flush (a
    concurrent creator makes that flush fail, and the batch is redone event by event)."""
    blocks = blocks_of(session)
    assert blocks is not None
    contact = _new_contact(workspace_id, profile, source, seen_at, opens_window)
    contact.id = await blocks.take(Contact)
    identity = _new_identity(workspace_id, key, profile, seen_at, opens_window)
    identity.id = await blocks.take(ContactIdentity)
    identity.contact_id = contact.id
    session.add_all([contact, identity])
    known.found[key] = (identity, contact)
    return _resolved(contact, identity, created=True)


def _new_contact(
    workspace_id: int,
    profile: dict[str, Any],
    source: dict[str, Any] | None,
    seen_at: datetime,
    opens_window: bool,
) -> Contact:
    contact = Contact(
        workspace_id=workspace_id,
        name="",  # set here, not at INSERT: a batch reads it before its flush
        source=source or {},
        last_interaction_at=seen_at if opens_window else None,
    )
    _fill_from_profile(contact, profile)
    contact.search_text = fold(contact.name or "")
    return contact


def _new_identity(
    workspace_id: int,
    key: tuple[int, str],
    profile: dict[str, Any],
    seen_at: datetime,
    opens_window: bool,
) -> ContactIdentity:
    return ContactIdentity(
        workspace_id=workspace_id,
        channel_account_id=key[0],
        external_id=key[1],
        # First seen through an opt-in or an echo: no window is open yet.
        last_inbound_at=seen_at if opens_window else None,
        profile=profile,
        profile_fetched_at=utcnow() if profile else None,
    )


def _resolved(contact: Contact, identity: ContactIdentity, *, created: bool) -> ResolvedContact:
    return ResolvedContact(
        contact_id=contact.id,
        identity_id=identity.id,
        name=contact.name,
        first_name=contact.first_name,
        locale=contact.locale,
        created=created,
    )


def _fill_from_profile(contact: Contact, profile: dict[str, Any]) -> None:
    """What the platform says fills what we do not know yet; it never overwrites a name
    the seller or the person gave."""
    first, last = profile.get("first_name"), profile.get("last_name")
    full = profile.get("name") or " ".join(p for p in (first, last) if p)
    if full and not contact.name:
        contact.name = nfc(str(full))[:200]
    if first and not contact.first_name:
        contact.first_name = nfc(str(first))[:100]
    if last and not contact.last_name:
        contact.last_name = nfc(str(last))[:100]
    if profile.get("profile_pic"):
        contact.avatar_url = str(profile["profile_pic"])
    if profile.get("locale") and not contact.locale:
        contact.locale = str(profile["locale"])[:16]


def _advance(
    identity: ContactIdentity, contact: Contact, seen_at: datetime, opens_window: bool = True
) -> None:
    # Redeliveries can arrive out of order: the clocks only move forward.
    if not opens_window:
        return
    if not identity.reachable:  # they wrote again: they can be reached again
        identity.reachable, identity.unreachable_reason = True, None
    if identity.last_inbound_at is None or seen_at > identity.last_inbound_at:
        identity.last_inbound_at = seen_at
    if contact.last_interaction_at is None or seen_at > contact.last_interaction_at:
        contact.last_interaction_at = seen_at


def _advance_held(
    known: KnownPeople,
    identity: ContactIdentity,
    contact: Contact,
    seen_at: datetime,
    opens_window: bool,
) -> None:
    """`_advance` inside a batch: the clocks of people read from the database are kept for
    `write_clocks` (and set on the objects without marking them changed, so the batch's
    flush has nothing to do for them)."""
    if not opens_window:
        return
    if not identity.reachable:  # rare: through the unit of work
        identity.reachable, identity.unreachable_reason = True, None
    if identity.last_inbound_at is None or seen_at > identity.last_inbound_at:
        set_committed_value(identity, "last_inbound_at", seen_at)
        known.inbound_at[identity.id] = seen_at
    if contact.last_interaction_at is None or seen_at > contact.last_interaction_at:
        set_committed_value(contact, "last_interaction_at", seen_at)
        known.interaction_at[contact.id] = seen_at


async def write_clocks(session: AsyncSession, known: KnownPeople) -> None:
    """Write the window clocks a batch moved (one executemany per table; a clock already
    further on in the database stays)."""
    await repository.advance_clocks(session, known.inbound_at, known.interaction_at)
    known.inbound_at, known.interaction_at = {}, {}


def identities_in(known: KnownPeople, identity_ids: set[int]) -> dict[int, IdentityOut]:
    """Identities of a batch's people as the batch left them (window clock moved,
    reachable again), without reading them again."""
    return {
        identity.id: IdentityOut.model_validate(identity)
        for identity, _ in known.found.values()
        if identity.id in identity_ids
    }


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


async def identities(session: AsyncSession, identity_ids: list[int]) -> dict[int, IdentityOut]:
    """Many identities by id, in one query (the dispatcher reads a batch at once)."""
    rows = await repository.identities_by_ids(session, identity_ids)
    return {row.id: IdentityOut.model_validate(row) for row in rows}


async def find_identity(
    session: AsyncSession, channel_account_id: int, external_id: str
) -> IdentityOut | None:
    row = await repository.identity(session, channel_account_id, external_id)
    return IdentityOut.model_validate(row) if row else None


async def known_senders(
    session: AsyncSession, senders: set[tuple[int, str]]
) -> set[tuple[int, str]]:
    """Which of these (channel account, platform id) senders we already know (their
    profile is fetched), in one query for a whole batch."""
    return await repository.known_senders(session, senders)


async def mark_unreachable(session: AsyncSession, identity_id: int, reason: str) -> None:
    """The platform says this person cannot be messaged (blocked, deactivated): stop
    trying until they write again."""
    row = await repository.identity_by_id(session, identity_id)
    if row is not None:
        row.reachable = False
        row.unreachable_reason = reason


async def record_optin(
    session: AsyncSession,
    secrets: SecretBox,
    *,
    workspace_id: int,
    channel_account_id: int,
    identity_id: int,
    optin: OptinRef,
    at: datetime,
) -> None:
    """Keep (or refresh, or stop) a marketing-messages opt-in token of one person."""
    if optin.type != "notification_messages":
        return  # plugin / legacy one-time opt-ins carry nothing we can send with
    topic = optin.title or ""
    row = await repository.optin(session, identity_id, topic)
    stopped = (optin.status or "").upper().startswith("STOP")
    if row is None:
        if not optin.token:
            return
        row = OptinToken(
            workspace_id=workspace_id,
            channel_account_id=channel_account_id,
            identity_id=identity_id,
            topic=topic,
            token_encrypted=secrets.encrypt(optin.token),
            updated_at=at,
        )
        session.add(row)
    if optin.token:
        row.token_encrypted = secrets.encrypt(optin.token)
    row.frequency = optin.frequency or row.frequency
    row.timezone = optin.timezone or row.timezone
    row.payload = optin.payload or row.payload
    row.expires_at = optin.expires_at or row.expires_at
    row.status = "stopped" if stopped else "active"
    row.updated_at = at


# ---- the contact book (contacts/book.py, contacts/merge.py) ------------------------------


async def add_points(
    session: AsyncSession,
    workspace_id: int,
    contact_id: int,
    points: list[FoundPoint],
    *,
    source: str,
    at: datetime,
    channel_account_id: int | None = None,
    message_id: int | None = None,
) -> list[str]:
    """Keep phones / emails (picked out of a message, imported, typed by an agent)."""
    contact = await book.contact_row(session, workspace_id, contact_id)
    return await book.record_points(
        session,
        contact,
        points,
        source=source,
        at=at,
        channel_account_id=channel_account_id,
        message_id=message_id,
    )


tag = book.tag_contacts
untag = book.untag_contacts
tags_of = book.tags_of
define_field = book.define_field
set_fields = book.set_fields
fields_of = book.fields_of
facts_of_many = book.facts_of_many
set_consent = book.set_consent
merge = merging.merge
merge_suggestions = merging.suggestions
# detail(session, workspace_id, contact_id, now) -> ContactDetail: the contact page.
detail = profile.detail


async def tag_names(session: AsyncSession, workspace_id: int) -> list[str]:
    """Every tag of the workspace, by name (the segment builder offers them)."""
    return await repository.tag_names(session, workspace_id)


async def field_definitions(session: AsyncSession, workspace_id: int) -> list[FieldDefinitionOut]:
    return [
        FieldDefinitionOut.model_validate(d)
        for d in await book.field_definitions(session, workspace_id)
    ]


# ---- CSV (contacts/csv_export.py, contacts/csv_import.py, contacts/csv_format.py) ---------
# export_csv(sessions, workspace_id, columns=None, contact_ids=None, *, progress=None)
#     -> AsyncIterator[str]: streamed chunks, the first with the BOM and the header. With a
#     session factory each batch of 1000 reads in its own short session (none is held
#     between chunks); with an AsyncSession every batch reads in it. contact_ids: an async
#     iterator of id lists (a segment) or ids; None exports the whole list.
# import_csv(sessions, workspace_id, path_or_bytes, *, channel_account_id=None,
#     progress=None) -> ImportReport: commits a transaction per 500 rows; raises
#     CsvUnreadable (nothing written) when the file cannot be read at all.
export_csv = csv_export.export_csv
import_csv = csv_import.import_csv
EXPORT_COLUMNS = csv_format.EXPORT_COLUMNS
ImportReport = csv_format.ImportReport
RowError = csv_format.RowError
CsvUnreadable = csv_format.CsvUnreadable
UnknownColumn = csv_format.UnknownColumn


async def export_columns(session: AsyncSession, workspace_id: int) -> list[str]:
    """The columns of a default export: EXPORT_COLUMNS, then field:<key> per custom field."""
    return await csv_export.default_columns(session, workspace_id)


async def count_contacts(session: AsyncSession, workspace_id: int) -> int:
    """Live (not merged) contacts: the total of a whole-list export."""
    return await repository.count_live_contacts(session, workspace_id)


# ---- admin imports (contacts/imports.py): progress rows and reports ----------------------
# start_import(session, ws, filename, actor) -> ImportStatus (commit, then run it)
# run_import(sessions, import_id, ws, data, channel_account_id=None, actor=...) -> None
start_import = imports.start
run_import = imports.run
import_status = imports.status
recent_imports = imports.recent

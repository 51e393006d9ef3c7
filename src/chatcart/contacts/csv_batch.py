"""The import's batched writer: a batch of rows in a handful of queries, not a dozen per row.

Same outcome as csv_import's row-at-a-time path (csv_import._apply, which stays as the
fallback), in three steps:

1. look up, for the whole batch at once, the identities, phones and emails the rows match
   on, the matched contacts, and what they already hold (points, tags, field values,
   marketing consent);
2. decide every row in memory, in file order, with an index of what earlier rows of the
   batch created (a second row with the same phone finds the contact the first one made).
   A row is checked whole (its field values coerced) before it changes anything, so a bad
   row is skipped and reported without a savepoint;
3. write: the new contacts in one flush (their ids), then every identity, point, tag,
   field value, consent and timeline event in a second one (batched INSERTs).

A unique-key conflict at the flush (a webhook created the same identity meanwhile) raises
IntegrityError; csv_import rolls the batch back and replays it row by row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.contacts import repository
from chatcart.contacts.book import coerce
from chatcart.contacts.csv_format import ImportReport, RowError
from chatcart.contacts.csv_read import Row, RowContext
from chatcart.contacts.errors import FieldValueInvalid
from chatcart.kit.contact_points import FoundPoint
from chatcart.kit.errors import AppError
from chatcart.kit.textnorm import fold
from chatcart.models import (
    Base,
    Contact,
    ContactConsent,
    ContactEvent,
    ContactFieldValue,
    ContactIdentity,
    ContactPoint,
    ContactTag,
    Tag,
)

_COLUMNS = ("value_text", "value_number", "value_date", "value_bool")
_TYPED = {"number": "value_number", "date": "value_date", "boolean": "value_bool"}


@dataclass
class _Held:
    """What one contact holds, as the batch goes (existing rows plus what it added)."""

    contact: Contact
    created: bool
    points: set[tuple[str, str]] = field(default_factory=set)
    values: list[str] = field(default_factory=list)  # point values, for the search text
    tag_ids: set[int] = field(default_factory=set)
    fields: dict[int, ContactFieldValue] = field(default_factory=dict)  # field id -> row
    consent: ContactConsent | None = None
    search_dirty: bool = False


@dataclass
class _Pending:
    """Rows to insert once the new contacts have ids: (holder, the row's values) for the
    many (plain dicts: no ORM object per row), (holder, ORM object) for the few that a later
    row of the batch may change again (a field value, a consent)."""

    identities: list[tuple[_Held, dict[str, Any]]] = field(default_factory=list)
    points: list[tuple[_Held, dict[str, Any]]] = field(default_factory=list)
    tags: list[tuple[_Held, dict[str, Any]]] = field(default_factory=list)
    events: list[tuple[_Held, dict[str, Any]]] = field(default_factory=list)
    fields: list[tuple[_Held, ContactFieldValue]] = field(default_factory=list)
    consents: list[tuple[_Held, ContactConsent]] = field(default_factory=list)


def update_contact(contact: Contact, row: Row) -> bool:
    """What a row changes on a matched contact (see csv_import's docstring)."""
    changed = False
    for attr in ("name", "first_name", "last_name", "locale"):
        value = getattr(row, attr)
        if value and value != getattr(contact, attr):
            setattr(contact, attr, value)
            changed = True
    if not contact.name and (row.first_name or row.last_name):
        contact.name = " ".join(p for p in (row.first_name, row.last_name) if p)
        changed = True
    # Files carry whole seconds: the same time read back is not "earlier".
    if row.created_at and row.created_at < contact.created_at.replace(microsecond=0):
        contact.created_at = row.created_at
        changed = True
    if row.last_interaction_at and (
        contact.last_interaction_at is None or row.last_interaction_at > contact.last_interaction_at
    ):
        contact.last_interaction_at = row.last_interaction_at
        changed = True
    if row.source and not contact.source:
        contact.source = row.source
        changed = True
    return changed


class BatchWriter:
    def __init__(
        self,
        session: AsyncSession,
        ctx: RowContext,
        tags: dict[str, Tag],
        now: datetime,
        report: ImportReport,
    ) -> None:
        self.session, self.ctx, self.tags, self.now, self.report = session, ctx, tags, now, report
        self.by_identity: dict[tuple[int, str], _Held | int] = {}  # int: another contact's id
        self.by_ref: dict[str, list[tuple[int, int]]] = defaultdict(list)  # ext -> (acct, cid)
        self.by_point: dict[tuple[str, str], _Held] = {}
        self.held: dict[int, _Held] = {}  # existing contacts by id
        self.new: list[_Held] = []
        self.pending = _Pending()

    # ---- 1. look up ----------------------------------------------------------------------

    async def prefetch(self, rows: list[Row]) -> None:
        session, ws = self.session, self.ctx.workspace_id
        keys = {key for row in rows for key in row.channel_ids}
        found_ids: dict[tuple[int, str], int] = {}
        for key, contact_id in await repository.identities_by_keys(session, keys):
            found_ids[key] = contact_id
        refs = {external_id for row in rows for _, external_id in row.identity_refs}
        ref_accounts = {a for row in rows for accounts, _ in row.identity_refs for a in accounts}
        for account_id, external_id, contact_id in await repository.identities_on(
            session, ref_accounts, refs
        ):
            self.by_ref[external_id].append((account_id, contact_id))
        wanted = {(p.kind, p.value) for row in rows for p in [*row.phones, *row.emails] if p.valid}
        by_point = await repository.contacts_by_points(session, ws, wanted)
        contact_ids = set(found_ids.values()) | set(by_point.values())
        contact_ids |= {cid for pairs in self.by_ref.values() for _, cid in pairs}
        for contact in await repository.contacts_by_ids(session, ws, contact_ids):
            self.held[contact.id] = _Held(contact, created=False)
        for key, contact_id in found_ids.items():
            holder = self.held.get(contact_id)
            self.by_identity[key] = holder if holder is not None else contact_id
        for point_key, point_contact in by_point.items():
            if point_contact in self.held:
                self.by_point[point_key] = self.held[point_contact]
        ids = list(self.held)
        if not ids:
            return
        for contact_id, kind, value in await repository.point_keys_of_many(session, ids):
            self.held[contact_id].points.add((kind, value))
            self.held[contact_id].values.append(value)
        for contact_id, tag_id in await repository.tag_ids_of_many(session, ids):
            self.held[contact_id].tag_ids.add(tag_id)
        for stored in await repository.field_value_rows(session, ids):
            self.held[stored.contact_id].fields[stored.field_id] = stored
        for consent in await repository.consent_rows(session, ids, "marketing"):
            self.held[consent.contact_id].consent = consent

    # ---- 2. decide -----------------------------------------------------------------------

    def _match(self, row: Row) -> _Held | None:
        for key in row.channel_ids:
            found = self.by_identity.get(key)
            if isinstance(found, _Held):
                return found
            if found is not None:
                return None  # its contact is not in this workspace: the row path would add
        for accounts, external_id in row.identity_refs:
            for account_id, contact_id in self.by_ref.get(external_id, ()):
                if account_id in accounts and contact_id in self.held:
                    return self.held[contact_id]
        for point in [*(p for p in row.phones if p.valid), *row.emails]:
            found_point = self.by_point.get((point.kind, point.value))
            if found_point is not None and found_point.contact.merged_into_id is None:
                return found_point
        return None

    def _event(
        self, holder: _Held, kind: str, data: dict[str, Any], actor: str | None = None
    ) -> None:
        event = {
            "workspace_id": self.ctx.workspace_id,
            "kind": kind,
            "data": data,
            "actor": actor,
            "at": self.now,
        }
        self.pending.events.append((holder, event))

    def _fields(self, holder: _Held | None, row: Row) -> dict[str, tuple[int, dict[str, Any]]]:
        """The row's field values as (field id, columns), checked before anything is
        written; only those that differ from what the contact holds."""
        todo: dict[str, tuple[int, dict[str, Any]]] = {}
        for key, (text, value) in row.fields.items():
            definition = self.ctx.definitions[key]
            current = holder.fields.get(definition.id) if holder else None
            if current is not None:
                column = _TYPED.get(definition.type, "value_text")
                if getattr(current, column) == value:
                    continue
            todo[key] = (definition.id, coerce(definition, text))
        return todo

    def decide(self, row: Row) -> None:
        holder = self._match(row)
        try:
            field_todo = self._fields(holder, row)
        except FieldValueInvalid as exc:
            self.report.skipped += 1
            self.report.errors.append(RowError(line=row.line, problem=exc.message))
            return
        created = holder is None
        changed = renamed = False
        if holder is None:
            holder = self._create(row)
            if not row.rematchable():
                row.warnings.append(
                    RowError(
                        line=row.line,
                        problem="no valid phone, email or channel id to find this contact by: "
                        "importing this file again adds it again",
                    )
                )
        else:
            before = holder.contact.name
            changed = update_contact(holder.contact, row)
            renamed = holder.contact.name != before
        changed = self._identities(holder, row) or changed
        new_points = [
            p for p in [*row.phones, *row.emails] if (p.kind, p.value) not in holder.points
        ]
        if new_points:
            self._points(holder, new_points)
            changed = True
        elif renamed:
            holder.search_dirty = True
        if row.tags and self._tag(holder, row.tags):
            changed = True
        if field_todo:
            self._set_fields(holder, field_todo)
            changed = True
        if row.consent:
            changed = self._consent(holder, row) or changed
        outcome = "created" if created else "updated" if changed else "unchanged"
        setattr(self.report, outcome, getattr(self.report, outcome) + 1)
        self.report.warnings.extend(row.warnings)

    def _create(self, row: Row) -> _Held:
        name = row.name or " ".join(p for p in (row.first_name, row.last_name) if p)
        contact = Contact(
            workspace_id=self.ctx.workspace_id,
            name=name[:200],
            first_name=row.first_name,
            last_name=row.last_name,
            locale=row.locale,
            source=row.source if row.source is not None else {"channel": "import"},
            created_at=row.created_at or self.now,
            last_interaction_at=row.last_interaction_at,
            order_count=row.order_count or 0,
            total_spent=row.total_spent or 0,
            search_text=fold(name),
        )
        holder = _Held(contact, created=True)
        self.new.append(holder)
        self._event(holder, "imported", {"line": row.line}, self.ctx.actor)
        return holder

    def _identities(self, holder: _Held, row: Row) -> bool:
        added = False
        for key in row.channel_ids:
            found = self.by_identity.get(key)
            if found is None:
                account_id, external_id = key
                identity = {
                    "workspace_id": self.ctx.workspace_id,
                    "channel_account_id": account_id,
                    "external_id": external_id,
                    "last_inbound_at": None,
                    "reachable": True,
                    "unreachable_reason": None,
                    "profile": {},
                    "profile_fetched_at": None,
                    "created_at": self.now,
                }
                self.pending.identities.append((holder, identity))
                self.by_identity[key] = holder
                added = True
            elif found is not holder:
                owner = found.contact.id if isinstance(found, _Held) else found
                column = self.ctx.columns.first("external_id")
                row.warnings.append(
                    RowError(
                        line=row.line,
                        column=self.ctx.columns.headers[column] if column is not None else None,
                        problem=f"{key[1]} belongs to contact {owner}; left there",
                    )
                )
        return added

    def _points(self, holder: _Held, points: list[FoundPoint]) -> None:
        added: list[str] = []
        for point in points:
            if (point.kind, point.value) in holder.points:
                continue  # the same number twice in one row
            holder.points.add((point.kind, point.value))
            holder.values.append(point.value)
            self.pending.points.append(
                (
                    holder,
                    {
                        "workspace_id": self.ctx.workspace_id,
                        "kind": point.kind,
                        "value": point.value,
                        "raw": point.raw[:320],
                        "valid": point.valid,
                        "source": "import",
                        "channel_account_id": None,
                        "message_id": None,
                        "first_seen_at": self.now,
                        "last_seen_at": self.now,
                    },
                )
            )
            if point.valid:
                self.by_point.setdefault((point.kind, point.value), holder)
            added.append(point.value)
        if added:
            self._event(holder, "points_added", {"values": added, "source": "import"})
            holder.search_dirty = True

    def _tag(self, holder: _Held, names: list[str]) -> bool:
        new: list[Tag] = []
        for name in names:
            tag = self.tags[fold(name)]
            if tag.id not in holder.tag_ids:
                holder.tag_ids.add(tag.id)
                new.append(tag)
                self.pending.tags.append((holder, {"tag_id": tag.id, "tagged_at": self.now}))
        if new:
            self._event(holder, "tagged", {"tags": [t.name for t in new]}, self.ctx.actor)
        return bool(new)

    def _set_fields(self, holder: _Held, todo: dict[str, tuple[int, dict[str, Any]]]) -> None:
        for field_id, columns in todo.values():
            row = holder.fields.get(field_id)
            if row is None:
                row = ContactFieldValue(field_id=field_id)
                holder.fields[field_id] = row
                self.pending.fields.append((holder, row))
            for name in _COLUMNS:
                setattr(row, name, columns.get(name))
        self._event(holder, "fields_set", {"fields": sorted(todo)}, self.ctx.actor)

    def _consent(self, holder: _Held, row: Row) -> bool:
        current = holder.consent
        if row.consent == (current.status if current is not None else None):
            return False
        if row.consent == "granted" and current is not None:
            column = self.ctx.columns.first("consent_marketing")
            row.warnings.append(
                RowError(
                    line=row.line,
                    column=self.ctx.columns.headers[column] if column is not None else None,
                    problem=f"marketing consent was revoked ({current.source}); "
                    "an import does not grant it again",
                )
            )
            return False
        if current is None:
            current = ContactConsent(purpose="marketing")
            holder.consent = current
            self.pending.consents.append((holder, current))
        current.status, current.source, current.updated_at = row.consent or "", "import", self.now
        self._event(
            holder,
            "consent",
            {"purpose": "marketing", "status": current.status, "source": "import"},
        )
        return True

    # ---- 3. write ------------------------------------------------------------------------

    async def write(self) -> None:
        for holder in [*self.new, *self.held.values()]:
            if holder.search_dirty:
                contact = holder.contact
                parts = [contact.name or "", *holder.values]
                parts += ["0" + p[3:] for p in parts if p.startswith(("+84", "+63"))]
                contact.search_text = fold(" ".join(p for p in parts if p))
        await self.session.flush()  # what changed on contacts and rows that exist
        if self.new:
            ids = await repository.insert_contacts(
                self.session, [_values(h.contact) for h in self.new]
            )
            for holder, contact_id in zip(self.new, ids, strict=True):
                holder.contact.id = contact_id
        pending, session = self.pending, self.session
        for model, dicts in (
            (ContactIdentity, pending.identities),
            (ContactPoint, pending.points),
            (ContactTag, pending.tags),
            (ContactEvent, pending.events),
        ):
            for holder, values in dicts:
                values["contact_id"] = holder.contact.id
            await repository.insert_rows(session, model, [values for _, values in dicts])
        for holder, value in pending.fields:
            value.contact_id = holder.contact.id
        await repository.insert_rows(
            session, ContactFieldValue, [_values(value) for _, value in pending.fields]
        )
        for holder, consent in pending.consents:
            consent.contact_id = holder.contact.id
        await repository.insert_rows(
            session, ContactConsent, [_values(consent) for _, consent in pending.consents]
        )


def _values(item: Base) -> dict[str, Any]:
    """A new (transient) ORM object as an INSERT's values, column defaults filled in."""
    values: dict[str, Any] = {}
    state = item.__dict__
    for column in item.__table__.columns:
        if column.primary_key and column.autoincrement is not False and column.key == "id":
            continue
        value = state.get(column.key)
        if value is None and column.default is not None:
            default = column.default
            value = default.arg(None) if default.is_callable else default.arg
        values[column.key] = value
    return values


async def write_batch(
    session: AsyncSession,
    ctx: RowContext,
    rows: list[Row],
    tags: dict[str, Tag],
    now: datetime,
    report: ImportReport,
) -> None:
    """Decide and write a batch; raises IntegrityError (nothing of the batch should be
    kept then) when a unique key was taken meanwhile."""
    writer = BatchWriter(session, ctx, tags, now, report)
    await writer.prefetch(rows)
    for row in rows:
        try:
            writer.decide(row)
        except AppError as exc:
            report.skipped += 1
            report.errors.append(RowError(line=row.line, problem=exc.message))
    await writer.write()

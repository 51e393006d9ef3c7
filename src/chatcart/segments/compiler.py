"""A filter (schemas.Filter) -> ONE SQLAlchemy select of Contact.id, for SQLite and PostgreSQL.

    compile(filter, workspace_id, now, fields) -> Audience (.bound(): a Select[int])

No SQL text is ever built from the filter: every value is a bound parameter. The shape is
chosen for the planners of both engines (bench/segments.py measures it, 1M contacts):

- A predicate on another table never joins (no multiplied rows). In each AND group ONE
  predicate *drives*: `contact.id IN (SELECT contact_id FROM ... WHERE ...)`, picked by a
  static rank of how narrow it usually is (messageable-now first: a window of hours out of
  months of history; then field values and tags; "has a phone" last). The group's other
  predicates on other tables are *carried* into the driver's subquery as correlated probes
  of its rows, `EXISTS (... WHERE x.contact_id = driver.contact_id ...)`, so both engines
  test them before reading any contact row; predicates on contact columns, groups that read
  them, and probes of the driver's own table stay outside, as `EXISTS (... = contact.id)`.
  SQLite walks the driver's index, probes the rest through the contact_id indexes, then
  reads the survivors by rowid; written as IN it would materialise every subquery (600k
  phone rows for "has a phone"), written as EXISTS alone it would scan every contact.
  PostgreSQL, given the probes on contact (semi-joins off `contact`), joined every driven
  contact or scanned all 1M in parallel before probing (300+ ms on a busy machine); carried,
  it semi-joins the probes to the driver's few rows and reads ~1/8 as many contacts.
- Without a driver (drive=False: the first page's walk down the recency index) every
  predicate on another table is a probe of the contact in hand.
- An OR group drives only if each branch can (SQLite ORs the rowid lookups); else it probes.
- Negative predicates ("has none of these tags", "no phone", "never asked for consent") are
  `NOT EXISTS`: an anti-join on PostgreSQL, an index probe per contact on SQLite (NOT IN would
  be neither, and is wrong with NULLs). They never drive, nor do predicates on contact
  columns (last interaction, orders, source, created): those filter what the driver yields.
- Merged contacts (merged_into_id set) are never members; every query is scoped to one
  workspace; `now` comes from the caller, so a window edge is testable to the microsecond.

The semantics of each predicate are written in schemas.py; tests/segments checks this compiler
against a brute-force Python evaluation of the same semantics, on both databases.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    String,
    and_,
    bindparam,
    case,
    exists,
    false,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlalchemy.sql.functions import FunctionElement, func

from chatcart.kit.clock import as_utc
from chatcart.kit.db import UTCDateTime
from chatcart.kit.textnorm import fold, nfc
from chatcart.models import (
    ChannelAccount,
    Contact,
    ContactConsent,
    ContactFieldValue,
    ContactIdentity,
    ContactPoint,
    ContactTag,
    Tag,
)
from chatcart.policy import service as policy
from chatcart.policy.errors import UnknownChannel
from chatcart.segments.audience import Audience
from chatcart.segments.errors import FilterInvalid
from chatcart.segments.schemas import (
    Catalog,
    ChannelRule,
    ConsentRule,
    CreatedRule,
    FieldRule,
    FieldSpec,
    FieldValue,
    Filter,
    Group,
    HasPhoneRule,
    LastInteractionRule,
    MessageableRule,
    OrdersRule,
    SourceRule,
    TagsRule,
    date_of,
    dump_filter,
    walk,
)

__all__ = ["ascii_lower", "catalog_unchanged", "compile", "window_hours"]

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_ASCII_LOWER = str.maketrans(_UPPER, _LOWER)

# Which ops each custom field type takes.
_FIELD_OPS: dict[str, frozenset[str]] = {
    "text": frozenset({"eq", "ne", "contains", "is_set", "is_not_set"}),
    "choice": frozenset({"eq", "ne", "contains", "is_set", "is_not_set"}),
    "number": frozenset({"eq", "ne", "gt", "lt", "between", "is_set", "is_not_set"}),
    "date": frozenset({"eq", "ne", "gt", "lt", "between", "is_set", "is_not_set"}),
    "boolean": frozenset({"eq", "ne", "is_set", "is_not_set"}),
}


class _AsciiLower(FunctionElement[str]):
    """lower() for A-Z only, the same on both engines (SQLite's lower() folds only ASCII;
    PostgreSQL's folds every letter, so it gets translate())."""

    type = String()
    name = "ascii_lower"
    inherit_cache = True


@compiles(_AsciiLower)
def _ascii_lower_default(element: _AsciiLower, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(func.lower(*element.clauses), **kw)


@compiles(_AsciiLower, "postgresql")
def _ascii_lower_postgresql(element: _AsciiLower, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(func.translate(*element.clauses, _UPPER, _LOWER), **kw)


def ascii_lower(expression: SQLCoreOperations[Any]) -> ColumnElement[str]:
    return _AsciiLower(expression)


def ascii_lower_text(text: str) -> str:
    return text.translate(_ASCII_LOWER)


def window_hours(channel: str) -> int | None:
    """The standard messaging window of a channel kind (None: no window, always open)."""
    pack = policy.rules_for(channel)
    return None if pack.window is None else pack.window.hours


def compile(
    node: Filter,
    workspace_id: int,
    now: datetime,
    fields: Mapping[str, FieldSpec],
    *,
    path: str = "filter",
    drive: bool = True,
    catalog: Catalog | None = None,
    checked: bool = False,
) -> Audience:
    """The contacts of `workspace_id` that `node` selects at `now`, as one select of ids
    (`.bound()`; the service runs `.select` with `.params`, see audience.py).

    `catalog` (the workspace's tag and channel account ids, looked up by the service) puts
    those ids into the SQL as values, which gives the planners real statistics to go on;
    without it they are subqueries on tag / channel_account. `checked`: the catalog may be
    out of date (remembered from an earlier call), so the select also requires that every
    tag and account id it inlined still stands for the same name and that no other does
    (catalog_unchanged): with a stale catalog it selects nobody, never the wrong people.
    drive=False writes every predicate on another table as a correlated EXISTS; the default
    lets one drive.

    The select is kept per filter, workspace, fields, catalog, shape and policy windows
    (building it costs ~0.5 ms of SQLAlchemy); each moment relative to `now` (a "within N
    days" cutoff, a messaging window's edge) is a parameter, valued for this call."""
    key = (
        orjson.dumps(dump_filter(node), option=orjson.OPT_SORT_KEYS),
        workspace_id,
        tuple(sorted(fields.items())),
        None if catalog is None else catalog.frozen(),
        path,
        drive,
        checked and catalog is not None,
        _windows(node),
    )
    found = _STATEMENTS.get(key)
    if found is None:
        compiler = _Compiler(workspace_id, fields, catalog)
        condition = compiler.node(node, path, drive)
        statement = select(Contact.id).where(
            Contact.workspace_id == workspace_id, Contact.merged_into_id.is_(None), condition
        )
        if checked and catalog is not None:
            statement = statement.where(
                catalog_unchanged(workspace_id, catalog, compiler.tag_keys, compiler.kinds)
            )
        found = _STATEMENTS[key] = (Audience(statement), tuple(compiler.moments.items()))
        while len(_STATEMENTS) > STATEMENTS_KEPT:
            _STATEMENTS.pop(next(iter(_STATEMENTS)))  # the oldest compiled
    kept, moments = found
    at = as_utc(now)
    params = {name: at - ago for name, (_, ago) in moments}
    return Audience(kept.select, params, kept.derived)


STATEMENTS_KEPT = 512


def catalog_unchanged(
    workspace_id: int, catalog: Catalog, tag_keys: set[str], kinds: set[str]
) -> ColumnElement[bool]:
    """True while the workspace's tags named `tag_keys` and its accounts of `kinds` are still
    exactly those of `catalog`: the same ids, under the same names, and no others (a tag
    created, renamed, deleted or recreated since, an account added or removed, all make it
    false). Two small scalar subqueries per table, each evaluated once."""
    tags = [(key, catalog.tags[key]) for key in sorted(tag_keys) if key in catalog.tags]
    accounts = [(kind, i) for kind in sorted(kinds) for i in catalog.accounts.get(kind, ())]
    return and_(
        _same_rows(Tag.workspace_id == workspace_id, Tag.key, Tag.id, sorted(tag_keys), tags),
        _same_rows(
            ChannelAccount.workspace_id == workspace_id,
            ChannelAccount.kind,
            ChannelAccount.id,
            sorted(kinds),
            accounts,
        ),
    )


def _same_rows(
    scope: ColumnElement[bool],
    name: SQLCoreOperations[str],
    id_: SQLCoreOperations[int],
    names: list[str],
    pairs: list[tuple[str, int]],
) -> ColumnElement[bool]:
    """The rows of `scope` with one of these names or ids are exactly `pairs` (name, id):
    each such row scores 1 if it is one of the pairs, len(pairs) + 1 if not, so the sum is
    len(pairs) only when every pair is there and nothing else (one subquery, once)."""
    if not names:
        return true()
    exact = or_(false(), *(and_(name == n, id_ == i) for n, i in pairs))
    score = case((exact, 1), else_=len(pairs) + 1)
    either = or_(_among(name, names), _among(id_, [i for _, i in pairs]))
    total = select(func.coalesce(func.sum(score), 0)).where(scope, either).scalar_subquery()
    return total == len(pairs)


def _among(column: SQLCoreOperations[Any], values: list[Any]) -> ColumnElement[bool]:
    """column IN (values), one parameter per value: an expanding IN (what `in_(list)`
    writes) makes SQLAlchemy rewrite the SQL on every execution, ~0.1 ms of a 1 ms page."""
    if not values:
        return false()
    if len(values) == 1:
        equal: ColumnElement[bool] = column == values[0]
        return equal
    kind = getattr(column, "type", None)  # the column's own (BIGINT ids on PostgreSQL)
    return column.in_([bindparam(None, value, type_=kind) for value in values])


def _windows(node: Filter) -> tuple[tuple[str, int | str | None], ...]:
    """The messaging window of each channel the filter names, from today's policy packs (a
    compiled statement holds them)."""
    found: list[tuple[str, int | str | None]] = []
    for rule, _, _ in walk(node):
        if isinstance(rule, MessageableRule):
            try:
                found.append((rule.channel, window_hours(rule.channel)))
            except UnknownChannel:
                found.append((rule.channel, "unknown"))
    return tuple(found)


_STATEMENTS: dict[tuple[Any, ...], tuple[Audience, tuple[tuple[str, _Moment], ...]]] = {}


_Moment = tuple[BindParameter[datetime], timedelta]


class _Compiler:
    def __init__(
        self, workspace_id: int, fields: Mapping[str, FieldSpec], catalog: Catalog | None
    ) -> None:
        self.workspace_id = workspace_id
        # Each moment relative to `now` the filter compares with: its parameter, how long ago.
        self.moments: dict[str, _Moment] = {}
        self.fields = fields
        self.catalog = catalog
        # What a probe (EXISTS) is correlated to: the contact, or a driving row's contact_id.
        self.outer: SQLCoreOperations[int] = Contact.id
        # Sibling rules (with their paths) waiting to be carried into the next driver.
        self.carry: list[tuple[Filter, str]] | None = None
        # The tag keys and account kinds whose ids came from the catalog (catalog_unchanged).
        self.tag_keys: set[str] = set()
        self.kinds: set[str] = set()

    # --- shapes ---------------------------------------------------------------------------

    def _has(
        self, drive: bool, contact_id: SQLCoreOperations[int], *where: ColumnElement[bool]
    ) -> ColumnElement[bool]:
        """Contacts that have a row matching `where` (a semi-join): `contact.id IN (...)` when
        this predicate drives the query, else a correlated EXISTS probe of the row in hand.

        A driving subquery also holds the probes carried into it (see _group): they are
        evaluated on the driver's rows, before any contact row is read."""
        if drive:
            carried = self._carried(contact_id)
            return Contact.id.in_(select(contact_id).where(*where, *carried))
        return exists().where(contact_id == self.outer, *where)

    def _none(
        self, contact_id: SQLCoreOperations[int], *where: ColumnElement[bool]
    ) -> ColumnElement[bool]:
        """Contacts without any row matching `where` (an anti-join)."""
        return ~exists().where(contact_id == self.outer, *where)

    def _ago(self, ago: timedelta) -> BindParameter[datetime]:
        """`now - ago`, as a parameter compile() sets for each call."""
        name = f"now_minus_{int(ago.total_seconds())}s"
        if name not in self.moments:
            self.moments[name] = (bindparam(name, type_=UTCDateTime()), ago)
        return self.moments[name][0]

    def _carried(self, outer: SQLCoreOperations[int]) -> list[ColumnElement[bool]]:
        """The probes an AND group carries into its driver, correlated to the driver's
        contact_id (`outer`); taken once, by the driver's own subquery."""
        carry, self.carry = self.carry, None
        if carry is None:
            return []
        saved, self.outer = self.outer, outer
        try:
            return [self.node(rule, path) for rule, path in carry]
        finally:
            self.outer = saved

    def _on_accounts(self, kinds: list[str]) -> ColumnElement[bool] | None:
        """Identities on the workspace's accounts of these kinds (None: it has none)."""
        column = ContactIdentity.channel_account_id
        if self.catalog is None:
            return column.in_(
                select(ChannelAccount.id).where(
                    ChannelAccount.workspace_id == self.workspace_id,
                    _among(ChannelAccount.kind, kinds),
                )
            )
        self.kinds.update(kinds)
        ids = sorted({i for kind in kinds for i in self.catalog.accounts.get(kind, ())})
        if not ids:
            return None
        return _among(column, ids)

    def _tag_ids(self, keys: list[str]) -> ColumnElement[bool] | None:
        """contact_tag rows of these folded tag names (None: no such tag in the workspace)."""
        column = ContactTag.tag_id
        if self.catalog is None:
            return column.in_(
                select(Tag.id).where(Tag.workspace_id == self.workspace_id, _among(Tag.key, keys))
            )
        self.tag_keys.update(keys)
        ids = sorted({self.catalog.tags[key] for key in keys if key in self.catalog.tags})
        if not ids:
            return None
        return _among(column, ids)

    def _time(
        self,
        column: SQLCoreOperations[datetime | None] | SQLCoreOperations[datetime],
        op: str,
        value: int | datetime | None,
        *,
        nullable: bool,
    ) -> ColumnElement[bool]:
        if op == "before":
            assert isinstance(value, datetime)
            return column < value
        if op == "after":
            assert isinstance(value, datetime)
            return column > value
        if op == "is_set":
            return column.is_not(None)
        if op == "is_not_set":
            return column.is_(None)
        assert isinstance(value, int)
        cutoff = self._ago(timedelta(days=value))
        if op == "within_days":
            return column >= cutoff
        assert op == "not_within_days"
        return or_(column.is_(None), column < cutoff) if nullable else column < cutoff

    @staticmethod
    def _compare(
        column: SQLCoreOperations[Any], op: str, value: Any, values: list[Any] | None, path: str
    ) -> ColumnElement[bool]:
        condition: ColumnElement[bool]
        if op in {"eq", "ne"}:
            condition = column == value  # "ne" is negated by the caller (rows may be missing)
        elif op == "gt":
            condition = column > value
        elif op == "gte":
            condition = column >= value
        elif op == "lt":
            condition = column < value
        elif op == "lte":
            condition = column <= value
        else:
            assert op == "between"
            assert values is not None
            low, high = values
            if low > high:
                raise FilterInvalid.at(
                    f"{path}.values", "'between' needs low <= high", "between_order"
                )
            condition = column.between(low, high)
        return condition

    # --- nodes ----------------------------------------------------------------------------

    def node(self, node: Filter, path: str, drive: bool = False) -> ColumnElement[bool]:
        if isinstance(node, Group):
            return self._group(node, path, drive)
        if isinstance(node, TagsRule):
            return self._tags(node, drive)
        if isinstance(node, FieldRule):
            return self._field(node, path, drive)
        if isinstance(node, ChannelRule):
            accounts = self._on_accounts(list(node.kinds))
            if accounts is None:
                return false()
            return self._has(drive, ContactIdentity.contact_id, accounts)
        if isinstance(node, MessageableRule):
            return self._messageable(node, path, drive)
        if isinstance(node, LastInteractionRule):
            return self._time(Contact.last_interaction_at, node.op, node.value, nullable=True)
        if isinstance(node, HasPhoneRule):
            phone = (ContactPoint.kind == "phone", ContactPoint.valid == true())
            if node.value and drive:  # ix_contact_point_lookup leads with the workspace
                scoped = ContactPoint.workspace_id == self.workspace_id
                return self._has(True, ContactPoint.contact_id, scoped, *phone)
            if node.value:
                return self._has(False, ContactPoint.contact_id, *phone)
            return self._none(ContactPoint.contact_id, *phone)
        if isinstance(node, SourceRule):
            return self._source(node)
        if isinstance(node, OrdersRule):
            return self._orders(node, path)
        if isinstance(node, CreatedRule):
            return self._time(Contact.created_at, node.op, node.value, nullable=False)
        if isinstance(node, ConsentRule):
            purpose = ContactConsent.purpose == node.purpose
            if node.status == "unknown":
                return self._none(ContactConsent.contact_id, purpose)
            # Never drives (rank None): no index leads with purpose; the PK probe is cheap.
            return self._has(
                False, ContactConsent.contact_id, purpose, ContactConsent.status == node.status
            )
        raise FilterInvalid.at(f"{path}.type", "unknown node type")  # pragma: no cover

    def _group(self, node: Group, path: str, drive: bool) -> ColumnElement[bool]:
        paths = [f"{path}.rules[{i}]" for i in range(len(node.rules))]
        if node.op == "or":
            # Every branch drives (SQLite ORs the rowid lookups) or none does.
            each = drive and _rank(node) is not None
            return or_(
                false(), *(self.node(r, p, each) for r, p in zip(node.rules, paths, strict=True))
            )
        driver = _driver(node.rules) if drive else None
        carried = _carried_by(node.rules, driver)
        conditions: list[ColumnElement[bool]] = []
        for index, (rule, where) in enumerate(zip(node.rules, paths, strict=True)):
            if index in carried:
                continue
            if index == driver and carried:
                self.carry = [(node.rules[i], paths[i]) for i in carried]
                conditions.append(self.node(rule, where, True))
                # A driver that compiled to a constant (no such tag...) took nothing.
                conditions.extend(self._carried(self.outer))
            else:
                conditions.append(self.node(rule, where, index == driver))
        return and_(true(), *conditions)

    def _tags(self, node: TagsRule, drive: bool) -> ColumnElement[bool]:
        keys = sorted({fold(name) for name in node.tags})
        if node.has == "all":
            each = [self._tag_ids([key]) for key in keys]
            if any(tagged is None for tagged in each):
                return false()  # a tag that does not exist: nobody has all of them
            return and_(
                true(),
                *(
                    self._has(drive and n == 0, ContactTag.contact_id, tagged)
                    for n, tagged in enumerate(each)
                    if tagged is not None
                ),
            )
        tagged = self._tag_ids(keys)
        if node.has == "none":
            return true() if tagged is None else self._none(ContactTag.contact_id, tagged)
        return false() if tagged is None else self._has(drive, ContactTag.contact_id, tagged)

    def _messageable(self, node: MessageableRule, path: str, drive: bool) -> ColumnElement[bool]:
        try:
            hours = window_hours(node.channel)
        except UnknownChannel:
            raise FilterInvalid.at(
                f"{path}.channel",
                f"chatcart has no messaging rules for {node.channel} yet",
                "no_channel_rules",
                channel=node.channel,
            ) from None
        accounts = self._on_accounts([node.channel])
        if accounts is None:
            return false()
        where = [accounts, ContactIdentity.reachable == true()]
        if hours is not None:
            # Inclusive, like policy.decide: an age of exactly the window is still inside.
            where.append(ContactIdentity.last_inbound_at >= self._ago(timedelta(hours=hours)))
        return self._has(drive, ContactIdentity.contact_id, *where)

    def _source(self, node: SourceRule) -> ColumnElement[bool]:
        value: ColumnElement[str] = Contact.source[node.key].as_string()
        if node.op == "is_set":
            return value.is_not(None)
        if node.op == "is_not_set":
            return value.is_(None)
        assert node.value is not None
        text = nfc(node.value)
        if node.op == "eq":
            return value == text
        if node.op == "ne":
            return or_(value.is_(None), value != text)
        return ascii_lower(value).contains(ascii_lower_text(text), autoescape=True)

    def _orders(self, node: OrdersRule, path: str) -> ColumnElement[bool]:
        if node.metric == "last_order_at":
            return self._time(Contact.last_order_at, node.op, node.value, nullable=True)
        column = Contact.order_count if node.metric == "count" else Contact.total_spent
        condition = self._compare(column, node.op, node.value, node.values, path)
        return ~condition if node.op == "ne" else condition

    def _field(self, node: FieldRule, path: str, drive: bool) -> ColumnElement[bool]:
        spec = self.fields.get(node.key)
        if spec is None:
            raise FilterInvalid.at(
                f"{path}.key",
                f"there is no custom field '{node.key}' in this workspace",
                "no_such_field",
                key=node.key,
            )
        if node.op not in _FIELD_OPS.get(spec.type, frozenset()):
            allowed = ", ".join(sorted(_FIELD_OPS.get(spec.type, ())))
            raise FilterInvalid.at(
                f"{path}.op",
                f"'{node.key}' is a {spec.type} field: '{node.op}' does not apply "
                f"(use one of {allowed})",
                f"{spec.type}_field_op",  # text_field_op, number_field_op...
                key=node.key,
                op=node.op,
                allowed=allowed,
            )
        column: SQLCoreOperations[Any] = {
            "text": ContactFieldValue.value_text,
            "choice": ContactFieldValue.value_text,
            "number": ContactFieldValue.value_number,
            "date": ContactFieldValue.value_date,
            "boolean": ContactFieldValue.value_bool,
        }[spec.type]
        of_field = ContactFieldValue.field_id == spec.id
        if node.op == "is_set":
            return self._has(drive, ContactFieldValue.contact_id, of_field, column.is_not(None))
        if node.op == "is_not_set":
            return self._none(ContactFieldValue.contact_id, of_field, column.is_not(None))
        value = None if node.value is None else _typed(spec, node.op, node.value, f"{path}.value")
        values = None
        if node.values is not None:
            values = [
                _typed(spec, node.op, v, f"{path}.values[{i}]") for i, v in enumerate(node.values)
            ]
        if node.op == "contains":
            assert isinstance(value, str)
            matched = ascii_lower(column).contains(ascii_lower_text(value), autoescape=True)
            return self._has(drive, ContactFieldValue.contact_id, of_field, matched)
        condition = self._compare(column, node.op, value, values, path)
        if node.op == "ne":
            return self._none(ContactFieldValue.contact_id, of_field, condition)
        return self._has(drive, ContactFieldValue.contact_id, of_field, condition)


def _typed(spec: FieldSpec, op: str, value: FieldValue, path: str) -> str | float | date | bool:
    """A filter value checked against the field's type (422 naming the path otherwise)."""
    kind = spec.type
    if kind in {"text", "choice"}:
        if not isinstance(value, str):
            raise FilterInvalid.at(
                path, f"'{spec.key}' is a {kind} field: give text", f"{kind}_field", key=spec.key
            )
        text = nfc(value)
        if kind == "choice" and op in {"eq", "ne"} and spec.choices and text not in spec.choices:
            choices = ", ".join(spec.choices)
            raise FilterInvalid.at(
                path,
                f"'{text}' is not a choice of '{spec.key}' ({choices})",
                "not_a_choice",
                key=spec.key,
                value=text,
                choices=choices,
            )
        return text
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FilterInvalid.at(
                path, f"'{spec.key}' is a number field: give a number", "number_field", key=spec.key
            )
        return value
    if kind == "date":
        day = date_of(value)
        if day is None:
            raise FilterInvalid.at(
                path, f"'{spec.key}' is a date field: give YYYY-MM-DD", "date_field", key=spec.key
            )
        return day
    if kind == "boolean":
        if not isinstance(value, bool):
            raise FilterInvalid.at(
                path,
                f"'{spec.key}' is a boolean field: give true or false",
                "boolean_field",
                key=spec.key,
            )
        return value
    raise FilterInvalid.at(path, f"'{spec.key}' has an unknown type {kind!r}")  # pragma: no cover


# --- which predicate drives --------------------------------------------------------------

# How narrow a predicate usually is, and whether an index can produce its contacts (lower
# drives first; None: it never drives). Static, from the shape of the data: a messaging window
# is hours out of months; a custom-field value or a tag is a slice; "has a phone" or "is on
# Messenger" is most of the book. Predicates on contact columns and negative ones filter rows
# the driver produced (or a scan) and never drive.
_FIELD_RANK = {"eq": 20, "between": 30, "gt": 35, "lt": 35, "contains": 50, "is_set": 50}


def _rank(node: Filter) -> int | None:
    if isinstance(node, Group):
        ranks = [_rank(rule) for rule in node.rules]
        if node.op == "and":
            return min((r for r in ranks if r is not None), default=None)
        known = [r for r in ranks if r is not None]
        return max(known) + 5 if len(known) == len(ranks) else None
    if isinstance(node, MessageableRule):
        try:
            return 10 if window_hours(node.channel) is not None else 60
        except UnknownChannel:
            return None  # compile() reports it
    if isinstance(node, TagsRule):
        return {"all": 20, "any": 25}.get(node.has)
    if isinstance(node, FieldRule):
        return _FIELD_RANK.get(node.op)
    if isinstance(node, ChannelRule):
        return 70
    if isinstance(node, HasPhoneRule):
        return 80 if node.value else None
    return None


# The table each predicate on another table probes (None: contact columns, or a group).
def _probed(node: Filter) -> set[str] | None:
    """The tables a rule only probes (EXISTS / NOT EXISTS on contact_id), or None when it
    reads contact columns (it must then stay on the contact row)."""
    if isinstance(node, Group):
        tables: set[str] = set()
        for rule in node.rules:
            found = _probed(rule)
            if found is None:
                return None
            tables |= found
        return tables
    table = _PROBES.get(type(node))
    return None if table is None else {table}


_PROBES: dict[type[Any], str] = {
    TagsRule: "contact_tag",
    FieldRule: "contact_field_value",
    ChannelRule: "contact_identity",
    MessageableRule: "contact_identity",
    HasPhoneRule: "contact_point",
    ConsentRule: "contact_consent",
}


def _carried_by(rules: list[Filter], driver: int | None) -> list[int]:
    """The siblings an AND group's driver carries into its subquery: every rule that only
    probes tables other than the driver's (the same table would need an alias). Then both
    engines test them on the driver's rows, and read a contact row only for a contact that
    passed all of them: PostgreSQL no longer joins every driven contact (or scans all of
    them) before probing the rest. A driver that is itself a group carries nothing."""
    if driver is None or isinstance(rules[driver], Group):
        return []
    own = _probed(rules[driver])
    if own is None:
        return []
    return [
        index
        for index, rule in enumerate(rules)
        if index != driver and (tables := _probed(rule)) is not None and not tables & own
    ]


def _driver(rules: list[Filter]) -> int | None:
    """The index of the rule of an AND group that should drive it."""
    best: tuple[int, int] | None = None
    for index, rule in enumerate(rules):
        rank = _rank(rule)
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, index)
    return None if best is None else best[1]

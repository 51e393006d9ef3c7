"""The segment filter (data, never SQL strings) and the room's I/O shapes.

A filter is a tree. A node is a `group` ({"type": "group", "op": "and"|"or", "rules": [...]},
nesting up to MAX_DEPTH levels) or one predicate, told apart by "type":

    tags              {"has": "any"|"all"|"none", "tags": ["VIP", "Khách quen"]}  (folded names)
    field             {"key": "city", "op": "eq"|"ne"|"contains"|"gt"|"lt"|"between"|"is_set"
                       |"is_not_set", "value": ..., "values": [lo, hi]}  (custom fields)
    channel           {"kinds": ["messenger", "instagram"]}  has an identity on such an account
    messageable       {"channel": "messenger"}  a reachable identity there, inside the channel
                      pack's standard window at `now` (policy.rules_for(channel).window)
    last_interaction  {"op": "before"|"after"|"within_days"|"not_within_days", "value": ...}
    has_phone         {"value": true}  a valid (E.164) phone
    source            {"key": "ref", "op": "eq"|"ne"|"contains"|"is_set"|"is_not_set", "value"}
    orders            {"metric": "count"|"total_spent"|"last_order_at", "op": ..., "value"}
    created           {"op": "before"|"after"|"within_days"|"not_within_days", "value": ...}
    consent           {"purpose": "marketing", "status": "granted"|"revoked"|"unknown"}

Semantics (the SQL compiler and the brute-force test evaluator both follow these):
- Negative forms include the contacts that have nothing: field `ne`/`is_not_set`, source `ne`,
  tags `none`, has_phone false, consent `unknown` (no row), `not_within_days` (never happened).
- `contains` is a substring match, case-insensitive for A-Z (other letters match as typed).
- `before` is strict (<), `after` is strict (>); `within_days` N is ">= now - N days";
  `between` includes both ends.
- Field `eq` on text is exact; source values are compared as text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from chatcart.kit.clock import as_utc
from chatcart.kit.textnorm import nfc
from chatcart.segments.errors import FilterInvalid, Problem, problem

MAX_DEPTH = 5  # groups inside groups
MAX_RULES = 50  # per group
MAX_PREDICATES = 200  # in a whole filter
MAX_DAYS = 36_500
MAX_ID_LINES = 100_000

ChannelKind = Literal["webchat", "messenger", "instagram", "whatsapp", "telegram", "zalo", "voice"]
FieldOp = Literal["eq", "ne", "contains", "gt", "lt", "between", "is_set", "is_not_set"]
TimeOp = Literal["before", "after", "within_days", "not_within_days"]
CountOp = Literal["eq", "ne", "gt", "gte", "lt", "lte", "between"]
OrderOp = CountOp | TimeOp | Literal["is_set", "is_not_set"]
FieldValue = StrictBool | StrictInt | StrictFloat | StrictStr
Moment = int | datetime  # whole days for *_days ops, an instant for before / after

_DAY_OPS = frozenset({"within_days", "not_within_days"})
_INSTANT_OPS = frozenset({"before", "after"})
_PRESENCE_OPS = frozenset({"is_set", "is_not_set"})
_KEY = r"^[a-z][a-z0-9_]*$"
_datetime = TypeAdapter(datetime)


def _error(code: str, template: str, **params: Any) -> PydanticCustomError:
    """A validation error with a stable code and its values (errors.Problem), so a UI can say
    it in its own language; `template` is the English, with {name} for each value."""
    return PydanticCustomError(code, template, params)


_BETWEEN_NO_VALUE = _error(
    "between_no_value", "'between' takes no 'value' (give 'values': [low, high])"
)


def _moment(op: str, value: Any) -> Any:
    """Days (an int) for the *_days ops; a tz-aware instant for before / after."""
    if op in _DAY_OPS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _error("days_whole", "'{op}' needs a whole number of days", op=op)
        if not 0 <= value <= MAX_DAYS:
            raise _error("days_range", "days must be between 0 and {max}", max=MAX_DAYS)
        return value
    if op in _INSTANT_OPS:
        if not isinstance(value, str | datetime):
            raise _error("instant", "'{op}' needs an ISO 8601 date or date-time", op=op)
        try:
            parsed = _datetime.validate_python(value)
        except ValidationError:
            raise _error("instant", "'{op}' needs an ISO 8601 date or date-time", op=op) from None
        return as_utc(parsed)
    if value is not None:
        raise _error("no_value", "'{op}' takes no 'value'", op=op)
    return None


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Group(_Node):
    """All (`and`) or any (`or`) of its rules."""

    type: Literal["group"] = "group"
    op: Literal["and", "or"] = "and"
    rules: list[Node] = Field(min_length=1, max_length=MAX_RULES)


class TagsRule(_Node):
    """Tags by name (matched folded: "khach vip" == "Khách VIP"). Unknown names match no tag."""

    type: Literal["tags"] = "tags"
    has: Literal["any", "all", "none"] = "any"
    tags: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        min_length=1, max_length=MAX_RULES
    )


class FieldRule(_Node):
    """A custom field (FieldDefinition.key); value types are checked against the workspace's
    definitions when the filter is compiled."""

    type: Literal["field"] = "field"
    key: str = Field(min_length=1, max_length=64, pattern=_KEY)
    op: FieldOp
    value: FieldValue | None = Field(default=None, validate_default=True)
    values: list[FieldValue] | None = Field(default=None, validate_default=True)

    @field_validator("value")
    @classmethod
    def _value_for_op(cls, value: FieldValue | None, info: ValidationInfo) -> FieldValue | None:
        op = info.data.get("op")
        if op is None:
            return value
        if op == "between" or op in _PRESENCE_OPS:
            if value is not None and op == "between":
                raise _BETWEEN_NO_VALUE
            if value is not None:
                raise _error("no_value", "'{op}' takes no 'value'", op=op)
        elif value is None:
            raise _error("needs_value", "'{op}' needs a 'value'", op=op)
        elif op == "contains" and (not isinstance(value, str) or not value):
            raise _error("needs_text", "'{op}' needs non-empty text", op=op)
        return value

    @field_validator("values")
    @classmethod
    def _values_for_op(
        cls, values: list[FieldValue] | None, info: ValidationInfo
    ) -> list[FieldValue] | None:
        op = info.data.get("op")
        if op is None:
            return values
        if op == "between":
            if values is None or len(values) != 2:
                raise _error("between_values", "'between' needs 'values': [low, high]")
        elif values is not None:
            raise _error("no_values", "'{op}' takes no 'values'", op=op)
        return values


class ChannelRule(_Node):
    """Has an identity on a channel account of one of these kinds."""

    type: Literal["channel"] = "channel"
    kinds: list[ChannelKind] = Field(min_length=1, max_length=10)


class MessageableRule(_Node):
    """Can get a standard message on this channel now: a reachable identity whose last
    inbound is inside the channel pack's window (channels without a window: any reachable
    identity)."""

    type: Literal["messageable"] = "messageable"
    channel: ChannelKind


class _TimeRule(_Node):
    """A moment compared with `op` (before / after / within_days / not_within_days)."""

    op: TimeOp
    value: Moment

    @field_validator("value", mode="before")
    @classmethod
    def _value_for_op(cls, value: Any, info: ValidationInfo) -> Any:
        op = info.data.get("op")
        return value if op is None else _moment(op, value)


class LastInteractionRule(_TimeRule):
    type: Literal["last_interaction"] = "last_interaction"


class HasPhoneRule(_Node):
    """Has (true) or has no (false) valid phone number."""

    type: Literal["has_phone"] = "has_phone"
    value: StrictBool = True


class SourceRule(_Node):
    """What brought the contact in: Contact.source[key] ("ref", "channel", "ad_id", ...)."""

    type: Literal["source"] = "source"
    key: str = Field(min_length=1, max_length=40, pattern=_KEY)
    op: Literal["eq", "ne", "contains", "is_set", "is_not_set"]
    value: StrictStr | None = Field(default=None, max_length=500, validate_default=True)

    @field_validator("value")
    @classmethod
    def _value_for_op(cls, value: str | None, info: ValidationInfo) -> str | None:
        op = info.data.get("op")
        if op is None:
            return value
        if op in _PRESENCE_OPS:
            if value is not None:
                raise _error("no_value", "'{op}' takes no 'value'", op=op)
        elif not value:
            raise _error("needs_text", "'{op}' needs non-empty text", op=op)
        return value


class OrdersRule(_Node):
    """Order stats: count and total_spent (minor units) compare numbers; last_order_at takes
    the time ops (before / after / within_days / not_within_days) or is_set / is_not_set."""

    type: Literal["orders"] = "orders"
    metric: Literal["count", "total_spent", "last_order_at"]
    op: OrderOp
    value: Moment | None = Field(default=None, validate_default=True)
    values: list[StrictInt] | None = Field(default=None, validate_default=True)

    @field_validator("op")
    @classmethod
    def _op_for_metric(cls, op: str, info: ValidationInfo) -> str:
        metric = info.data.get("metric")
        if metric == "last_order_at":
            if op not in _DAY_OPS | _INSTANT_OPS | _PRESENCE_OPS:
                raise _error(
                    "time_ops",
                    "{metric} takes before, after, within_days, not_within_days, "
                    "is_set or is_not_set",
                    metric=metric,
                )
        elif metric is not None and (op in _DAY_OPS | _INSTANT_OPS | _PRESENCE_OPS):
            raise _error(
                "number_ops", "{metric} takes eq, ne, gt, gte, lt, lte or between", metric=metric
            )
        return op

    @field_validator("value", mode="before")
    @classmethod
    def _value_for_op(cls, value: Any, info: ValidationInfo) -> Any:
        op = info.data.get("op")
        if op is None:
            return value
        if op in _DAY_OPS | _INSTANT_OPS | _PRESENCE_OPS:
            return _moment(op, value)
        if op == "between":
            if value is not None:
                raise _BETWEEN_NO_VALUE
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _error("whole_number", "'{op}' needs a whole number", op=op)
        return value

    @field_validator("values")
    @classmethod
    def _values_for_op(cls, values: list[int] | None, info: ValidationInfo) -> list[int] | None:
        op = info.data.get("op")
        if op is None:
            return values
        if op == "between":
            if values is None or len(values) != 2:
                raise _error("between_values", "'between' needs 'values': [low, high]")
        elif values is not None:
            raise _error("no_values", "'{op}' takes no 'values'", op=op)
        return values


class CreatedRule(_TimeRule):
    """When the contact was created."""

    type: Literal["created"] = "created"


class ConsentRule(_Node):
    """The current consent for a purpose; `unknown`: never asked (no consent row)."""

    type: Literal["consent"] = "consent"
    purpose: str = Field(min_length=1, max_length=30, pattern=_KEY)
    status: Literal["granted", "revoked", "unknown"]


Predicate = (
    TagsRule
    | FieldRule
    | ChannelRule
    | MessageableRule
    | LastInteractionRule
    | HasPhoneRule
    | SourceRule
    | OrdersRule
    | CreatedRule
    | ConsentRule
)
Node = Annotated[Group | Predicate, Field(discriminator="type")]
Filter = Node
NODE_TYPES = frozenset(
    {
        "group",
        "tags",
        "field",
        "channel",
        "messageable",
        "last_interaction",
        "has_phone",
        "source",
        "orders",
        "created",
        "consent",
    }
)
Group.model_rebuild()
_filter = TypeAdapter[Filter](Filter)


def walk(node: Filter, path: str = "filter", depth: int = 1) -> Iterator[tuple[Filter, str, int]]:
    """Every node with its path (filter.rules[2]) and its group depth (the root is 1)."""
    yield node, path, depth
    if isinstance(node, Group):
        for index, rule in enumerate(node.rules):
            yield from walk(rule, f"{path}.rules[{index}]", depth + 1)


def check_shape(node: Filter, path: str = "filter") -> Filter:
    """Limits pydantic cannot see locally: nesting depth and size of the whole tree."""
    predicates = 0
    for found, where, depth in walk(node, path):
        if isinstance(found, Group):
            if depth > MAX_DEPTH:
                raise FilterInvalid.at(
                    where,
                    f"groups nest deeper than {MAX_DEPTH} levels",
                    "too_deep",
                    max=MAX_DEPTH,
                )
        else:
            predicates += 1
    if predicates > MAX_PREDICATES:
        raise FilterInvalid.at(
            path,
            f"a filter holds at most {MAX_PREDICATES} predicates",
            "too_many",
            max=MAX_PREDICATES,
        )
    return node


def error_path(loc: Sequence[int | str], root: str = "") -> str:
    """Pydantic's loc as a readable path: ('body', 'filter', 'rules', 2, 'tags', 'op')
    -> 'filter.rules[2].op' (the union's tag in the loc is dropped)."""
    parts: list[str] = [root] if root else []
    union_next = bool(root)
    previous: int | str | None = None
    for index, item in enumerate(loc):
        if index == 0 and item == "body":
            continue
        if union_next and isinstance(item, str) and item in NODE_TYPES:
            union_next = False
            previous = item
            continue
        union_next = False
        if isinstance(item, int):
            if parts:
                parts[-1] += f"[{item}]"
            else:
                parts.append(f"[{item}]")
            union_next = previous == "rules"
        else:
            parts.append(item)
            union_next = item == "filter"
        previous = item
    return ".".join(parts)


def problems(errors: Sequence[ErrorDetails], root: str = "") -> list[Problem]:
    """Pydantic's errors as the room's problems: readable paths, pydantic's error type (or
    ours, from _error) as the code, its context as the params."""
    found: list[Problem] = []
    for error in errors:
        path = error_path(error["loc"], root)
        if error["type"] in {"union_tag_invalid", "union_tag_not_found"}:
            path = f"{path}.type" if path else "type"
        text = error["msg"].removeprefix("Value error, ")
        found.append(problem(path or root or "body", text, error["type"], error.get("ctx")))
    return found


def parse_filter(raw: Any, root: str = "filter") -> Filter:
    """A filter from untrusted data (a dict, or JSON text); FilterInvalid names the path."""
    try:
        if isinstance(raw, str | bytes):
            node = _filter.validate_json(raw)
        else:
            node = _filter.validate_python(raw)
        return check_shape(node, root)
    except ValidationError as exc:
        raise FilterInvalid.many(problems(exc.errors(), root)) from None
    except ValueError as exc:  # pragma: no cover - every check above raises its own error
        raise FilterInvalid.at(root, str(exc)) from None


def dump_filter(node: Filter) -> dict[str, Any]:
    dumped: dict[str, Any] = node.model_dump(mode="json", exclude_none=True)
    return dumped


@dataclass(frozen=True)
class FieldSpec:
    """A workspace's custom field, as the compiler needs it."""

    id: int
    key: str
    type: str  # text | number | date | boolean | choice
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Catalog:
    """The workspace's ids the compiler may inline: folded tag key -> tag id, channel kind ->
    account ids (only what the filter names needs to be here)."""

    tags: Mapping[str, int] = field(default_factory=dict)
    accounts: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def frozen(self) -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, tuple[int, ...]], ...]]:
        """The same ids, hashable (a key of compiled statements)."""
        return tuple(sorted(self.tags.items())), tuple(sorted(self.accounts.items()))


# --- I/O --------------------------------------------------------------------------------

FILTER_EXAMPLE: dict[str, Any] = {
    "type": "group",
    "op": "and",
    "rules": [
        {"type": "tags", "has": "any", "tags": ["VIP", "Khách quen"]},
        {"type": "messageable", "channel": "messenger"},
        {"type": "has_phone", "value": True},
        {
            "type": "group",
            "op": "or",
            "rules": [
                {"type": "last_interaction", "op": "within_days", "value": 30},
                {"type": "orders", "metric": "count", "op": "gte", "value": 2},
            ],
        },
        {"type": "field", "key": "city", "op": "eq", "value": "Hà Nội"},
        {"type": "consent", "purpose": "marketing", "status": "granted"},
    ],
}

_FilterField = Annotated[
    Filter, Field(description="The filter tree (see the schema)", examples=[FILTER_EXAMPLE])
]


def _name(value: str) -> str:
    clean = " ".join(nfc(value).split())
    if not clean:
        raise _error("name_empty", "the name is empty")
    return clean


class FilterIn(BaseModel):
    """An inline filter (count / preview without saving)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"filter": FILTER_EXAMPLE}]}
    )

    filter: _FilterField

    @field_validator("filter")
    @classmethod
    def _shape(cls, value: Filter) -> Filter:
        return check_shape(value)


class PreviewIn(FilterIn):
    limit: int = Field(default=20, ge=1, le=100)


class SegmentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "VIP nhắn được", "filter": FILTER_EXAMPLE}]},
    )

    name: str = Field(min_length=1, max_length=200)
    filter: _FilterField

    _clean_name = field_validator("name")(_name)

    @field_validator("filter")
    @classmethod
    def _shape(cls, value: Filter) -> Filter:
        return check_shape(value)


class SegmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    filter: Filter | None = None

    @field_validator("name")
    @classmethod
    def _clean_name(cls, value: str | None) -> str | None:
        return None if value is None else _name(value)

    @field_validator("filter")
    @classmethod
    def _shape(cls, value: Filter | None) -> Filter | None:
        return None if value is None else check_shape(value)


class SegmentOut(BaseModel):
    id: int
    name: str
    kind: Literal["filter", "static"]
    filter: Filter | None  # None for a static segment (an ID list)
    members: int | None = None  # static segments: how many contacts were put in
    created_at: datetime
    updated_at: datetime


class CountOut(BaseModel):
    count: int
    at: datetime = Field(description="The `now` the filter was evaluated at (windows move)")


class ContactRow(BaseModel):
    id: int
    name: str
    phones: list[str]  # valid phones, E.164
    tags: list[str]
    last_interaction_at: datetime | None
    created_at: datetime


class PreviewOut(BaseModel):
    items: list[ContactRow]
    limit: int
    at: datetime


class IdListIn(BaseModel):
    """Platform IDs (PSIDs, WhatsApp ids...) and/or phone numbers, one per line or item."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Khách hội chợ 11/2026",
                    "text": "0912 345 678\n+84 98 765 43 21\n2840193847561234",
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200)
    ids: list[Annotated[str, Field(max_length=320)]] = Field(
        default_factory=list, max_length=MAX_ID_LINES
    )
    text: str | None = Field(default=None, max_length=MAX_ID_LINES * 40)

    _clean_name = field_validator("name")(_name)

    def lines(self) -> list[str]:
        """Trimmed, non-empty, de-duplicated, in input order."""
        raw = [*self.ids, *(self.text.splitlines() if self.text else [])]
        seen: dict[str, None] = {}
        for line in raw:
            clean = nfc(line).strip()
            if clean:
                seen.setdefault(clean, None)
        return list(seen)


class IdListOut(BaseModel):
    segment_id: int
    name: str
    lines: int  # distinct non-empty lines
    matched_lines: int
    contacts: int  # members of the new static segment
    unmatched: list[str]  # lines that matched nobody, in input order


ContactSort = Literal[
    "-last_interaction_at",
    "last_interaction_at",
    "-created_at",
    "created_at",
    "name",
    "-name",
    "-total_spent",
    "-order_count",
]


def date_of(value: FieldValue) -> date | None:
    """A field value given for a date field: ISO text (YYYY-MM-DD)."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None

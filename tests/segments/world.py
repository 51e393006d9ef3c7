"""Random contacts written with the ORM, kept in memory too, and a brute-force Python evaluation
of the filter semantics (schemas.py docstring) to check the SQL compiler against."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chatcart.kit.db import transaction
from chatcart.kit.textnorm import fold
from chatcart.models import (
    ChannelAccount,
    Contact,
    ContactConsent,
    ContactFieldValue,
    ContactIdentity,
    ContactPoint,
    ContactTag,
    FieldDefinition,
    Tag,
)
from chatcart.policy import service as policy
from chatcart.runtime import Runtime
from chatcart.segments.schemas import FieldSpec
from tests.helpers.factory import make_shop

NOW = datetime(2026, 11, 20, 12, 0, 0, 123456, tzinfo=UTC)
US = timedelta(microseconds=1)
KINDS = ("webchat", "messenger", "instagram")
TAG_NAMES = ("VIP", "Khách quen", "sỉ", "Đà Nẵng", "mới")
FIELDS: dict[str, tuple[str, list[str] | None]] = {
    "city": ("text", None),
    "size": ("choice", ["S", "M", "L", "XL"]),
    "score": ("number", None),
    "birthday": ("date", None),
    "wholesale": ("boolean", None),
}
CITIES = ("Hà Nội", "hà nội", "HCM", "Đà Nẵng", "đà nẵng", "Huế", "ha noi", "100% cotton_x")
SCORES = (-2.0, 0.0, 1.5, 3.0, 7.0, 10.0)
BIRTHDAYS = (date(1990, 1, 1), date(1995, 6, 15), date(2000, 2, 29), date(2001, 12, 31))
SOURCE_VALUES: dict[str, tuple[str, ...]] = {
    "channel": ("webchat", "messenger"),
    "ref": ("sale1111", "Sale-Tet", "fb_ad", "SALE1111"),
    "ad_id": ("123", "456"),
}
PURPOSES = ("marketing", "updates")
EDGE_DAYS = (0, 1, 2, 7, 30, 31, 60, 90)  # the day counts the filters use
NAMES = ("Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng", "Phạm Ðức", "Võ Thu Hà", "Maria Santos")


def moments(rng: random.Random) -> datetime:
    """A time near NOW, often exactly on a day/hour edge so edges get tested."""
    choice = rng.random()
    if choice < 0.4:
        return NOW - timedelta(days=rng.choice(EDGE_DAYS))
    if choice < 0.5:
        return NOW - timedelta(days=rng.choice(EDGE_DAYS)) - US
    if choice < 0.55:
        return NOW + timedelta(hours=rng.randint(1, 5))  # clock skew: in the future
    return NOW - timedelta(seconds=rng.randint(0, 90 * 86400))


@dataclass
class Person:
    id: int
    workspace_id: int
    name: str
    created_at: datetime
    last_interaction_at: datetime | None
    order_count: int
    total_spent: int
    last_order_at: datetime | None
    source: dict[str, str]
    merged_into_id: int | None = None
    tags: set[str] = field(default_factory=set)  # folded keys
    fields: dict[str, Any] = field(default_factory=dict)  # key -> value (None: row, no value)
    identities: list[tuple[str, datetime | None, bool]] = field(default_factory=list)
    valid_phone: bool = False
    consents: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    workspace_id: int
    other_workspace_id: int
    people: list[Person]
    fields: dict[str, FieldSpec]
    api_token: str

    def expected(self, node: dict[str, Any], now: datetime = NOW) -> set[int]:
        return {
            p.id
            for p in self.people
            if p.workspace_id == self.workspace_id
            and p.merged_into_id is None
            and evaluate(node, p, now)
        }


async def build_world(runtime: Runtime, seed: int = 7, per_workspace: int = 90) -> World:
    rng = random.Random(seed)
    shop = await make_shop(runtime, slug="seg")
    other = await make_shop(runtime, slug="seg-other", name="Other")
    people: list[Person] = []
    specs: dict[str, FieldSpec] = {}
    async with transaction(runtime.sessions) as session:
        for ws, widget_id in ((shop.workspace_id, shop.widget_account_id), (other.workspace_id, 0)):
            accounts: dict[str, int] = {}
            for kind in KINDS:
                if kind == "webchat" and widget_id:
                    accounts[kind] = widget_id
                    continue
                account = ChannelAccount(
                    workspace_id=ws, kind=kind, name=kind, external_id=f"{kind}-{ws}"
                )
                session.add(account)
                await session.flush()
                accounts[kind] = account.id
            tags: dict[str, int] = {}
            for name in TAG_NAMES:
                tag = Tag(workspace_id=ws, name=name, key=fold(name))
                session.add(tag)
                await session.flush()
                tags[tag.key] = tag.id
            field_ids: dict[str, int] = {}
            for key, (type_, choices) in FIELDS.items():
                definition = FieldDefinition(
                    workspace_id=ws, key=key, label=key.title(), type=type_, choices=choices
                )
                session.add(definition)
                await session.flush()
                field_ids[key] = definition.id
                if ws == shop.workspace_id:
                    specs[key] = FieldSpec(
                        definition.id, key, type_, tuple(choices) if choices else None
                    )
            mine: list[Person] = []
            for n in range(per_workspace):
                count = rng.choice((0, 0, 1, 2, 3, 5))
                person = Person(
                    id=0,
                    workspace_id=ws,
                    name=rng.choice(NAMES),
                    created_at=moments(rng) - timedelta(days=rng.choice((0, 30, 200))),
                    last_interaction_at=None if rng.random() < 0.2 else moments(rng),
                    order_count=count,
                    total_spent=0 if count == 0 else rng.choice((50_000, 120_000, 2_000_000)),
                    last_order_at=None if count == 0 else moments(rng),
                    source={
                        key: rng.choice(values)
                        for key, values in SOURCE_VALUES.items()
                        if rng.random() < 0.5
                    },
                )
                row = Contact(
                    workspace_id=ws,
                    name=person.name,
                    created_at=person.created_at,
                    last_interaction_at=person.last_interaction_at,
                    order_count=person.order_count,
                    total_spent=person.total_spent,
                    last_order_at=person.last_order_at,
                    source=person.source,
                    search_text=fold(person.name),
                )
                session.add(row)
                await session.flush()
                person.id = row.id
                for kind in KINDS:
                    if rng.random() < 0.45:
                        hours = policy.rules_for(kind).window
                        span = timedelta(hours=hours.hours if hours else 24)
                        inbound = rng.choice(
                            (None, NOW - span, NOW - span - US, NOW - span + US, moments(rng))
                        )
                        reachable = rng.random() < 0.8
                        person.identities.append((kind, inbound, reachable))
                        session.add(
                            ContactIdentity(
                                workspace_id=ws,
                                contact_id=row.id,
                                channel_account_id=accounts[kind],
                                external_id=f"{kind}-{ws}-{n}",
                                last_inbound_at=inbound,
                                reachable=reachable,
                            )
                        )
                roll = rng.random()
                if roll < 0.6:
                    valid = roll < 0.45
                    person.valid_phone = valid
                    value = f"+8491{rng.randint(1000000, 9999999)}" if valid else "0912 34"
                    session.add(_point(ws, row.id, "phone", value, valid))
                if rng.random() < 0.3:
                    session.add(_point(ws, row.id, "email", f"p{n}@example.test", True))
                for key, tag_id in tags.items():
                    if rng.random() < 0.3:
                        person.tags.add(key)
                        session.add(ContactTag(contact_id=row.id, tag_id=tag_id))
                for key, (type_, choices) in FIELDS.items():
                    if rng.random() < 0.6:
                        value = None if rng.random() < 0.08 else _field_value(rng, type_, choices)
                        person.fields[key] = value
                        session.add(_field_row(row.id, field_ids[key], type_, value))
                for purpose in PURPOSES:
                    status = rng.choice(("granted", "revoked", None))
                    if status:
                        person.consents[purpose] = status
                        session.add(
                            ContactConsent(
                                contact_id=row.id,
                                purpose=purpose,
                                status=status,
                                source="test",
                                updated_at=NOW,
                            )
                        )
                mine.append(person)
            await session.flush()
            # Some contacts were merged into another: never members of anything.
            for person in rng.sample(mine[10:], k=len(mine) // 12):
                target = rng.choice(mine[:10])
                person.merged_into_id = target.id
                row = await session.get(Contact, person.id)
                assert row is not None
                row.merged_into_id = target.id
            people.extend(mine)
    return World(shop.workspace_id, other.workspace_id, people, specs, shop.api_token)


def _point(ws: int, contact_id: int, kind: str, value: str, valid: bool) -> ContactPoint:
    return ContactPoint(
        workspace_id=ws,
        contact_id=contact_id,
        kind=kind,
        value=value,
        raw=value,
        valid=valid,
        source="manual",
        first_seen_at=NOW,
        last_seen_at=NOW,
    )


def _field_value(rng: random.Random, type_: str, choices: list[str] | None) -> Any:
    if type_ == "text":
        return rng.choice(CITIES)
    if type_ == "choice":
        assert choices
        return rng.choice(choices)
    if type_ == "number":
        return rng.choice(SCORES)
    if type_ == "date":
        return rng.choice(BIRTHDAYS)
    return rng.random() < 0.5


def _field_row(contact_id: int, field_id: int, type_: str, value: Any) -> ContactFieldValue:
    row = ContactFieldValue(contact_id=contact_id, field_id=field_id)
    if type_ in {"text", "choice"}:
        row.value_text = value
    elif type_ == "number":
        row.value_number = value
    elif type_ == "date":
        row.value_date = value
    else:
        row.value_bool = value
    return row


# --- the brute-force evaluation ----------------------------------------------------------


def _ascii_lower(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _time(moment: datetime | None, op: str, value: Any, now: datetime) -> bool:
    if op == "is_set":
        return moment is not None
    if op == "is_not_set":
        return moment is None
    if op == "not_within_days":
        return moment is None or moment < now - timedelta(days=value)
    if moment is None:
        return False
    if op == "within_days":
        return moment >= now - timedelta(days=value)
    if op == "before":
        return moment < _instant(value)
    assert op == "after"
    return moment > _instant(value)


def _compare(actual: Any, op: str, value: Any, values: list[Any] | None) -> bool:
    if op == "eq":
        return bool(actual == value)
    if op == "ne":
        return bool(actual != value)
    if op == "gt":
        return bool(actual > value)
    if op == "gte":
        return bool(actual >= value)
    if op == "lt":
        return bool(actual < value)
    if op == "lte":
        return bool(actual <= value)
    assert op == "between"
    assert values is not None
    return bool(values[0] <= actual <= values[1])


def evaluate(node: dict[str, Any], p: Person, now: datetime) -> bool:
    kind = node["type"]
    if kind == "group":
        results = [evaluate(rule, p, now) for rule in node["rules"]]
        return all(results) if node.get("op", "and") == "and" else any(results)
    if kind == "tags":
        wanted = {fold(t) for t in node["tags"]}
        has = node.get("has", "any")
        if has == "any":
            return bool(wanted & p.tags)
        if has == "all":
            return wanted <= p.tags
        return not (wanted & p.tags)
    if kind == "field":
        key, op = node["key"], node["op"]
        actual = p.fields.get(key)  # None: no row, or a row without a value
        if op == "is_set":
            return actual is not None
        if op == "is_not_set":
            return actual is None
        type_ = FIELDS[key][0]
        value = node.get("value")
        values = node.get("values")
        if type_ == "date":
            value = date.fromisoformat(value) if value is not None else None
            values = [date.fromisoformat(v) for v in values] if values else None
        if op == "ne":
            return actual is None or actual != value
        if actual is None:
            return False
        if op == "contains":
            return _ascii_lower(value) in _ascii_lower(actual)
        return _compare(actual, op, value, values)
    if kind == "channel":
        return any(k in node["kinds"] for k, _, _ in p.identities)
    if kind == "messageable":
        window = policy.rules_for(node["channel"]).window
        for k, inbound, reachable in p.identities:
            if k != node["channel"] or not reachable:
                continue
            if window is None:
                return True
            if inbound is not None and now - inbound <= window.span:
                return True
        return False
    if kind == "last_interaction":
        return _time(p.last_interaction_at, node["op"], node["value"], now)
    if kind == "has_phone":
        return p.valid_phone == node.get("value", True)
    if kind == "source":
        actual = p.source.get(node["key"])
        op = node["op"]
        if op == "is_set":
            return actual is not None
        if op == "is_not_set":
            return actual is None
        if op == "eq":
            return actual == node["value"]
        if op == "ne":
            return actual != node["value"]
        return actual is not None and _ascii_lower(node["value"]) in _ascii_lower(actual)
    if kind == "orders":
        metric, op = node["metric"], node["op"]
        if metric == "last_order_at":
            return _time(p.last_order_at, op, node.get("value"), now)
        actual = p.order_count if metric == "count" else p.total_spent
        return _compare(actual, op, node.get("value"), node.get("values"))
    if kind == "created":
        return _time(p.created_at, node["op"], node["value"], now)
    if kind == "consent":
        status = p.consents.get(node["purpose"])
        return (status or "unknown") == node["status"]
    raise AssertionError(f"unknown node {kind}")

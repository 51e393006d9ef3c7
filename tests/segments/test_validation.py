"""Bad filters are a 422 (FilterInvalid) that names the offending path."""

from __future__ import annotations

from typing import Any

import pytest

from chatcart.kit.db import transaction
from chatcart.kit.errors import ValidationFailed
from chatcart.runtime import Runtime
from chatcart.segments import service
from chatcart.segments.errors import FilterInvalid
from chatcart.segments.schemas import MAX_DEPTH, SegmentCreate, parse_filter
from tests.helpers.factory import make_shop
from tests.segments import helpers as h


def _paths(error: FilterInvalid) -> list[str]:
    return [f["field"] for f in error.details["fields"]]


def _and(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"type": "group", "op": "and", "rules": list(rules)}


TAGS = {"type": "tags", "has": "any", "tags": ["VIP"]}


@pytest.mark.parametrize(
    ("raw", "path", "words"),
    [
        (
            _and(TAGS, TAGS, {"type": "tags", "has": "some", "tags": ["x"]}),
            "filter.rules[2].has",
            "any",
        ),
        (
            _and(TAGS, {"type": "field", "key": "city", "op": "like", "value": "x"}),
            "filter.rules[1].op",
            "eq",
        ),
        (
            _and({"type": "last_interaction", "op": "since", "value": 3}),
            "filter.rules[0].op",
            "within_days",
        ),
        (_and({"type": "bogus"}), "filter.rules[0].type", "bogus"),
        (_and({"op": "and"}), "filter.rules[0].type", "discriminator"),
        (_and({"type": "group", "op": "xor", "rules": [TAGS]}), "filter.rules[0].op", "and"),
        (_and({"type": "group", "rules": []}), "filter.rules[0].rules", "at least 1"),
        (_and({"type": "group", "rules": TAGS}), "filter.rules[0].rules", "list"),
        (_and({**TAGS, "colour": "red"}), "filter.rules[0].colour", "Extra"),
        (
            _and({"type": "last_interaction", "op": "within_days", "value": "a week"}),
            "filter.rules[0].value",
            "whole number",
        ),
        (
            _and({"type": "created", "op": "before", "value": "yesterday"}),
            "filter.rules[0].value",
            "ISO 8601",
        ),
        (
            _and({"type": "orders", "metric": "count", "op": "within_days", "value": 3}),
            "filter.rules[0].op",
            "count takes",
        ),
        (
            _and({"type": "orders", "metric": "total_spent", "op": "gt", "value": "lots"}),
            "filter.rules[0].value",
            "whole number",
        ),
        (
            _and({"type": "field", "key": "score", "op": "between", "values": [1]}),
            "filter.rules[0].values",
            "low, high",
        ),
        (
            _and({"type": "field", "key": "score", "op": "is_set", "value": 1}),
            "filter.rules[0].value",
            "takes no",
        ),
        (
            _and({"type": "field", "key": "Bad Key", "op": "is_set"}),
            "filter.rules[0].key",
            "pattern",
        ),
        (_and({"type": "has_phone", "value": "yes"}), "filter.rules[0].value", "boolean"),
        (_and({"type": "channel", "kinds": ["myspace"]}), "filter.rules[0].kinds[0]", "messenger"),
        (_and({"type": "source", "key": "ref", "op": "eq"}), "filter.rules[0].value", "non-empty"),
        (
            _and({"type": "consent", "purpose": "marketing", "status": "maybe"}),
            "filter.rules[0].status",
            "granted",
        ),
        (
            _and(TAGS, _and(TAGS, {"type": "tags", "has": "all", "tags": []})),
            "filter.rules[1].rules[1].tags",
            "at least 1",
        ),
        ({"type": "tags", "has": "all"}, "filter.tags", "required"),
        ([TAGS], "filter", "object"),
    ],
)
def test_structural_errors_name_the_path(raw: Any, path: str, words: str) -> None:
    with pytest.raises(FilterInvalid) as caught:
        parse_filter(raw)
    error = caught.value
    assert error.status_code == 422
    assert path in _paths(error), _paths(error)
    problem = next(f["problem"] for f in error.details["fields"] if f["field"] == path)
    assert words.lower() in problem.lower(), problem
    assert error.message.startswith(_paths(error)[0])


def test_nesting_too_deep() -> None:
    node: dict[str, Any] = TAGS
    for _ in range(MAX_DEPTH):
        node = _and(node)
    parse_filter(node)  # exactly MAX_DEPTH groups
    with pytest.raises(FilterInvalid) as caught:
        parse_filter(_and(node))
    assert _paths(caught.value) == ["filter" + ".rules[0]" * MAX_DEPTH]  # the group too deep
    assert "deeper than" in caught.value.message
    assert "filter.rules[0].rules[0].rules[0].rules[0].rules[0]" in caught.value.message


def test_json_text_is_parsed_too() -> None:
    assert parse_filter('{"type": "has_phone"}').type == "has_phone"
    with pytest.raises(FilterInvalid) as caught:
        parse_filter("{not json")
    assert _paths(caught.value) == ["filter"]


async def _workspace(runtime: Runtime) -> int:
    shop = await make_shop(runtime)
    async with transaction(runtime.sessions) as session:
        await h.field(session, shop.workspace_id, "city", "text")
        await h.field(session, shop.workspace_id, "score", "number")
        await h.field(session, shop.workspace_id, "birthday", "date")
        await h.field(session, shop.workspace_id, "wholesale", "boolean")
        await h.field(session, shop.workspace_id, "size", "choice", ["S", "M"])
    return shop.workspace_id


@pytest.mark.parametrize(
    ("rule", "path", "words"),
    [
        (
            {"type": "field", "key": "colour", "op": "eq", "value": "red"},
            "key",
            "no custom field 'colour'",
        ),
        ({"type": "field", "key": "score", "op": "gt", "value": "ten"}, "value", "number field"),
        ({"type": "field", "key": "score", "op": "eq", "value": True}, "value", "number field"),
        ({"type": "field", "key": "city", "op": "eq", "value": 12}, "value", "text field"),
        (
            {"type": "field", "key": "birthday", "op": "gt", "value": "31/12/2000"},
            "value",
            "YYYY-MM-DD",
        ),
        (
            {"type": "field", "key": "birthday", "op": "between", "values": ["2000-01-01", 5]},
            "values[1]",
            "date field",
        ),
        (
            {"type": "field", "key": "wholesale", "op": "eq", "value": "yes"},
            "value",
            "true or false",
        ),
        ({"type": "field", "key": "size", "op": "eq", "value": "XXL"}, "value", "not a choice"),
        ({"type": "field", "key": "score", "op": "contains", "value": "1"}, "op", "number field"),
        ({"type": "field", "key": "wholesale", "op": "gt", "value": True}, "op", "boolean field"),
        (
            {"type": "field", "key": "score", "op": "between", "values": [5, 1]},
            "values",
            "low <= high",
        ),
        (
            {"type": "orders", "metric": "count", "op": "between", "values": [5, 1]},
            "values",
            "low <= high",
        ),
        ({"type": "messageable", "channel": "whatsapp"}, "channel", "no messaging rules"),
    ],
)
async def test_compile_errors_name_the_field(
    runtime: Runtime, rule: dict[str, Any], path: str, words: str
) -> None:
    ws = await _workspace(runtime)
    raw = _and({"type": "has_phone"}, rule)
    async with runtime.sessions() as session:
        with pytest.raises(FilterInvalid) as caught:
            await service.count(session, ws, raw)
        with pytest.raises(FilterInvalid) as on_save:
            await service.create(session, ws, SegmentCreate(name="x", filter=parse_filter(raw)))
    assert _paths(caught.value) == [f"filter.rules[1].{path}"]
    assert words in caught.value.message, caught.value.message
    assert _paths(on_save.value) == [f"filter.rules[1].{path}"]
    assert isinstance(caught.value, ValidationFailed)


async def test_fields_are_per_workspace(runtime: Runtime) -> None:
    await _workspace(runtime)
    other = await make_shop(runtime, slug="other")
    rule = {"type": "field", "key": "city", "op": "is_set"}
    async with runtime.sessions() as session:
        with pytest.raises(FilterInvalid) as caught:
            await service.count(session, other.workspace_id, rule)
    assert _paths(caught.value) == ["filter.key"]

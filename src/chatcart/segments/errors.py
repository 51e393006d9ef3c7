"""Errors of the segments room (each carries its HTTP status; main.py maps them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict

from chatcart.kit.errors import Conflict, NotFound, ValidationFailed

Param = str | int | float


class Problem(TypedDict):
    """One thing wrong with a filter: where, what (English), and what as data, so a UI can
    say it in its own language (web/filter_problems.py does, for the admin)."""

    field: str  # the path: filter.rules[2].op
    problem: str  # in English, for API clients and logs
    code: str  # stable: pydantic's error type ("missing", "literal_error") or ours
    params: dict[str, Param]  # the values the problem names ({"op": "between"})


def problem(
    field: str, text: str, code: str, params: Mapping[str, object] | None = None
) -> Problem:
    """A Problem, its params kept to what JSON and a message template can carry."""
    kept = {
        key: value if isinstance(value, str | int | float) else str(value)
        for key, value in (params or {}).items()
    }
    return Problem(field=field, problem=text, code=code, params=kept)


class FilterInvalid(ValidationFailed):
    """A filter that cannot be compiled: names the offending path, e.g. filter.rules[2].op."""

    code = "filter_invalid"

    @classmethod
    def at(cls, field: str, text: str, code: str = "invalid", **params: object) -> FilterInvalid:
        return cls.many([problem(field, text, code, params)])

    @classmethod
    def many(cls, problems: Sequence[Problem]) -> FilterInvalid:
        fields = list(problems) or [problem("filter", "invalid filter", "invalid")]
        return cls(f"{fields[0]['field']}: {fields[0]['problem']}", fields=fields)


class SegmentNotFound(NotFound):
    code = "segment_not_found"


class SegmentNameTaken(Conflict):
    code = "segment_name_taken"


class StaticSegmentHasNoFilter(ValidationFailed):
    code = "static_segment_has_no_filter"

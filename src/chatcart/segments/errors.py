"""Errors of the segments room (each carries its HTTP status; main.py maps them)."""

from __future__ import annotations

from collections.abc import Sequence

from chatcart.kit.errors import Conflict, NotFound, ValidationFailed


class FilterInvalid(ValidationFailed):
    """A filter that cannot be compiled: names the offending path, e.g. filter.rules[2].op."""

    code = "filter_invalid"

    @classmethod
    def at(cls, field: str, problem: str) -> FilterInvalid:
        return cls.many([(field, problem)])

    @classmethod
    def many(cls, problems: Sequence[tuple[str, str]]) -> FilterInvalid:
        fields = [{"field": field, "problem": problem} for field, problem in problems]
        first = fields[0] if fields else {"field": "filter", "problem": "invalid filter"}
        return cls(f"{first['field']}: {first['problem']}", fields=fields)


class SegmentNotFound(NotFound):
    code = "segment_not_found"


class SegmentNameTaken(Conflict):
    code = "segment_name_taken"


class StaticSegmentHasNoFilter(ValidationFailed):
    code = "static_segment_has_no_filter"

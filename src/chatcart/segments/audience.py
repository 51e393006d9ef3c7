"""An audience as the segments room runs it: a select of Contact.id kept across calls, and
this call's values of the parameters that move with the clock.

SQLAlchemy reuses a statement's compiled SQL only after walking the statement to find its
cache key, and building one from a filter costs ~0.5 ms more; on SQLite a first page takes
~2 ms of SQL, so a preview or a count would spend as long in Python as in the database.
Kept statements (compiler.audience caches them per filter) have their cache key already
computed; run them, and what is derived from them (the count, the first page: `derive`,
kept alongside), as `session.execute(statement, audience.params)`. `derived` also notes
what was learnt running them (when the first page's walk last came up short).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select

__all__ = ["Audience"]

Derived = TypeVar("Derived")
DERIVED_KEPT = 16  # statements derived from one audience (pages at several offsets...)


@dataclass(frozen=True)
class Audience:
    """`select` with its clock parameters at their values for this call in `params`."""

    select: Select[int]
    params: Mapping[str, datetime] = field(default_factory=dict)
    # Shared by every call that gets the same kept select: what was derived from it.
    derived: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    def derive(self, key: Hashable, build: Callable[[Select[int]], Derived]) -> Derived:
        """build(select), kept under `key` with the select (build must depend on `key` and
        the select alone)."""
        if key not in self.derived:
            if len(self.derived) >= DERIVED_KEPT:
                self.derived.clear()
            self.derived[key] = build(self.select)
        found: Derived = self.derived[key]
        return found

    def bound(self) -> Select[int]:
        """The select with this call's values in it, to embed in another statement."""
        return self.select.params(dict(self.params)) if self.params else self.select

"""Spin text: variables and alternatives in a broadcast's text. Pure: no I/O, no database.

Syntax (everything between double braces):

    {{first_name}}                    a contact variable (full_name, first_name, last_name,
                                      or a custom field key of the workspace)
    {{city|default:"bạn"}}           a variable with the text used when the contact has none
    {{Hello|Xin chào|Chào}}           one alternative, picked at random per recipient
    {{Hi|{{Chào|Xin chào}} {{first_name}}}}   alternatives nest, and may hold variables

A single `{` or `}` is plain text. `|` outside double braces is plain text. Errors name the
character position (0-based) where the problem is, so the composer can point at it.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import product

# Variables every contact has; custom field keys are added by the caller.
STANDARD_VARIABLES: frozenset[str] = frozenset({"full_name", "first_name", "last_name"})

_VARIABLE = re.compile(
    r"\{\{\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*"
    r"(?:\|\s*default\s*:\s*\"(?P<default>(?:[^\"\\]|\\.)*)\"\s*)?\}\}"
)
_UNESCAPE = re.compile(r"\\(.)")
# Exact distinct counting enumerates the renderings; above this many it gives the upper bound.
EXACT_COUNT_LIMIT = 10_000


class SpinSyntaxError(ValueError):
    """A template that cannot be sent as written; `position` is a 0-based character index."""

    def __init__(self, message: str, position: int, code: str) -> None:
        super().__init__(f"{message} (position {position})")
        self.message = message
        self.position = position
        # unbalanced_open | unbalanced_close | empty_alternative | unknown_variable
        self.code = code


@dataclass(frozen=True, slots=True)
class Text:
    value: str


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    default: str | None
    position: int


@dataclass(frozen=True, slots=True)
class Alternatives:
    options: tuple[Sequence, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Sequence:
    parts: tuple[Text | Variable | Alternatives, ...]


Node = Text | Variable | Alternatives


class _Parser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0

    def sequence(self, depth: int) -> Sequence:
        parts: list[Node] = []
        buf: list[str] = []
        src = self.src
        while self.pos < len(src):
            if src.startswith("{{", self.pos):
                if buf:
                    parts.append(Text("".join(buf)))
                    buf = []
                parts.append(self.braces(depth))
                continue
            if depth and (src.startswith("}}", self.pos) or src[self.pos] == "|"):
                break
            if not depth and src.startswith("}}", self.pos):
                raise SpinSyntaxError(
                    "'}}' closes nothing: an opening '{{' is missing", self.pos, "unbalanced_close"
                )
            buf.append(src[self.pos])
            self.pos += 1
        if buf:
            parts.append(Text("".join(buf)))
        return Sequence(tuple(parts))

    def braces(self, depth: int) -> Node:
        start = self.pos
        found = _VARIABLE.match(self.src, start)
        if found is not None:
            self.pos = found.end()
            default = found.group("default")
            if default is not None:
                default = _UNESCAPE.sub(r"\1", default)
            return Variable(found.group("name"), default, start)
        self.pos += 2
        options: list[Sequence] = []
        while True:
            option_start = self.pos
            option = self.sequence(depth + 1)
            if not option.parts or all(
                isinstance(p, Text) and not p.value.strip() for p in option.parts
            ):
                raise SpinSyntaxError(
                    "an alternative is empty: write something between the '|'",
                    option_start,
                    "empty_alternative",
                )
            options.append(option)
            if self.pos >= len(self.src):
                raise SpinSyntaxError(
                    "'{{' is never closed: a closing '}}' is missing", start, "unbalanced_open"
                )
            if self.src[self.pos] == "|":
                self.pos += 1
                continue
            self.pos += 2  # "}}"
            return Alternatives(tuple(options), start)


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: render it per contact, count its variants."""

    source: str
    root: Sequence

    def variables(self) -> list[Variable]:
        found: list[Variable] = []
        _walk_variables(self.root, found)
        return found

    def render(self, values: Mapping[str, str | None], rng: random.Random) -> str:
        return _render(self.root, values, rng.randrange)

    def render_with(self, values: Mapping[str, str | None], pick: Callable[[int], int]) -> str:
        """Render with an injected choice: pick(n) returns the index of the option among n."""
        return _render(self.root, values, pick)

    def variant_upper_bound(self) -> int:
        return _bound(self.root)

    def variant_count(self) -> int:
        """Distinct texts the alternatives can make (variables count as one text each):
        exact up to EXACT_COUNT_LIMIT, the upper bound above it."""
        bound = self.variant_upper_bound()
        if bound > EXACT_COUNT_LIMIT:
            return bound
        return len(set(self.variants()))

    def variants(self) -> Iterable[str]:
        """Every rendering, variables shown as {{name}} (for counting and tests)."""
        return _expand(self.root)


def parse(source: str, known: Iterable[str] | None = None) -> Template:
    """Parse (NFC-normalised) text. `known`: variable names that exist; None skips the check.
    A variable that is not known is an error unless it has a default."""
    text = unicodedata.normalize("NFC", source)
    parser = _Parser(text)
    root = parser.sequence(0)
    template = Template(text, root)
    if known is not None:
        names = set(known) | STANDARD_VARIABLES
        for variable in template.variables():
            if variable.name not in names and variable.default is None:
                raise SpinSyntaxError(
                    f"unknown variable {{{{{variable.name}}}}}: no contact field has this name; "
                    f'add a default like {{{{{variable.name}|default:"..."}}}}',
                    variable.position,
                    "unknown_variable",
                )
    return template


def seeded_rng(broadcast_id: int, contact_id: int) -> random.Random:
    """The same broadcast and contact always render the same text (string seeds are hashed
    with SHA-512 by `random`, stable across processes and PYTHONHASHSEED)."""
    return random.Random(f"bc:{broadcast_id}:{contact_id}")  # noqa: S311 (variety, not secrecy)


def _walk_variables(seq: Sequence, found: list[Variable]) -> None:
    for part in seq.parts:
        if isinstance(part, Variable):
            found.append(part)
        elif isinstance(part, Alternatives):
            for option in part.options:
                _walk_variables(option, found)


def _render(seq: Sequence, values: Mapping[str, str | None], pick: Callable[[int], int]) -> str:
    out: list[str] = []
    for part in seq.parts:
        if isinstance(part, Text):
            out.append(part.value)
        elif isinstance(part, Variable):
            value = values.get(part.name)
            out.append(value if value else (part.default or ""))
        else:
            options = part.options
            chosen = options[pick(len(options))] if len(options) > 1 else options[0]
            out.append(_render(chosen, values, pick))
    return "".join(out)


def _bound(seq: Sequence) -> int:
    total = 1
    for part in seq.parts:
        if isinstance(part, Alternatives):
            total *= sum(_bound(option) for option in part.options)
    return total


def _expand(seq: Sequence) -> list[str]:
    choices: list[list[str]] = []
    for part in seq.parts:
        if isinstance(part, Text):
            choices.append([part.value])
        elif isinstance(part, Variable):
            choices.append(["{{" + part.name + "}}"])
        else:
            choices.append([text for option in part.options for text in _expand(option)])
    return ["".join(combo) for combo in product(*choices)]

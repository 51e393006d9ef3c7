"""CSV bytes to records that know their line, and the drafts the format parsers fill."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from chatcart.catalog.errors import ImportUnreadable
from chatcart.catalog.schemas import ProductIn, RowProblem
from chatcart.kit.money import AmountInvalid, parse_minor
from chatcart.kit.textnorm import nfc

_EXCEL_HINT = 'In Excel choose "CSV UTF-8 (Comma delimited)"; shops export UTF-8 already.'


def decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportUnreadable(f"the file is UTF-16, not UTF-8. {_EXCEL_HINT}")
    skipped = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[skipped:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = skipped + exc.start
        line = data.count(b"\n", 0, at) + 1
        raise ImportUnreadable(
            f"the file is not UTF-8: line {line} has byte 0x{data[at]:02x} that UTF-8 cannot "
            f"read (saved as Windows-1258 or Latin-1?). {_EXCEL_HINT}",
            line=line,
        ) from exc
    if "\x00" in text:
        raise ImportUnreadable(f"the file holds NUL characters (UTF-16?). {_EXCEL_HINT}")
    return nfc(text)


@dataclass
class Record:
    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "").strip()


def records(text: str, required: Sequence[str]) -> Iterator[Record]:
    """Records keyed by header name; a missing required column stops the whole file."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ImportUnreadable("the file is empty") from None
    except csv.Error as exc:
        raise ImportUnreadable(f"line 1 cannot be read: {exc}", line=1) from exc
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportUnreadable(
            f"missing columns: {', '.join(missing)} (is this the right --format?)",
            missing=missing,
        )
    start = 2
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportUnreadable(
                f"broken quoting at line {start}: {exc}; a value holding a comma, a quote or "
                'a line break must be in double quotes, its own quotes doubled ("")',
                line=start,
            ) from exc
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        yield Record(line, dict(zip(header, cells, strict=False)))


@dataclass
class Draft:
    """One product as read from its rows, before anything is written."""

    line: int
    handle: str
    fields: dict[str, Any] = field(default_factory=dict)
    variants: list[dict[str, Any]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def problem(self, line: int, column: str | None, text: str) -> None:
        self.problems.append(RowProblem(line=line, column=column, problem=text))

    def price(self, record: Record, column: str, currency: str, *, required: bool) -> int | None:
        raw = record.get(column)
        if not raw:
            if required:
                self.problem(record.line, column, "the price is empty")
            return None
        try:
            return parse_minor(raw, currency)
        except AmountInvalid as exc:
            self.problem(record.line, column, str(exc))
            return None

    def count(self, record: Record, column: str) -> int | None:
        raw = record.get(column)
        if not raw:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite() or value != value.to_integral_value():
            self.problem(record.line, column, f"{raw!r} is not a whole number")
            return None
        return max(int(value), 0)  # Shopify exports oversold stock as negative

    def add_image(self, url: str) -> None:
        if url and url not in self.images:
            self.images.append(url)

    def build(self) -> ProductIn | None:
        if self.problems:
            return None
        try:
            return ProductIn(
                handle=self.handle,
                images=[{"url": u} for u in self.images],
                variants=self.variants,
                **self.fields,
            )
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(p) for p in error["loc"])
                text = error["msg"].removeprefix("Value error, ")
                self.problem(self.line, None, f"{where}: {text}" if where else text)
            return None


def split_list(value: str, separator: str = ",") -> list[str]:
    """WooCommerce lists: "a, b\\, with comma, c" (a backslash keeps a comma in a name)."""
    parts, current, escaped = [], "", False
    for char in value:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]

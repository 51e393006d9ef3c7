"""Reading a contacts CSV, before any database work: bytes to UTF-8 text, the delimiter,
records with the line each starts on, the header's meaning, and each record as a Row with
its problems. See csv_import for what the rows then do.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from chatcart.channels.schemas import ChannelAccountOut
from chatcart.contacts import book
from chatcart.contacts.csv_format import (
    FIELD_PREFIX,
    LIST_SEP,
    LIST_TARGETS,
    CsvUnreadable,
    RowError,
    alias_target,
    header_key,
    parse_source,
    unguard_formula,
)
from chatcart.contacts.errors import FieldValueInvalid
from chatcart.kit.contact_points import FoundPoint, find_emails, normalise_phone
from chatcart.kit.textnorm import fold, nfc
from chatcart.models import FieldDefinition

_EXCEL_HINT = (
    'In Excel choose File > Save As > "CSV UTF-8 (Comma delimited) (*.csv)"; '
    "in Google Sheets, File > Download > CSV."
)
_QUOTING_HINT = (
    "a value holding the delimiter, a quote or a line break must be inside double quotes, "
    'with its own quotes doubled ("")'
)
_IDENTIFYING = frozenset(
    {"name", "first_name", "last_name", "phones", "emails", "external_id", "identities"}
)
_GRANTED = frozenset({"granted", "yes", "y", "true", "1", "co", "x", "oo", "opted in", "dong y"})
_REVOKED = frozenset({"revoked", "no", "n", "false", "0", "khong", "hindi", "opted out"})


# ---- reading the file --------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    text: str
    delimiter: str
    offset: int  # lines before the CSV proper (an Excel "sep=;" line)
    rows: int  # data rows (blank lines excluded)


def decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CsvUnreadable(
            f"the file is UTF-16 (Excel's 'Unicode Text'), not UTF-8. {_EXCEL_HINT}"
        )
    skipped = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[skipped:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = skipped + exc.start
        line = data.count(b"\n", 0, at) + 1
        raise CsvUnreadable(
            f"the file is not UTF-8: line {line} has byte 0x{data[at]:02x} at offset {at} that "
            f"UTF-8 cannot read (the file was probably saved as Windows-1258 or Latin-1). "
            f"{_EXCEL_HINT}",
            line=line,
            offset=at,
        ) from exc
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise CsvUnreadable(
            f"line {line} holds NUL characters: the file is probably UTF-16. {_EXCEL_HINT}",
            line=line,
        )
    return text


def sniff_delimiter(header_line: str) -> str:
    """The delimiter the header line uses most, outside quotes (comma when none)."""
    counts = dict.fromkeys(",;\t", 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda c: counts[c])  # ties: comma, then semicolon, then tab
    return best if counts[best] else ","


def records(prepared: Prepared) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells); broken quoting -> CsvUnreadable with the line."""
    reader = csv.reader(
        io.StringIO(prepared.text, newline=""), delimiter=prepared.delimiter, strict=True
    )
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line, reached = start + prepared.offset, reader.line_num + prepared.offset
            where = f"line {line}" if reached <= line else f"lines {line}-{reached}"
            raise CsvUnreadable(
                f"broken quoting at {where}: {exc}; {_QUOTING_HINT}", line=line
            ) from exc
        yield start + prepared.offset, cells
        start = reader.line_num + 1


def prepare(data: bytes) -> Prepared:
    """Decode, find the delimiter, and read the whole file once: quoting errors surface
    before anything is written, and the row count feeds the progress bar."""
    text = decode(data)
    if not text.strip():
        raise CsvUnreadable("the file is empty")
    first, _, rest = text.partition("\n")
    offset = 0
    if re.fullmatch(r"sep=(.)\r?", first):  # Excel's hint line
        delimiter, text, offset = first[4], rest, 1
    else:
        delimiter = sniff_delimiter(first)
    prepared = Prepared(text, delimiter, offset, 0)
    rows = sum(1 for _, cells in records(prepared) if cells) - 1
    return Prepared(text, delimiter, offset, max(rows, 0))


async def read_source(source: Path | str | bytes) -> bytes:
    if isinstance(source, bytes):
        return source
    path = Path(source)
    try:
        return await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise CsvUnreadable(f"cannot read {path}: {exc.strerror or exc}") from exc


# ---- the header --------------------------------------------------------------------------


@dataclass
class Columns:
    headers: list[str]
    targets: dict[str, list[int]] = field(default_factory=dict)  # target -> cell indexes
    fields: list[tuple[int, str]] = field(default_factory=list)  # (cell index, field key)
    report: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)

    def first(self, target: str) -> int | None:
        indexes = self.targets.get(target)
        return indexes[0] if indexes else None

    def needs_account(self) -> bool:
        """Channel ids with no column saying which account they are on."""
        return "external_id" in self.targets and "channel_account" not in self.targets


def map_columns(headers: list[str], definitions: dict[str, FieldDefinition]) -> Columns:
    by_name: dict[str, str] = {}
    for key, definition in definitions.items():
        by_name.setdefault(header_key(key), key)
        by_name.setdefault(header_key(definition.label or ""), key)
    columns = Columns(headers)
    for index, header in enumerate(headers):
        if not header:
            continue
        target = alias_target(header)
        if header_key(header).startswith(FIELD_PREFIX):
            key = header.split(":", 1)[1].strip().lower()
            columns.fields.append((index, key))
            columns.report[header] = FIELD_PREFIX + key
        elif target == "id":  # ids belong to the database they came from
            columns.ignored.append(header)
        elif target is not None and (target in LIST_TARGETS or target not in columns.targets):
            columns.targets.setdefault(target, []).append(index)
            columns.report[header] = target
        elif target is None and header_key(header) in by_name:
            key = by_name[header_key(header)]
            columns.fields.append((index, key))
            columns.report[header] = FIELD_PREFIX + key
        else:  # unknown, or a second column for a one-value target
            columns.ignored.append(header)
    if not _IDENTIFYING & columns.targets.keys():
        raise CsvUnreadable(
            "no column names a contact: expected a header such as name / tên, phone / sđt / "
            f"số điện thoại, email or psid; the header line was: {', '.join(headers)}",
            line=1,
        )
    return columns


# ---- one row -----------------------------------------------------------------------------


@dataclass
class RowContext:
    workspace_id: int
    region: str
    zone: ZoneInfo
    actor: str
    definitions: dict[str, FieldDefinition]
    accounts: list[ChannelAccountOut]
    channel_account_id: int | None
    columns: Columns


@dataclass
class Row:
    line: int
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    locale: str | None = None
    phones: list[FoundPoint] = field(default_factory=list)
    emails: list[FoundPoint] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    fields: dict[str, tuple[str, Any]] = field(default_factory=dict)  # key -> (text, value)
    channel_ids: list[tuple[int, str]] = field(default_factory=list)  # matched, then added
    identity_refs: list[tuple[list[int], str]] = field(default_factory=list)  # matched only
    source: dict[str, Any] | None = None  # None: the file has no source column
    created_at: datetime | None = None
    last_interaction_at: datetime | None = None
    order_count: int | None = None
    total_spent: int | None = None
    consent: str | None = None
    warnings: list[RowError] = field(default_factory=list)

    def matchable(self) -> bool:
        return bool(
            self.channel_ids
            or self.identity_refs
            or self.emails
            or any(p.valid for p in self.phones)
        )

    def rematchable(self) -> bool:
        """Whether a contact made from this row is found again by the same row: channel
        ids of the identities column are matched on but never created."""
        return bool(self.channel_ids or self.emails or any(p.valid for p in self.phones))


class RowReader:
    """Turns the cells of one record into a Row, collecting every problem it has."""

    def __init__(self, ctx: RowContext, line: int, cells: list[str]) -> None:
        self.ctx, self.cols = ctx, ctx.columns
        self.cells = [unguard_formula(nfc(c).strip()) for c in cells]
        self.row = Row(line)
        self.errors: list[RowError] = []

    def error(self, index: int | None, problem: str) -> None:
        column = self.cols.headers[index] if index is not None else None
        self.errors.append(RowError(line=self.row.line, column=column, problem=problem))

    def cell(self, index: int | None) -> str:
        return self.cells[index] if index is not None and index < len(self.cells) else ""

    def each(self, target: str) -> Iterator[tuple[int, str]]:
        for index in self.cols.targets.get(target, []):
            if self.cell(index):
                yield index, self.cell(index)

    def read(self) -> tuple[Row | None, list[RowError]]:
        width = len(self.cols.headers)
        if not any(self.cells):
            self.error(None, "empty row")
            return None, self.errors
        if any(self.cells[width:]):
            self.error(
                None,
                f"{len(self.cells)} values but the header has {width} columns "
                f"(a delimiter inside an unquoted value?)",
            )
            return None, self.errors
        row = self.row
        for target, limit in (("name", 200), ("first_name", 100), ("last_name", 100)):
            setattr(row, target, self.cell(self.cols.first(target))[:limit] or None)
        self._locale()
        self._phones()
        self._emails()
        self._tags()
        self._fields()
        self._channel_ids()
        self._scalars()
        known = row.name or row.first_name or row.last_name or row.phones or row.matchable()
        if not known and not self.errors:
            self.error(None, "nothing to know this contact by: no name, phone, email or id")
        return (None if self.errors else row), self.errors

    def _locale(self) -> None:
        index = self.cols.first("locale")
        text = self.cell(index)
        if len(text) > 16:
            self.error(index, f"{text!r} is not a locale (vi, en, tl, vi_VN...)")
        self.row.locale = text or None

    def _phones(self) -> None:
        seen = {p.value for p in self.row.phones}
        for index, text in self.each("phones"):
            for piece in re.split(r"[;,/\n]+", text):
                piece = piece.strip()
                if not piece:
                    continue
                if len(piece) > 64:
                    self.error(index, f"{piece[:40]!r}... is not a phone number")
                    continue
                point = normalise_phone(piece, self.ctx.region)
                if point is not None and point.value not in seen:
                    seen.add(point.value)
                    self.row.phones.append(point)

    def _emails(self) -> None:
        seen: set[str] = set()
        for index, text in self.each("emails"):
            for piece in re.split(r"[;,\s]+", text):
                if not piece:
                    continue
                found = find_emails(piece)
                if len(found) != 1 or found[0].raw != piece or len(piece) > 320:
                    self.error(index, f"{piece!r} is not an email address")
                elif found[0].value not in seen:
                    seen.add(found[0].value)
                    self.row.emails.append(found[0])

    def _tags(self) -> None:
        for index, text in self.each("tags"):
            for piece in re.split(r"[;,]", text):
                name = " ".join(piece.split())
                if len(name) > 100:
                    self.error(index, f"tag {name[:40]!r}... is longer than 100 characters")
                elif name and name not in self.row.tags:
                    self.row.tags.append(name)

    def _fields(self) -> None:
        for index, key in self.cols.fields:
            text = self.cell(index)
            if not text:
                continue
            definition = self.ctx.definitions.get(key)
            if definition is None:
                self.error(index, f"unknown field {key!r}: define it first")
                continue
            try:
                column = book.coerce(definition, text)
            except FieldValueInvalid as exc:
                self.error(index, exc.message)
                continue
            self.row.fields[key] = (text, next(iter(column.values())))

    def _account(self) -> int | None:
        index = self.cols.first("channel_account")
        text = self.cell(index)
        if not text:
            if self.ctx.channel_account_id is None:
                self.error(
                    self.cols.first("external_id"),
                    "which channel account is this id on? give --channel-account or fill "
                    "a channel_account column",
                )
            return self.ctx.channel_account_id
        accounts = self.ctx.accounts
        if text.isdigit():
            found = [a for a in accounts if a.id == int(text)]
        else:
            found = [a for a in accounts if fold(a.kind) == fold(text)]
        if len(found) == 1:
            return found[0].id
        self.error(
            index,
            f"no channel account {text!r} in this workspace"
            if not found
            else f"several {text} accounts: give the account's id (chatcart channels list)",
        )
        return None

    def _channel_ids(self) -> None:
        index = self.cols.first("external_id")
        external_id = self.cell(index)
        if external_id:
            account_id = self._account()
            if len(external_id) > 200:
                self.error(index, "an id is at most 200 characters")
            elif account_id is not None:
                self.row.channel_ids.append((account_id, external_id))
        index = self.cols.first("identities")
        for piece in self.cell(index).split(LIST_SEP):
            kind, colon, value = piece.strip().partition(":")
            if not piece.strip():
                continue
            if not colon or not kind or not value.strip():
                self.error(index, f"{piece.strip()!r} is not kind:external_id")
                continue
            accounts = [a.id for a in self.ctx.accounts if fold(a.kind) == fold(kind)]
            self.row.identity_refs.append((accounts, value.strip()))

    def _scalars(self) -> None:
        row, cols = self.row, self.cols
        if "source" in cols.targets:
            index = cols.first("source")
            try:
                row.source = parse_source(self.cell(index))
            except ValueError as exc:
                self.error(index, f"source: {exc} (write it as channel=zalo; ref=summer)")
        for target in ("created_at", "last_interaction_at"):
            index = cols.first(target)
            if text := self.cell(index):
                try:
                    when = datetime.fromisoformat(text)
                except ValueError:
                    self.error(index, f"{text!r} is not an ISO 8601 date (2024-05-31T09:30)")
                    continue
                setattr(row, target, when if when.tzinfo else when.replace(tzinfo=self.ctx.zone))
        for target in ("order_count", "total_spent"):
            index = cols.first(target)
            if text := self.cell(index).replace(" ", ""):
                if not text.isdigit():
                    self.error(index, f"{text!r} is not a whole number")
                else:
                    setattr(row, target, int(text))
        index = cols.first("consent_marketing")
        if text := fold(self.cell(index)):
            if text in _GRANTED:
                row.consent = "granted"
            elif text in _REVOKED:
                row.consent = "revoked"
            else:
                self.error(index, f"{self.cell(index)!r} is not granted or revoked")

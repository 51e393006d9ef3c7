"""What the contacts CSV files hold: the export columns, the headers an import understands,
how list cells are written, and the reports and errors of both directions.

Cells holding several values (phones, emails, tags, identities) join them with ";".
Text cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a
carriage return) are written with a leading apostrophe, which an import takes off again.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, Field

from chatcart.kit.errors import ValidationFailed
from chatcart.kit.textnorm import fold

FIELD_PREFIX = "field:"
LIST_SEP = ";"
BOM = "\ufeff"

# The export's columns, in the order of a default export (then one field:<key> per field).
#   id                    the contact's id (ignored by an import: ids are per database)
#   name, first_name, last_name, locale
#   phones                valid numbers in E.164, ";"-joined
#   invalid_phones        numbers phonenumbers rejects, as typed (kept, never matched on)
#   emails                lower-cased, ";"-joined
#   tags                  tag names, ";"-joined
#   source                where the contact came from, "channel=webchat; ref=summer"
#   created_at, last_interaction_at   ISO 8601 in the workspace's time zone
#   order_count           number of orders
#   total_spent           minor units of the workspace currency (đồng, centavos)
#   identities            "kind:external_id", ";"-joined (messenger:2519..., webchat:v_...)
#   consent_marketing     granted | revoked | empty (never asked)
EXPORT_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "first_name",
    "last_name",
    "phones",
    "invalid_phones",
    "emails",
    "tags",
    "locale",
    "source",
    "created_at",
    "last_interaction_at",
    "order_count",
    "total_spent",
    "identities",
    "consent_marketing",
)

# Import targets: the export columns (but id), plus a per-row channel id and its account.
#   external_id       a PSID / IGSID / visitor id on the account given by --channel-account
#                     or by a channel_account column (an account id, or a kind when the
#                     workspace has one account of it); creates the identity when missing
#   channel_account   see external_id
_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "contact id"),
    "name": (
        "name", "full name", "fullname", "customer", "customer name", "contact name",
        "ten", "ho ten", "ho va ten", "ten khach hang", "khach hang", "ten day du",
        "pangalan", "buong pangalan",
    ),
    "first_name": ("first name", "firstname", "given name", "unang pangalan"),
    "last_name": ("last name", "lastname", "surname", "family name", "ho", "apelyido"),
    "phones": (
        "phone", "phones", "phone number", "phone numbers", "mobile", "mobile number",
        "cell", "cellphone", "tel", "telephone", "whatsapp", "invalid phones",
        "sdt", "so dt", "dt", "so dien thoai", "dien thoai", "di dong", "so di dong",
        "numero", "telepono", "numero ng telepono", "cp", "cp number",
    ),
    "emails": (
        "email", "emails", "e mail", "mail", "email address", "dia chi email", "thu dien tu",
    ),
    "tags": ("tags", "tag", "labels", "label", "nhan", "mga tag"),
    "locale": ("locale", "language", "lang", "ngon ngu", "wika"),
    "source": ("source", "nguon"),
    "created_at": ("created at", "created", "ngay tao"),
    "last_interaction_at": ("last interaction at", "last interaction"),
    "order_count": ("order count", "orders", "so don"),
    "total_spent": ("total spent", "tong chi tieu"),
    "identities": ("identities",),
    "consent_marketing": ("consent marketing", "marketing consent"),
    "external_id": ("external id", "externalid", "psid", "igsid", "page scoped id"),
    "channel_account": ("channel account", "channel account id"),
}  # fmt: skip
ALIASES: dict[str, str] = {alias: target for target, names in _ALIASES.items() for alias in names}
# "Phone 2", "Email 1", "Tag 3": several columns may feed a list target.
LIST_TARGETS = frozenset({"phones", "emails", "tags"})
_NUMBERED = re.compile(r"^(.*\D)\s*\d+$")


def header_key(text: str) -> str:
    """Case-, accent- and punctuation-insensitive: "Số điện thoại" -> "so dien thoai"."""
    return " ".join(re.sub(r"[_\-./]", " ", fold(text)).split())


def alias_target(header: str) -> str | None:
    key = header_key(header)
    if key in ALIASES:
        return ALIASES[key]
    numbered = _NUMBERED.match(key)
    if numbered:
        target = ALIASES.get(numbered.group(1).strip())
        if target in LIST_TARGETS:
            return target
    return None


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard_formula(text: str) -> str:
    """Keep spreadsheets from running a cell (a customer may call themselves '=HYPERLINK(')."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def unguard_formula(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


# ---- reports and errors ------------------------------------------------------------------


class RowError(BaseModel):
    """A problem of one row: its line in the file (the header is line 1) and its column."""

    line: int
    column: str | None = None
    problem: str


class ImportReport(BaseModel):
    rows: int = 0  # data rows read (blank lines are not rows)
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # matched an existing contact and held nothing new
    skipped: int = 0  # rows with errors: nothing of them was written
    errors: list[RowError] = Field(default_factory=list)
    warnings: list[RowError] = Field(default_factory=list)  # imported, with a note
    columns: dict[str, str] = Field(default_factory=dict)  # header -> what it was read as
    ignored_columns: list[str] = Field(default_factory=list)
    delimiter: str = ","
    duration: float = 0.0  # seconds


class CsvUnreadable(ValidationFailed):
    """The file as a whole cannot be read (encoding, quoting, no usable columns)."""

    code = "csv_unreadable"


class UnknownColumn(ValidationFailed):
    code = "unknown_column"


# ---- the source column -------------------------------------------------------------------


def source_text(source: dict[str, Any]) -> str:
    """{"channel": "webchat", "ref": "summer"} -> "channel=webchat; ref=summer"."""
    parts: list[str] = []
    for key in sorted(source, key=lambda k: (k != "channel", k)):
        value = source[key]
        if value is None or value == "":
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{key}={text}")
    return "; ".join(parts)


def parse_source(text: str) -> dict[str, Any]:
    """The reverse of source_text; a bare word is the channel ("zalo" -> channel=zalo)."""
    text = text.strip()
    if not text:
        return {}
    if "=" not in text:
        return {"channel": text}
    source: dict[str, Any] = {}
    for part in text.split(LIST_SEP):
        if not part.strip():
            continue
        key, equals, value = part.partition("=")
        if not equals or not key.strip():
            raise ValueError(f"{part.strip()!r} is not key=value")
        source[key.strip()] = value.strip()
    return source

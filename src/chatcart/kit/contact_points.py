"""Phone numbers and emails picked out of free text, with the phonenumbers library.

"sdt em 0912.345.678" (region VN) -> +84912345678. Numbers the library finds but does not
accept as valid are returned with valid=False: kept as text, never used as identities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher

from chatcart.kit.textnorm import nfc

# Pragmatic, not RFC 5322: what people type in chats ("lan.tran@gmail.com").
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,24}(?![\w-])")


@dataclass(frozen=True)
class FoundPoint:
    kind: str  # phone | email
    value: str  # E.164 / lower-cased email; the raw text when not valid
    raw: str
    valid: bool


def normalise_phone(text: str, region: str) -> FoundPoint | None:
    """One number typed by a person, normalised to E.164 when the library accepts it."""
    raw = nfc(text).strip()
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, region.upper())
    except phonenumbers.NumberParseException:
        return FoundPoint("phone", raw, raw, False)
    if phonenumbers.is_valid_number(number):
        return FoundPoint(
            "phone", phonenumbers.format_number(number, PhoneNumberFormat.E164), raw, True
        )
    return FoundPoint("phone", raw, raw, False)


def find_phones(text: str, region: str) -> list[FoundPoint]:
    found: list[FoundPoint] = []
    seen: set[str] = set()
    # POSSIBLE finds what looks like a number; validity is judged separately so that
    # "0912.345.67" (a digit short) is kept as text rather than silently dropped.
    for match in PhoneNumberMatcher(nfc(text), region.upper(), leniency=Leniency.POSSIBLE):
        number = match.number
        if phonenumbers.is_valid_number(number):
            value = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            point = FoundPoint("phone", value, match.raw_string, True)
        else:
            point = FoundPoint("phone", match.raw_string, match.raw_string, False)
        if point.value not in seen:
            seen.add(point.value)
            found.append(point)
    return found


def find_emails(text: str) -> list[FoundPoint]:
    found: list[FoundPoint] = []
    for raw in _EMAIL.findall(nfc(text)):
        value = raw.lower().rstrip(".")
        if all(value != f.value for f in found):
            found.append(FoundPoint("email", value, raw, True))
    return found


def find_points(text: str, region: str) -> list[FoundPoint]:
    return [*find_emails(text), *find_phones(text, region)]

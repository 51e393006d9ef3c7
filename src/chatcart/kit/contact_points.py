"""Phone numbers and emails picked out of free text, with the phonenumbers library.

"sdt em 0912.345.678" (region VN) -> +84912345678. Numbers the library finds but does not
accept as valid are returned with valid=False: kept as text, never used as identities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher, phonenumberutil
from phonenumbers.phonemetadata import PhoneMetadata

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


# An extension after a number ("123 ext 4"): the only way letters get into what the
# matcher reads as a number (and are then read as digits, e-x-t = 3-9-8). The matcher's
# own pattern; None if the library stops naming it (then the matcher is always asked).
_EXTENSION_SOURCE: str | None = getattr(phonenumberutil, "_EXTN_PATTERNS_FOR_MATCHING", None)
_EXTENSION = (
    re.compile(_EXTENSION_SOURCE, phonenumberutil._REGEX_FLAGS) if _EXTENSION_SOURCE else None
)


def _shortest(metadata: PhoneMetadata | None) -> int | None:
    """The fewest digits a number of this region can have (local-only lengths count:
    the matcher takes them as possible)."""
    if metadata is None or metadata.general_desc is None:
        return None
    general = metadata.general_desc
    lengths = [*(general.possible_length or ()), *(general.possible_length_local_only or ())]
    return min((n for n in lengths if n > 0), default=None)


@cache
def _digits_after_plus() -> int:
    """The fewest digits of any number written with a plus: its country code and the
    shortest number of a region using that code."""
    best = 99
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
                metadata = PhoneMetadata.metadata_for_nongeo_region(code)
            else:
                metadata = PhoneMetadata.metadata_for_region(region)
            shortest = _shortest(metadata)
            if shortest is not None:
                best = min(best, len(str(code)) + shortest)
    return best


@cache
def _digits_needed(region: str) -> int:
    """The fewest digits a text needs before PhoneNumberMatcher (about 60 us a text) can
    find a number in it: the region's own shortest number, or one dialled abroad (the
    region's international prefix, then a number written with a plus). 0 when the region
    is unknown: always ask the matcher."""
    metadata = PhoneMetadata.metadata_for_region(region)
    shortest = _shortest(metadata)
    if metadata is None or shortest is None:
        return 0
    prefix = metadata.international_prefix or ""
    dial_out = len(prefix) if prefix.isdigit() else 1  # a pattern: at least one digit
    return min(shortest, dial_out + _digits_after_plus())


def _may_hold_a_phone(text: str, region: str) -> bool:
    """Chat texts often hold a few digits ("size 38", "2 cái", "mẫu 1234"): too few for
    any phone number the matcher could find, so it is not asked."""
    if _EXTENSION is None or _EXTENSION.search(text):
        return True
    needed = _digits_needed(region)
    if "+" in text or "\uff0b" in text:  # a plus sign (also the full-width one)
        needed = min(needed, _digits_after_plus())
    if needed <= 1:
        return True
    count = 0
    for ch in text:
        if ch.isdigit():
            count += 1
            if count >= needed:
                return True
    return False


def find_phones(text: str, region: str) -> list[FoundPoint]:
    found: list[FoundPoint] = []
    seen: set[str] = set()
    if not _may_hold_a_phone(text, region.upper()):
        return found
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

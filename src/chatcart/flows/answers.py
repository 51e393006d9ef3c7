"""Checking the answer to an `ask` step: text in, the value to save (or None: ask again)."""

from __future__ import annotations

import re
from datetime import date

import phonenumbers
from phonenumbers import PhoneNumberFormat

from chatcart.flows.document import AskStep, ChoiceSpec
from chatcart.flows.matching import damerau_at_most_one, words
from chatcart.kit.textnorm import fold, nfc

_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,24}$")
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?$")
# Where people write day/month first (VN) or month/day first (PH, US).
_MONTH_FIRST = {"PH", "US"}


def phone(text: str, region: str) -> str | None:
    """E.164 for a valid number typed in any usual way: "0912 345 678" (VN),
    "+63 917 123 4567", "0917-123-4567" (PH); None for anything else."""
    try:
        number = phonenumbers.parse(nfc(text).strip(), region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def email(text: str) -> str | None:
    value = nfc(text).strip().rstrip(".").lower()
    return value if _EMAIL.match(value) else None


def number(text: str) -> float | int | None:
    raw = nfc(text).strip().replace(" ", "")
    if not _NUMBER.match(raw):
        return None
    value = float(raw.replace(",", "."))
    return int(value) if value.is_integer() else value


def day(text: str, region: str, today: date) -> str | None:
    """ISO date of "2026-12-01", "1/12/2026", "01.12", ...; None when it is no date."""
    raw = nfc(text).strip()
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        pass
    found = _DMY.match(raw)
    if not found:
        return None
    first, second, year_text = int(found[1]), int(found[2]), found[3]
    d, m = (second, first) if region.upper() in _MONTH_FIRST else (first, second)
    year = today.year if year_text is None else int(year_text)
    if year < 100:
        year += 2000
    try:
        return date(year, m, d).isoformat()
    except ValueError:
        return None


def choice(
    text: str, payload: str | None, choices: list[ChoiceSpec], titles: list[str]
) -> ChoiceSpec | None:
    """The tapped quick reply, or the typed value / title (folded, one typo allowed), or
    its number in the list ("2")."""
    for spec in choices:
        if payload is not None and payload == spec.value:
            return spec
    typed = " ".join(words(text))
    if typed.isdigit() and 1 <= int(typed) <= len(choices):
        return choices[int(typed) - 1]
    for spec, title in zip(choices, titles, strict=True):
        for candidate in (fold(spec.value), " ".join(words(title))):
            if typed == candidate or (
                len(candidate) >= 5 and damerau_at_most_one(typed, candidate)
            ):
                return spec
    return None


def check(
    step: AskStep, text: str, payload: str | None, region: str, today: date, titles: list[str]
) -> tuple[object | None, ChoiceSpec | None]:
    """(value to save, chosen choice) — value None when the answer does not fit."""
    if step.kind == "choice":
        chosen = choice(text, payload, step.choices, titles)
        return (chosen.value if chosen else None), chosen
    if step.kind == "phone":
        return phone(text, region), None
    if step.kind == "email":
        return email(text), None
    if step.kind == "number":
        return number(text), None
    if step.kind == "date":
        return day(text, region, today), None
    value = nfc(text).strip()
    return (value[:2000] or None), None

"""Money in minor units (VND has no decimals, PHP has two), formatted per locale."""

from __future__ import annotations

import re
from decimal import Decimal

from babel.core import get_global
from babel.numbers import (
    NumberFormatError,
    format_currency,
    get_currency_precision,
    parse_decimal,
)

# How a currency reads best when no locale is asked for: VND the Vietnamese way
# (150.000 ₫), PHP the Philippine way (₱1,250.00).
_HOME_LOCALE = {"VND": "vi_VN", "PHP": "en_PH"}


def digits(currency: str) -> int:
    return int(get_currency_precision(currency.upper()))


def to_major(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-digits(currency))


def format_minor(amount: int, currency: str, locale: str | None = None) -> str:
    currency = currency.upper()
    chosen = locale or _HOME_LOCALE.get(currency, "en")
    return str(format_currency(to_major(amount, currency), currency, locale=chosen))


class AmountInvalid(ValueError):
    """A price that cannot be read, or has more decimals than its currency allows."""


_MACHINE_AMOUNT = re.compile(r"\d+(\.\d+)?")


def parse_minor(text: str, currency: str, locale: str | None = None) -> int:
    """A price typed in major units ("1250.50", or per locale "150.000") -> minor units.

    Without a locale only the export formats' plain "1234.56" is read: CSV files of shops
    never group thousands. With one, Babel reads the locale's separators (vi: 150.000)."""
    currency = currency.upper()
    raw = text.strip()
    if locale is None:
        if not _MACHINE_AMOUNT.fullmatch(raw):
            raise AmountInvalid(f"{text!r} is not a price like 150000 or 1250.50")
        value = Decimal(raw)
        places = len(raw.partition(".")[2])
        if digits(currency) == 0 and places == 3:
            # "150.000" in a VND file is a thousands separator, not 150 dong.
            raise AmountInvalid(f"{currency} has no decimals: write {raw.replace('.', '')}")
    else:
        try:
            value = parse_decimal(raw, locale=locale, strict=True)
        except NumberFormatError as exc:
            raise AmountInvalid(f"{text!r} is not a price") from exc
        if value < 0:
            raise AmountInvalid(f"{text!r} is negative")
    scaled = value.scaleb(digits(currency))
    if scaled != scaled.to_integral_value():
        raise AmountInvalid(f"{currency} allows {digits(currency)} decimals, {text!r} has more")
    return int(scaled)


def currency_known(currency: str) -> bool:
    return len(currency) == 3 and currency.upper() in get_global("all_currencies")

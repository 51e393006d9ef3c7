"""Money in minor units (VND has no decimals, PHP has two), formatted per locale."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision

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

from __future__ import annotations

from decimal import Decimal

import pytest

from chatcart.kit.money import AmountInvalid, digits, format_minor, parse_minor, to_major


def test_minor_units_per_currency() -> None:
    assert digits("VND") == 0
    assert digits("php") == 2
    assert to_major(150_000, "VND") == Decimal(150_000)
    assert to_major(125_000, "PHP") == Decimal("1250.00")


def test_each_currency_reads_the_local_way() -> None:
    assert format_minor(150_000, "VND") == "150.000\xa0₫"
    assert format_minor(125_000, "PHP") == "₱1,250.00"
    assert format_minor(125_000, "PHP", locale="en") == "₱1,250.00"


def test_prices_typed_in_major_units_become_minor_units() -> None:
    assert parse_minor("150000", "VND") == 150000
    assert parse_minor("150000.00", "vnd") == 150000  # Shopify writes two decimals everywhere
    assert parse_minor("1250.5", "PHP") == 125050
    assert parse_minor("150.000", "VND", locale="vi") == 150000  # the admin form, per locale
    assert parse_minor("1,250.50", "PHP", locale="en") == 125050


@pytest.mark.parametrize(
    ("text", "currency", "problem"),
    [
        ("150.000", "VND", "VND has no decimals: write 150000"),
        ("150000.5", "VND", "VND allows 0 decimals"),
        ("1.255", "PHP", "PHP allows 2 decimals"),
        ("1,250", "PHP", "is not a price"),
        ("-5", "PHP", "is not a price"),
        ("₱100", "PHP", "is not a price"),
        ("", "VND", "is not a price"),
    ],
)
def test_unreadable_prices_say_why(text: str, currency: str, problem: str) -> None:
    with pytest.raises(AmountInvalid, match=problem):
        parse_minor(text, currency)

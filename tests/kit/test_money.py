from __future__ import annotations

from decimal import Decimal

from chatcart.kit.money import digits, format_minor, to_major


def test_minor_units_per_currency() -> None:
    assert digits("VND") == 0
    assert digits("php") == 2
    assert to_major(150_000, "VND") == Decimal(150_000)
    assert to_major(125_000, "PHP") == Decimal("1250.00")


def test_each_currency_reads_the_local_way() -> None:
    assert format_minor(150_000, "VND") == "150.000\xa0₫"
    assert format_minor(125_000, "PHP") == "₱1,250.00"
    assert format_minor(125_000, "PHP", locale="en") == "₱1,250.00"

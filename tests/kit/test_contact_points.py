"""Phones and emails in real-looking Vietnamese and Filipino messages."""

from __future__ import annotations

import pytest

from chatcart.kit.contact_points import find_emails, find_phones, find_points, normalise_phone


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("sdt em 0912.345.678", "VN", ["+84912345678"]),
        ("SĐT: 0912 345 678 nha shop", "VN", ["+84912345678"]),
        ("số của mình là 0987-654-321, gọi sau 6h", "VN", ["+84987654321"]),
        ("ib zalo 0903123456 hoặc 028 3822 1234", "VN", ["+84903123456", "+842838221234"]),
        ("+84 912 345 678", "VN", ["+84912345678"]),
        ("call me 0917 123 4567", "PH", ["+639171234567"]),
        ("txt me po 09171234567 salamat", "PH", ["+639171234567"]),
        ("landline (02) 8123 4567", "PH", ["+63281234567"]),
        ("gửi 2 cái size M giá 150.000đ", "VN", []),
        ("đơn #123456 ngày 21/11/2026", "VN", []),
    ],
)
def test_phones_are_found_and_normalised(text: str, region: str, expected: list[str]) -> None:
    assert [p.value for p in find_phones(text, region) if p.valid] == expected


def test_the_same_number_twice_is_one_point() -> None:
    found = find_phones("0912345678 hoặc 0912.345.678", "VN")
    assert [p.value for p in found] == ["+84912345678"]


def test_numbers_the_library_rejects_are_kept_as_text_but_invalid() -> None:
    bad = normalise_phone("0912 34", "VN")
    assert bad is not None and not bad.valid and bad.value == "0912 34"
    good = normalise_phone("84-912-345-678", "VN")
    assert good is not None and good.valid and good.value == "+84912345678"
    assert normalise_phone("   ", "VN") is None


def test_emails() -> None:
    found = find_emails("mail em là Lan.Tran@Gmail.com. hoặc lan@shop.vn nhé")
    assert [e.value for e in found] == ["lan.tran@gmail.com", "lan@shop.vn"]
    assert find_emails("giá 150k @ shop") == []


def test_points_in_one_message() -> None:
    found = find_points("Lan - 0912345678 - lan@gmail.com", "VN")
    assert [(p.kind, p.value) for p in found] == [
        ("email", "lan@gmail.com"),
        ("phone", "+84912345678"),
    ]


def test_texts_with_too_few_digits_skip_the_matcher_and_find_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The digit count that lets a text skip PhoneNumberMatcher never changes what is
    found: thousands of chat-like texts (few and many digits, plus signs, the region's
    international prefix, extensions, whose letters the matcher reads as digits,
    full-width digits) in regions with short numbers
    and long ones give the same points with and without the first look."""
    import random

    from chatcart.kit import contact_points

    rng = random.Random(20260427)
    pieces = [
        "0", "1", "2", "5", "7", "9", "00", "12", "123", "1234", "38", "+", "＋", "+84", "+49",
        "+1", "+43", "(", ")", "-", ".", " ", " ", "/", "ext", "x", "mẫu", "size", "sđt",
        "gọi", "em", "abc", "０", "１２", "tel:", "#", "*", "anexo", "доб", "int", ";", ",",
        "~", "extension", "ｘ", "xin", "٣",
    ]  # fmt: skip
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(1500)]
    texts += ["mẫu 1234", "+49 12", "+49 123", "0049 12", "00 49 12", "1900 1234", "112"]
    texts += ["-123ext 2", "123 ext 4", "xin chào 1234"]  # letters read as digits: e-x-t
    regions = ["VN", "PH", "US", "DE", "AT", "GB", "TH", "ID", "KR", "NU", "ZZ"]
    with_first_look = {(t, r): find_phones(t, r) for t in texts for r in regions}
    first_look = contact_points._may_hold_a_phone
    monkeypatch.setattr(contact_points, "_may_hold_a_phone", lambda text, region: True)
    skipped = 0
    for (text, region), found in with_first_look.items():
        assert find_phones(text, region) == found, (text, region)
        skipped += not first_look(text, region)
    assert skipped > len(with_first_look) / 10  # the first look does spare the matcher

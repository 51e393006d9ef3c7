from __future__ import annotations

import pytest

from chatcart.flows.greeter import guess_language, reply
from chatcart.flows.schemas import BotInput

SHOP = "Shop Áo Thun"


def _bot(text: str, *, first: bool = False, name: str = "", **extra: str) -> BotInput:
    return BotInput(text=text, first_message=first, contact_name=name, workspace_name=SHOP, **extra)


def _single(data: BotInput) -> tuple[str, list[str]]:
    replies = reply(data)
    assert len(replies) == 1
    return replies[0].text, [q.payload for q in replies[0].quick_replies]


@pytest.mark.parametrize(("text", "first"), [("xin chào", False), ("Xin chào shop", True)])
def test_vietnamese_greeting(text: str, first: bool) -> None:
    message, payloads = _single(_bot(text, first=first))
    assert message.startswith("Xin chào")
    assert SHOP in message
    assert payloads == ["PRODUCTS", "HUMAN"]
    titles = [q.title for q in reply(_bot(text, first=first))[0].quick_replies]
    assert titles == ["Xem sản phẩm", "Gặp nhân viên"]


@pytest.mark.parametrize("text", ["chào shop", "CHAO SHOP", "alo", "Xin  Chào "])
def test_vietnamese_greeting_words_without_first_message(text: str) -> None:
    message, payloads = _single(_bot(text))
    assert message.startswith("Xin chào")
    assert payloads == ["PRODUCTS", "HUMAN"]


def test_english_greeting() -> None:
    message, payloads = _single(_bot("hello"))
    assert message.startswith("Hello")
    assert f"Welcome to {SHOP}" in message
    assert payloads == ["PRODUCTS", "HUMAN"]
    titles = [q.title for q in reply(_bot("hello"))[0].quick_replies]
    assert titles == ["See products", "Talk to a person"]


def test_tagalog_greeting() -> None:
    message, payloads = _single(_bot("kumusta po", first=True))
    assert message.startswith("Kumusta")
    assert f"Welcome sa {SHOP}" in message
    assert payloads == ["PRODUCTS", "HUMAN"]
    # The bare greeting word is recognised on a later message too.
    later, _ = _single(_bot("kumusta"))
    assert later.startswith("Kumusta")


def test_first_message_is_greeted_even_without_greeting_word() -> None:
    message, payloads = _single(_bot("giá áo này bao nhiêu?", first=True))
    assert message.startswith("Xin chào")
    assert payloads == ["PRODUCTS", "HUMAN"]


def test_later_non_greeting_is_acknowledged() -> None:
    message, payloads = _single(_bot("giá áo này bao nhiêu?"))
    assert message.startswith("Cảm ơn bạn!")
    assert SHOP in message
    assert "Xin chào" not in message
    assert payloads == []


def test_later_non_greeting_in_english_and_tagalog() -> None:
    en, en_payloads = _single(_bot("what is the price", contact_locale="en"))
    assert en.startswith("Thank you!")
    assert en_payloads == []
    tl, _ = _single(_bot("magkano po ito"))
    assert tl.startswith("Salamat!")


def test_contact_last_name_word_is_used() -> None:
    message, _ = _single(_bot("xin chào", name="Nguyễn Văn An"))
    assert message.startswith("Xin chào An!")
    english, _ = _single(_bot("hello", name="  Maria Santos  "))
    assert english.startswith("Hello Santos!")
    blank, _ = _single(_bot("hello", name="   "))
    assert blank.startswith("Hello!")


def test_fallback_language_is_contact_then_workspace() -> None:
    # No vocabulary hit: contact locale wins, then the workspace's.
    assert _single(_bot("123", first=True, contact_locale="tl"))[0].startswith("Kumusta")
    assert _single(_bot("123", first=True))[0].startswith("Xin chào")
    assert _single(_bot("123", first=True, workspace_locale="en"))[0].startswith("Hello")
    # An unsupported locale falls back to English text.
    assert _single(_bot("123", first=True, contact_locale="fr"))[0].startswith("Hello")


@pytest.mark.parametrize(
    ("text", "fallback", "expected"),
    [
        ("dat hang", "en", "vi"),
        ("xin chao", "en", "vi"),
        ("đặt hàng", "en", "vi"),
        ("Giá?", "en", "vi"),  # any Vietnamese letter
        ("magkano po", "vi", "tl"),
        ("salamat", "en", "tl"),
        ("Niño po", "vi", "tl"),  # ñ is not a Vietnamese letter
        ("hello", "vi", "en"),
        ("thanks", "tl", "en"),
        ("12345", "tl", "tl"),
        ("", "vi", "vi"),
    ],
)
def test_guess_language(text: str, fallback: str, expected: str) -> None:
    assert guess_language(text, fallback) == expected


@pytest.mark.parametrize("text", ["Xin chào shop", "Xin chào!", "hello!", "kumusta po"])
def test_common_greeting_variants_on_a_later_message(text: str) -> None:
    message, payloads = _single(_bot(text))
    assert payloads == ["PRODUCTS", "HUMAN"], message


@pytest.mark.parametrize(
    ("text", "expected"), [("hello!", "en"), ("Thanks!", "en"), ("Salamat!", "tl")]
)
def test_guess_language_ignores_punctuation(text: str, expected: str) -> None:
    assert guess_language(text, "vi") == expected

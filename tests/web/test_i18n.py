"""Babel catalogs: every UI string is translated to Vietnamese, the catalogs stay clean
(no fuzzy, no obsolete entries), and the locale is picked cookie → Accept-Language → default.
When a test here fails after a template change: run scripts/i18n-update, translate the new
strings in src/chatcart/web/locale/vi/LC_MESSAGES/messages.po (docs/translations.md)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.support import Translations

from chatcart.web.i18n import DEFAULT_LOCALE, LOCALE_DIR, LOCALES, pick_locale, translations

ROOT = Path(__file__).resolve().parents[2]
MsgKey = tuple[str, str | None]  # (msgid, msgctxt)


@cache
def extracted() -> dict[MsgKey, list[str]]:
    """The msgids the code uses, found as `pybabel extract -F babel.cfg .` finds them (same
    mapping, same root, dot-directories such as .venv skipped), mapped to their files."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)

    found: dict[MsgKey, list[str]] = {}
    for filename, _lineno, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault((msgid, context), []).append(filename)
    return found


@cache
def catalog(locale: str) -> Catalog:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def entries(cat: Catalog) -> list[Message]:
    return [message for message in cat if message.id]


def strings(message: Message) -> list[str]:
    value = message.string
    return list(value) if isinstance(value, tuple | list) else [value or ""]


def test_extraction_finds_the_ui_strings() -> None:
    ids = {msgid for msgid, _context in extracted()}
    assert "Conversations" in ids  # templates
    assert "Email or password is incorrect." in ids  # admin.py


def test_every_ui_string_has_a_vietnamese_translation() -> None:
    vi = catalog("vi")
    missing = []
    for (msgid, context), files in sorted(extracted().items()):
        message = vi.get(msgid, context)
        if message is None:
            missing.append(f"{msgid!r} (not in catalog; used in {', '.join(sorted(set(files)))})")
        elif message.fuzzy:
            missing.append(f"{msgid!r} (fuzzy: review it and drop the fuzzy flag)")
        elif not all(s.strip() for s in strings(message)):
            missing.append(f"{msgid!r} (empty msgstr)")
    assert not missing, (
        "Vietnamese translations missing; run scripts/i18n-update and translate them in "
        "src/chatcart/web/locale/vi/LC_MESSAGES/messages.po:\n  " + "\n  ".join(missing)
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_lists_every_ui_string(locale: str) -> None:
    cat = catalog(locale)
    missing = sorted(msgid for msgid, context in extracted() if cat.get(msgid, context) is None)
    assert not missing, f"{locale} catalog is stale; run scripts/i18n-update. Missing: {missing}"


def test_template_is_up_to_date() -> None:
    with (LOCALE_DIR / "messages.pot").open("rb") as handle:
        pot = read_po(handle)
    in_pot = {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in entries(pot)}
    assert in_pot == set(extracted()), "messages.pot is stale; run scripts/i18n-update"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_has_no_fuzzy_or_obsolete_entries(locale: str) -> None:
    cat = catalog(locale)
    assert not cat.fuzzy, "the catalog header is marked fuzzy"
    fuzzy = [m.id for m in entries(cat) if m.fuzzy]
    assert not fuzzy, f"fuzzy entries in the {locale} catalog: {fuzzy}"
    assert not cat.obsolete, f"obsolete entries in the {locale} catalog: {list(cat.obsolete)}"
    text = (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    assert not re.search(r"^#~", text, re.MULTILINE)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_valid_utf8_nfc(locale: str) -> None:
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    text = po.read_bytes().decode("utf-8")  # raises on anything that is not UTF-8
    assert unicodedata.is_normalized("NFC", text), f"{po} is not NFC-normalised"
    cat = catalog(locale)
    assert str(cat.locale) == locale
    assert cat.charset.lower() == "utf-8"
    assert cat.plural_forms
    assert not list(cat.check()), "babel's catalog checks (placeholders, plurals) failed"


def test_vietnamese_keeps_markup_literally() -> None:
    tag = re.compile(r"</?[a-zA-Z][^>]*>")
    for message in entries(catalog("vi")):
        for translated in strings(message):
            assert tag.findall(translated) == tag.findall(message.id), message.id
    widget = next(m for m in entries(catalog("vi")) if "</body>" in m.id)
    assert "</body>" in widget.string


def test_english_may_stay_empty() -> None:
    # msgstr "" falls back to the msgid; a non-empty one must at least not be blank.
    for message in entries(catalog("en")):
        assert all(s == "" or s.strip() for s in strings(message)), message.id


@pytest.mark.parametrize(
    ("locale", "msgid", "expected"),
    [
        ("vi", "Conversations", "Hội thoại"),
        ("vi", "Log in", "Đăng nhập"),
        ("vi", "Website widget", "Chat trên website"),
        ("vi", "cancelled", "đã huỷ"),
        ("en", "Conversations", "Conversations"),
        ("en", "Log in", "Log in"),
    ],
)
def test_translations_compile_and_translate(locale: str, msgid: str, expected: str) -> None:
    compiled = translations(locale)
    assert isinstance(compiled, Translations)  # the .po was found and compiled
    assert compiled.gettext(msgid) == expected


@pytest.mark.parametrize(
    ("cookie", "accept_language", "default", "expected"),
    [
        ("en", "vi-VN,vi;q=0.9", "vi", "en"),  # the cookie wins
        ("vi", "en-US", "en", "vi"),
        ("fr", "en-US", "vi", "en"),  # an unknown cookie is ignored
        (None, "vi-VN,vi;q=0.9,en;q=0.8", "en", "vi"),
        (None, "en-US", "vi", "en"),
        (None, "fr-FR,de;q=0.5", "vi", "vi"),  # nothing usable: the default
        (None, "fr", "en", "en"),
        (None, "", "en", "en"),
        (None, None, "vi", "vi"),
        (None, None, "fr", DEFAULT_LOCALE),  # an unsupported default falls back too
    ],
)
def test_pick_locale(
    cookie: str | None, accept_language: str | None, default: str, expected: str
) -> None:
    assert pick_locale(cookie, accept_language, default) == expected

"""Text normalisation: NFC for storage, diacritic folding for matching and search."""

from __future__ import annotations

import unicodedata

# Letters that NFD does not decompose into base + mark. U+00D0 "Ð" (Icelandic eth) is
# typed for "Đ" by many Vietnamese keyboards and name lists, so it folds the same way.
_EXTRA_FOLDS = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Case- and diacritic-insensitive key: 'ĐẶT HÀNG' -> 'dat hang'."""
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA_FOLDS))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())

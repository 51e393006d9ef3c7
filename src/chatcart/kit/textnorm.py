"""Text normalisation: NFC for storage, diacritic folding for matching and search."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Letters that NFD does not decompose into base + mark. U+00D0 "Ð" (Icelandic eth) is
# typed for "Đ" by many Vietnamese keyboards and name lists, so it folds the same way.
_EXTRA_FOLDS = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Case- and diacritic-insensitive key: 'ĐẶT HÀNG' -> 'dat hang'."""
    if text.isascii():  # nothing to strip
        return " ".join(text.casefold().split())
    return _fold_unicode(text)


# A message is folded by each room that reads it (shop, booking, greeter): once is enough.
@lru_cache(maxsize=2048)
def _fold_unicode(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA_FOLDS))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())

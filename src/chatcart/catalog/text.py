"""Text helpers of the catalog: handles, plain text from HTML, the search document."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from chatcart.kit.textnorm import fold, nfc

_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/li|/h\d)\s*/?>", re.IGNORECASE)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def plain_text(markup: str) -> str:
    """Shop descriptions come as HTML: chat and search want the words."""
    if "<" not in markup and "&" not in markup:
        return nfc(markup.strip())
    spaced = _BREAK.sub("\n", markup)
    text = html.unescape(_TAG.sub("", spaced))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return nfc("\n".join(line for line in lines if line).strip())


def slugify(text: str) -> str:
    """'Áo thun Đỏ size M' -> 'ao-thun-do-size-m'."""
    return _NOT_SLUG.sub("-", fold(text)).strip("-")[:180] or "product"


def category_key(path: Iterable[str]) -> str:
    return " > ".join(fold(part) for part in path)


def split_path(path: str) -> list[str]:
    return [nfc(part.strip()) for part in path.split(">") if part.strip()]


_WORD = re.compile(r"[^\W_]+")


def search_document(parts: Iterable[str | None]) -> str:
    """Folded words only, one space apart: both engines then split it the same way
    (PostgreSQL's parser would read "sp-01234" as "sp" and the integer "-01234")."""
    return " ".join(_WORD.findall(fold(" ".join(p for p in parts if p))))

"""Texts of a flow in the contact's language, with {{variables}} filled in.

A variable that has no value renders its declared default (`variables:` of the flow, or the
built-in one below), never "{{first_name}}" literally; validation refuses variables without
a default, so the empty string is only ever a declared choice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chatcart.flows.document import LANGUAGES, Localized

VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# Built-ins and their defaults per language ("Xin chào bạn!" when the name is unknown).
BUILTIN_VARIABLES: dict[str, dict[str, str]] = {
    "first_name": {"vi": "bạn", "en": "there", "tl": "kaibigan"},
    "last_name": {"vi": "", "en": "", "tl": ""},
    "name": {"vi": "bạn", "en": "there", "tl": "kaibigan"},
    "shop": {"vi": "shop", "en": "the shop", "tl": "shop"},
    "phone": {"vi": "", "en": "", "tl": ""},
    "email": {"vi": "", "en": "", "tl": ""},
}


def pick(text: Localized, language: str, default_language: str) -> str:
    if isinstance(text, str):
        return text
    for lang in (language, default_language, *LANGUAGES):
        value = text.get(lang)  # type: ignore[call-overload]
        if value is not None:
            return str(value)
    return ""


def fill(
    template: str, values: Mapping[str, Any], defaults: Mapping[str, str], language: str
) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name)
        if value is not None and value != "":
            return str(value)
        if name in defaults:
            return defaults[name]
        return BUILTIN_VARIABLES.get(name, {}).get(language, "")

    return VARIABLE.sub(one, template)

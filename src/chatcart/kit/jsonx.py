"""orjson helpers: one place that turns values into JSON text and back."""

from __future__ import annotations

from typing import Any

import orjson


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)

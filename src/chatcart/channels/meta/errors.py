"""Graph error body -> SendError (platforms.md §1.2, §1.3, §2.9, §3).

Branch on `code` / `error_subcode` only, never on the message text. The outcome tells the
outbox what to do; whether and when to retry stays the outbox's decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from chatcart.channels.base import SendError, SendOutcome
from chatcart.kit.clock import utcnow

# Outside the messaging window: Messenger, its legacy form, Instagram (§2.9, §3).
_POLICY = frozenset({(10, 2018278), (10, 2018065), (10, 2534022)})
_UNREACHABLE_CODES = frozenset({551})
_UNREACHABLE = frozenset({(200, 1545041)})
# Invalid / expired token (190, subcodes 458 app removed, 460 password changed, 463 expired,
# 467 invalid) and the old session-key error 102.
_REAUTH_CODES = frozenset({190, 102})
_REAUTH_SUBCODES = frozenset({458, 460, 463, 467})
# App, user, Page, custom and business-use-case limits (§1.3).
_RATE_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
# Unknown / temporary failures; 10/1893063 is a temporary Page send restriction (§2.9).
_TRANSIENT_CODES = frozenset({1, 2, 1200})
_TRANSIENT = frozenset({(10, 1893063)})
_USAGE_HEADERS = ("x-business-use-case-usage", "x-app-usage", "x-page-usage")


def error_code(code: int | None, subcode: int | None, status: int) -> str:
    if code is None:
        return f"http_{status}"
    return f"{code}/{subcode}" if subcode else str(code)


def graph_error(body: Any) -> dict[str, Any] | None:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return error
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def outcome_for(
    code: int | None, subcode: int | None, status: int, transient: bool = False
) -> SendOutcome:
    pair = (code, subcode)
    if pair in _POLICY:
        return "policy"
    if code in _UNREACHABLE_CODES or pair in _UNREACHABLE:
        return "unreachable"
    if code in _REAUTH_CODES or subcode in _REAUTH_SUBCODES:
        return "reauth"
    if code in _RATE_CODES or status == 429:
        return "retry"
    if code in _TRANSIENT_CODES or pair in _TRANSIENT or status >= 500 or transient:
        return "retry"
    return "failed"


def classify_error(status: int, body: Any, headers: Mapping[str, str]) -> SendError:
    """A non-2xx answer (or a 2xx with an `error` object) as the SendError to raise."""
    error = graph_error(body)
    code = _int(error.get("code")) if error else None
    subcode = _int(error.get("error_subcode")) if error else None
    transient = bool(error.get("is_transient")) if error else False
    outcome = outcome_for(code, subcode, status, transient)
    message = str(error.get("message") or "") if error else ""
    response = body if isinstance(body, dict) else {"http_status": status}
    return SendError(
        outcome,
        error_code(code, subcode, status),
        message or f"HTTP {status}",
        retry_after=retry_after(headers) if outcome == "retry" else None,
        response=response,
    )


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait: `Retry-After`, else the longest `estimated_time_to_regain_access`
    (minutes) in the usage headers (§1.3); None when nothing says."""
    lowered = {key.lower(): value for key, value in headers.items()}
    given = lowered.get("retry-after")
    if given:
        seconds = _retry_after_value(given.strip())
        if seconds is not None:
            return seconds
    minutes = [m for name in _USAGE_HEADERS for m in _regain_minutes(lowered.get(name))]
    longest = max(minutes, default=0.0)
    return longest * 60 if longest > 0 else None


def _retry_after_value(value: str) -> float | None:
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - utcnow()).total_seconds())


def _regain_minutes(header: str | None) -> list[float]:
    if not header:
        return []
    try:
        data = orjson.loads(header)
    except orjson.JSONDecodeError:
        return []
    found: list[float] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            value = node.get("estimated_time_to_regain_access")
            if isinstance(value, int | float) and not isinstance(value, bool):
                found.append(float(value))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(data)
    return found

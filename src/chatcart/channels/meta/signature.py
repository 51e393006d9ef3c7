"""`X-Hub-Signature-256` check for Meta webhooks (platforms.md §1.4).

The HMAC is over the body *as sent* (Meta escapes unicode as `\\u00e1` and `/` as `\\/`), so
hash the raw request bytes, never a re-serialised body; compare in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

_PREFIX = "sha256="
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def sign(app_secret: str, raw_body: bytes) -> str:
    """The header value Meta would send for these bytes (tests and the sandbox use it)."""
    digest = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify_signature(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    if not app_secret or not header or not header.startswith(_PREFIX):
        return False
    given = header[len(_PREFIX) :].strip()
    if len(given) != 64 or not _HEX_DIGITS.issuperset(given):
        return False
    return hmac.compare_digest(sign(app_secret, raw_body), _PREFIX + given.lower())

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class Decision(BaseModel):
    allowed: bool
    rule: str  # the rule that allowed or stopped the message, e.g. "webchat.open"
    effective: date | None = None  # when that rule took effect
    messaging_type: str = "RESPONSE"
    tag: str | None = None
    reason: str = ""  # a sentence a seller understands

"""Errors of the broadcasts room (each carries its HTTP status; main.py maps them)."""

from __future__ import annotations

from chatcart.kit.errors import Conflict, NotFound, ValidationFailed


class BroadcastNotFound(NotFound):
    code = "broadcast_not_found"


class BroadcastInvalid(ValidationFailed):
    code = "broadcast_invalid"


class SpinTextInvalid(ValidationFailed):
    """The text cannot be sent as written; details carry the 0-based position."""

    code = "spin_text_invalid"


class WrongState(Conflict):
    """Start / pause / resume / cancel asked of a broadcast whose state does not allow it."""

    code = "broadcast_wrong_state"

"""Errors the policy room raises (decide() never raises: it answers with a Decision)."""

from __future__ import annotations

from chatcart.kit.errors import NotFound


class UnknownChannel(NotFound):
    code = "unknown_channel"

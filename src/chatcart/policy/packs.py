"""Versioned rule packs, one per channel kind. Changing a platform rule is a data change here.

Only the website widget exists so far; Messenger, Instagram, WhatsApp... add their packs
with their windows, tags and effective dates (reference/platforms.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ChannelRules:
    channel: str
    version: str
    effective: date
    # Hours after the person's last message during which any message may be sent;
    # None means the channel has no window (our own widget).
    window_hours: int | None


PACKS: dict[str, ChannelRules] = {
    "webchat": ChannelRules(
        channel="webchat", version="2026-11-01", effective=date(2026, 11, 1), window_hours=None
    ),
}

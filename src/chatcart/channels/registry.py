"""Which adapter serves which channel kind."""

from __future__ import annotations

from chatcart.channels.base import ChannelAdapter
from chatcart.channels.webchat.adapter import WebchatAdapter
from chatcart.config import Settings
from chatcart.kit.pubsub import Bus


def build_adapters(settings: Settings, bus: Bus) -> dict[str, ChannelAdapter]:
    adapters: list[ChannelAdapter] = [WebchatAdapter(bus, settings.widget_max_message_chars)]
    return {adapter.kind: adapter for adapter in adapters}

"""Which adapter serves which channel kind, each reaching its platform through the base
URL in settings (tests and the demo point them at chatcart.sandbox)."""

from __future__ import annotations

import contextlib

from chatcart.channels.base import ChannelAdapter
from chatcart.channels.instagram.adapter import InstagramAdapter
from chatcart.channels.messenger.adapter import MessengerAdapter
from chatcart.channels.webchat.adapter import WebchatAdapter
from chatcart.config import Settings
from chatcart.kit.pubsub import Bus


def build_adapters(settings: Settings, bus: Bus) -> dict[str, ChannelAdapter]:
    adapters: list[ChannelAdapter] = [
        WebchatAdapter(bus, settings.widget_max_message_chars),
        MessengerAdapter(settings.graph_api_url, settings.graph_api_version),
        InstagramAdapter(settings.graph_api_url, settings.graph_api_version),
    ]
    return {adapter.kind: adapter for adapter in adapters}


async def close_adapters(adapters: dict[str, ChannelAdapter]) -> None:
    for adapter in adapters.values():
        close = getattr(adapter, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()

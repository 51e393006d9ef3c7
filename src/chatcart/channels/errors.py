from __future__ import annotations

from chatcart.kit.errors import NotFound


class ChannelAccountNotFound(NotFound):
    code = "channel_account_not_found"

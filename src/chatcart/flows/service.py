"""The flows room's only door."""

from __future__ import annotations

from chatcart.channels.base import MessageContent
from chatcart.flows import greeter
from chatcart.flows.schemas import BotInput


def respond(data: BotInput) -> list[MessageContent]:
    return greeter.reply(data)


def respond_to_comment(data: BotInput) -> MessageContent:
    return greeter.comment_reply(data)

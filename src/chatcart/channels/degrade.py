"""Fit content to what a channel can show: buttons and extra quick replies become a
numbered list instead of a failed send (Rasa's output-channel fallback)."""

from __future__ import annotations

from chatcart.channels.base import Capabilities, MessageContent


def degrade(content: MessageContent, caps: Capabilities) -> MessageContent:
    text = content.text
    lines: list[str] = []
    buttons = content.buttons
    if len(buttons) > caps.buttons:
        for number, button in enumerate(buttons, start=1):
            target = f" ({button.url})" if button.url else ""
            lines.append(f"{number}. {button.title}{target}")
        buttons = []
    quick = content.quick_replies
    if len(quick) > caps.quick_replies:
        offset = len(lines)
        lines.extend(f"{offset + n}. {q.title}" for n, q in enumerate(quick, start=1))
        quick = []
    if lines:
        text = "\n".join([text, *lines]) if text else "\n".join(lines)
    if len(text) > caps.max_text_chars:
        text = text[: caps.max_text_chars - 1] + "…"
    attachments = content.attachments if caps.attachments else []
    if not caps.attachments and content.attachments:
        urls = [a.url for a in content.attachments if a.url]
        text = "\n".join([text, *urls]) if text else "\n".join(urls)
    return MessageContent(text=text, attachments=attachments, quick_replies=quick, buttons=buttons)

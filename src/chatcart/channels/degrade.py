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
    attachments = content.attachments if caps.attachments else []
    links = "" if caps.attachments else "\n".join(a.url for a in content.attachments if a.url)
    # Cut the text, never the links, so the whole fits the channel's limit.
    room = caps.max_text_chars - (len(links) + 1 if links and text else len(links))
    if len(text) > room:
        text = text[: max(0, room - 1)] + "…" if room > 0 else ""
    if links:
        text = f"{text}\n{links}" if text else links
    # Links longer than the whole limit: a cut send beats one the platform rejects.
    text = text[: caps.max_text_chars]
    return MessageContent(text=text, attachments=attachments, quick_replies=quick, buttons=buttons)

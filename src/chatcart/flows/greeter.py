"""The built-in greeter: greets first-time and greeting messages in the customer's language
and acknowledges the rest. Pure: text in, replies out."""

from __future__ import annotations

import re

from chatcart.channels.base import MessageContent, QuickReply
from chatcart.flows.schemas import BotInput
from chatcart.kit.textnorm import fold

# Greeting phrases (folded) and the filler words that may come with them: "Xin chào shop ạ!"
_GREETINGS = (
    ("xin", "chao"),
    ("chao",),
    ("alo",),
    ("hello",),
    ("hi",),
    ("hey",),
    ("helo",),
    ("good", "morning"),
    ("good", "afternoon"),
    ("good", "evening"),
    ("kumusta",),
    ("musta",),
    ("magandang", "araw"),
    ("magandang", "umaga"),
    ("magandang", "gabi"),
)
_FILLER = {
    "shop",
    "ban",
    "a",
    "oi",
    "nhe",
    "po",
    "there",
    "everyone",
    "admin",
    "ad",
    "em",
    "anh",
    "chi",
    "ca",
    "nha",
    "ha",
}

# Words typed without diacritics that still say "Vietnamese" (or Tagalog, or English).
_VI_WORDS = {"xin", "chao", "oi", "minh", "khong", "ko", "nhe", "alo", "dat", "hang", "gia", "cam"}
_TL_WORDS = {"po", "kumusta", "musta", "salamat", "magkano", "pwede", "ba", "opo", "magandang"}
_EN_WORDS = {"hello", "hi", "hey", "thanks", "price", "order", "the", "is", "do", "you", "good"}

_TEXT = {
    "vi": {
        "greet": "Xin chào{name}! 👋 Chào mừng bạn đến với {shop}. Mình có thể giúp gì cho bạn?",
        "ack": "Cảm ơn bạn! {shop} đã nhận được tin nhắn, nhân viên sẽ trả lời bạn sớm nhất.",
        "products": "Xem sản phẩm",
        "human": "Gặp nhân viên",
    },
    "en": {
        "greet": "Hello{name}! 👋 Welcome to {shop}. How can we help you today?",
        "ack": "Thank you! {shop} got your message; someone from the shop will reply soon.",
        "products": "See products",
        "human": "Talk to a person",
    },
    "tl": {
        "greet": "Kumusta{name}! 👋 Welcome sa {shop}. Paano ka namin matutulungan?",
        "ack": (
            "Salamat! Natanggap ng {shop} ang mensahe mo; "
            "sasagot ang shop sa lalong madaling panahon."
        ),
        "products": "Tingnan ang products",
        "human": "Kausapin ang tao",
    },
}


def words_of(text: str) -> list[str]:
    """Folded words, punctuation dropped: "Xin chào shop!" -> ["xin", "chao", "shop"]."""
    return re.findall(r"[^\W_]+", fold(text))


def is_greeting(text: str) -> bool:
    words = words_of(text)
    for phrase in _GREETINGS:
        if tuple(words[: len(phrase)]) == phrase:
            return all(w in _FILLER for w in words[len(phrase) :])
    return False


def guess_language(text: str, fallback: str) -> str:
    """vi for Vietnamese letters or words, tl for Tagalog words, en for English ones."""
    if any(ord(ch) > 0x7F and ch.isalpha() and ch not in "ñÑ" for ch in text):
        return "vi"
    words = set(words_of(text))
    for language, vocabulary in (("tl", _TL_WORDS), ("vi", _VI_WORDS), ("en", _EN_WORDS)):
        if words & vocabulary:
            return language
    return fallback


def comment_reply(data: BotInput) -> MessageContent:
    """The private message that answers a public comment (one message: Meta allows one)."""
    language = guess_language(data.text, data.contact_locale or data.workspace_locale)
    text = {
        "vi": "Cảm ơn bạn đã bình luận! {shop} nhắn riêng để tư vấn kỹ hơn nhé. "
        "Bạn cần shop giúp gì ạ?",
        "tl": "Salamat sa comment mo! Nag-message ang {shop} para matulungan ka. "
        "Ano ang kailangan mo?",
        "en": "Thanks for your comment! {shop} is messaging you to help. What are you looking for?",
    }
    return MessageContent(text=text.get(language, text["en"]).format(shop=data.workspace_name))


def reply(data: BotInput) -> list[MessageContent]:
    language = guess_language(data.text, data.contact_locale or data.workspace_locale)
    texts = _TEXT.get(language, _TEXT["en"])
    # The given name: what the platform calls first_name, else the last word of a
    # Vietnamese full name (family name first: "Nguyễn Văn An" -> "An").
    given = data.contact_first_name or (data.contact_name.split() or [""])[-1]
    name = f" {given}" if given else ""
    if data.first_message or is_greeting(data.text):
        return [
            MessageContent(
                text=texts["greet"].format(name=name, shop=data.workspace_name),
                quick_replies=[
                    QuickReply(title=texts["products"], payload="PRODUCTS"),
                    QuickReply(title=texts["human"], payload="HUMAN"),
                ],
            )
        ]
    return [MessageContent(text=texts["ack"].format(shop=data.workspace_name))]

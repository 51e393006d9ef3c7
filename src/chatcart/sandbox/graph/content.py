"""Send API content rules (platforms.md 2.1; Instagram differences in 3).

- exactly one of `text` / `attachment` (/ `sticker_id`, Messenger only) [S]
- text ≤ 2000 characters (Instagram ≤ 1000) — counted in Unicode code points [U]
- quick replies ≤ 13 [V]; Instagram: text quick replies only [V]
- generic template: 1–10 elements, title required ≤ 80, subtitle ≤ 80, title plus at least one
  other field, ≤ 3 buttons per element [V]
- button template: text 1–640 characters, 1–3 buttons [V]
- receipt template: recipient_name, order_number, currency, payment_method, summary.total_cost
  required; address, when given, needs street_1, city, postal_code, state, country [S]
- media template: one element, media_type image|video, exactly one of url / attachment_id [S]
- Instagram accepts generic, button and product templates only [U: 3 lists generic (V) and
  button (U); receipt/media are not listed, so the fake rejects them].

Decisions where platforms.md has no number: quick-reply and postback payloads ≤ 1000 chars
(2.1 "[U]"), metadata ≤ 1000 chars [U], button titles are not length-checked (Meta truncates
display titles; no documented rejection). Unknown keys in `message`, `recipient`, quick
replies, attachments and template payloads are rejected with code 100 (Graph validates object
parameters field by field) [U].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from chatcart.sandbox.graph.errors import GraphError, invalid_parameter
from chatcart.sandbox.graph.model import Platform

Bucket = Literal["text", "media"]

TEXT_LIMIT: dict[Platform, int] = {"messenger": 2000, "instagram": 1000}
MAX_QUICK_REPLIES = 13
MAX_ELEMENTS = 10
MAX_TITLE = 80
MAX_BUTTONS = 3
MAX_BUTTON_TEXT = 640
MAX_PAYLOAD = 1000
MAX_METADATA = 1000
MAX_OPTIN_TITLE = 65

MESSAGE_KEYS = frozenset({"text", "attachment", "quick_replies", "metadata", "sticker_id"})
QUICK_REPLY_TYPES = frozenset({"text", "user_phone_number", "user_email"})
MEDIA_TYPES = frozenset({"image", "audio", "video", "file"})
TEMPLATE_TYPES: dict[Platform, frozenset[str]] = {
    "messenger": frozenset(
        {"generic", "button", "media", "receipt", "product", "notification_messages"}
    ),
    "instagram": frozenset({"generic", "button", "product"}),
}
BUTTON_TYPES = frozenset(
    {"web_url", "postback", "phone_number", "account_link", "account_unlink", "game_play"}
)
RETIRED_TEMPLATES = frozenset({"one_time_notif_req", "list", "open_graph", "airline_boardingpass"})


@dataclass(frozen=True)
class ContentCheck:
    bucket: Bucket  # which rate-limit bucket the send draws from (2.10)
    optin_title: str | None = None  # set for a marketing opt-in request template (2.4)


def fail(detail: str) -> GraphError:
    return invalid_parameter(detail, reason=f"content rule (platforms.md 2.1): {detail}")


def _dict(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(f"param {name} must be a JSON object")
    return value


def _list(value: Any, name: str, low: int, high: int) -> list[Any]:
    if not isinstance(value, list):
        raise fail(f"param {name} must be an array")
    if not low <= len(value) <= high:
        raise fail(f"param {name} must have between {low} and {high} elements, got {len(value)}")
    return value


def _keys(obj: dict[str, Any], allowed: frozenset[str] | set[str], name: str) -> None:
    for key in obj:
        if key not in allowed:
            raise fail(f'Unexpected key "{key}" on param "{name}"')


def _text(value: Any, name: str, *, limit: int | None = None, required: bool = True) -> str | None:
    if value is None:
        if required:
            raise fail(f"param {name} is required")
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise fail(f"param {name} must be a non-empty UTF-8 encoded string")
    if limit is not None and len(value) > limit:
        raise fail(f"Length of param {name} must be less than or equal to {limit}")
    return value


def _url(value: Any, name: str) -> None:
    text = _text(value, name)
    assert text is not None
    if not text.startswith(("https://", "http://")):
        raise fail(f"param {name} must be a valid URL")


def _number(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(f"param {name} must be a number")


def check_message(message: Any, platform: Platform) -> ContentCheck:
    msg = _dict(message, "message")
    _keys(msg, MESSAGE_KEYS, "message")
    content = [k for k in ("text", "attachment", "sticker_id") if msg.get(k) is not None]
    if len(content) != 1:
        raise fail("message must have exactly one of text or attachment")
    if "metadata" in msg:
        _text(msg["metadata"], "message[metadata]", limit=MAX_METADATA)
    if "quick_replies" in msg:
        _quick_replies(msg["quick_replies"], platform)
    if "text" in content:
        _text(msg["text"], "message[text]", limit=TEXT_LIMIT[platform])
        return ContentCheck("text")
    if "sticker_id" in content:
        if platform == "instagram":
            raise fail('Unexpected key "sticker_id" on param "message"')
        if isinstance(msg["sticker_id"], bool) or not isinstance(msg["sticker_id"], int | str):
            raise fail("param message[sticker_id] must be a sticker id")
        return ContentCheck("text")
    return _attachment(msg["attachment"], platform)


def _quick_replies(value: Any, platform: Platform) -> None:
    replies = _list(value, "message[quick_replies]", 1, MAX_QUICK_REPLIES)
    allowed = frozenset({"text"}) if platform == "instagram" else QUICK_REPLY_TYPES
    for i, raw in enumerate(replies):
        name = f"message[quick_replies][{i}]"
        qr = _dict(raw, name)
        _keys(qr, {"content_type", "title", "payload", "image_url"}, name)
        kind = qr.get("content_type")
        if kind not in allowed:
            raise fail(f"param {name}[content_type] must be one of {sorted(allowed)}")
        if kind == "text":
            _text(qr.get("title"), f"{name}[title]")
            _text(qr.get("payload"), f"{name}[payload]", limit=MAX_PAYLOAD)
        if "image_url" in qr:
            _url(qr["image_url"], f"{name}[image_url]")


def _attachment(value: Any, platform: Platform) -> ContentCheck:
    att = _dict(value, "message[attachment]")
    _keys(att, {"type", "payload"}, "message[attachment]")
    kind = att.get("type")
    payload = _dict(att.get("payload"), "message[attachment][payload]")
    if kind in MEDIA_TYPES:
        _keys(payload, {"url", "attachment_id", "is_reusable"}, "message[attachment][payload]")
        sources = [k for k in ("url", "attachment_id") if payload.get(k) is not None]
        if len(sources) != 1:
            raise fail("attachment payload needs exactly one of url or attachment_id")
        if "url" in sources:
            _url(payload["url"], "message[attachment][payload][url]")
        return ContentCheck("media" if kind in ("audio", "video") else "text")
    if kind != "template":
        raise fail("param message[attachment][type] must be one of image, audio, video, file")
    template = payload.get("template_type")
    if template in RETIRED_TEMPLATES:
        raise fail(f"template_type {template} is no longer supported")
    if template not in TEMPLATE_TYPES[platform]:
        raise fail(f"template_type {template!r} is not supported on {platform}")
    if template == "generic":
        _generic(payload)
    elif template == "button":
        _button_template(payload)
    elif template == "media":
        _media_template(payload)
    elif template == "receipt":
        _receipt(payload)
    elif template == "product":
        _product(payload)
    else:
        return ContentCheck("text", optin_title=_optin_request(payload))
    return ContentCheck("text")


P = "message[attachment][payload]"


def _buttons(value: Any, name: str, low: int) -> None:
    buttons = _list(value, name, low, MAX_BUTTONS)
    for i, raw in enumerate(buttons):
        bname = f"{name}[{i}]"
        button = _dict(raw, bname)
        kind = button.get("type")
        if kind not in BUTTON_TYPES:
            raise fail(f"param {bname}[type] must be one of {sorted(BUTTON_TYPES)}")
        if kind in ("web_url", "postback", "phone_number"):
            _text(button.get("title"), f"{bname}[title]")
        if kind in ("web_url", "account_link"):
            _url(button.get("url"), f"{bname}[url]")
            ratio = button.get("webview_height_ratio")
            if ratio is not None and ratio not in ("compact", "tall", "full"):
                raise fail(f"param {bname}[webview_height_ratio] must be compact, tall or full")
        if kind == "postback":
            _text(button.get("payload"), f"{bname}[payload]", limit=MAX_PAYLOAD)
        if kind == "phone_number":
            phone = _text(button.get("payload"), f"{bname}[payload]")
            if phone is None or not phone.startswith("+"):
                raise fail(f"param {bname}[payload] must be a phone number starting with +")


def _generic(payload: dict[str, Any]) -> None:
    _keys(payload, {"template_type", "elements", "image_aspect_ratio", "sharable"}, P)
    ratio = payload.get("image_aspect_ratio")
    if ratio is not None and ratio not in ("horizontal", "square"):
        raise fail("param image_aspect_ratio must be horizontal or square")
    elements = _list(payload.get("elements"), f"{P}[elements]", 1, MAX_ELEMENTS)
    for i, raw in enumerate(elements):
        name = f"{P}[elements][{i}]"
        el = _dict(raw, name)
        _keys(el, {"title", "subtitle", "image_url", "default_action", "buttons"}, name)
        _text(el.get("title"), f"{name}[title]", limit=MAX_TITLE)
        _text(el.get("subtitle"), f"{name}[subtitle]", limit=MAX_TITLE, required=False)
        if not any(el.get(k) for k in ("subtitle", "image_url", "default_action", "buttons")):
            raise fail(f"{name} must have a title and at least one other field")
        if "image_url" in el:
            _url(el["image_url"], f"{name}[image_url]")
        if "default_action" in el:
            action = _dict(el["default_action"], f"{name}[default_action]")
            if "title" in action:
                raise fail(f"param {name}[default_action] cannot have a title")
            if action.get("type") != "web_url":
                raise fail(f"param {name}[default_action][type] must be web_url")
            _url(action.get("url"), f"{name}[default_action][url]")
        if "buttons" in el:
            _buttons(el["buttons"], f"{name}[buttons]", 1)


def _button_template(payload: dict[str, Any]) -> None:
    _keys(payload, {"template_type", "text", "buttons", "sharable"}, P)
    _text(payload.get("text"), f"{P}[text]", limit=MAX_BUTTON_TEXT)
    _buttons(payload.get("buttons"), f"{P}[buttons]", 1)


def _media_template(payload: dict[str, Any]) -> None:
    _keys(payload, {"template_type", "elements", "sharable"}, P)
    elements = _list(payload.get("elements"), f"{P}[elements]", 1, 1)
    el = _dict(elements[0], f"{P}[elements][0]")
    _keys(el, {"media_type", "url", "attachment_id", "buttons"}, f"{P}[elements][0]")
    if el.get("media_type") not in ("image", "video"):
        raise fail("param media_type must be image or video")
    if len([k for k in ("url", "attachment_id") if el.get(k) is not None]) != 1:
        raise fail("media template element needs exactly one of url or attachment_id")
    if "buttons" in el:
        _buttons(el["buttons"], f"{P}[elements][0][buttons]", 1)


RECEIPT_KEYS = frozenset(
    {
        "template_type", "sharable", "recipient_name", "merchant_name", "order_number",
        "currency", "payment_method", "timestamp", "elements", "address", "summary",
        "adjustments", "order_url",
    }
)  # fmt: skip


def _receipt(payload: dict[str, Any]) -> None:
    _keys(payload, RECEIPT_KEYS, P)
    for key in ("recipient_name", "order_number", "payment_method"):
        _text(payload.get(key), f"{P}[{key}]")
    currency = _text(payload.get("currency"), f"{P}[currency]")
    if currency is None or len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise fail("param currency must be an ISO 4217 code such as VND")
    summary = _dict(payload.get("summary"), f"{P}[summary]")
    _keys(summary, {"subtotal", "shipping_cost", "total_tax", "total_cost"}, f"{P}[summary]")
    if "total_cost" not in summary:
        raise fail(f"param {P}[summary][total_cost] is required")
    for key, value in summary.items():
        _number(value, f"{P}[summary][{key}]")
    if "elements" in payload:
        elements = _list(payload["elements"], f"{P}[elements]", 0, 100)
        for i, raw in enumerate(elements):
            name = f"{P}[elements][{i}]"
            el = _dict(raw, name)
            allowed = {"title", "subtitle", "quantity", "price", "currency", "image_url"}
            _keys(el, allowed, name)
            _text(el.get("title"), f"{name}[title]")
            if "price" not in el:
                raise fail(f"param {name}[price] is required")
            _number(el["price"], f"{name}[price]")
            if "quantity" in el:
                _number(el["quantity"], f"{name}[quantity]")
    if "address" in payload:
        address = _dict(payload["address"], f"{P}[address]")
        required = ("street_1", "city", "postal_code", "state", "country")
        _keys(address, {*required, "street_2"}, f"{P}[address]")
        for key in required:
            _text(address.get(key), f"{P}[address][{key}]")


def _product(payload: dict[str, Any]) -> None:
    _keys(payload, {"template_type", "elements"}, P)
    for i, raw in enumerate(_list(payload.get("elements"), f"{P}[elements]", 1, MAX_ELEMENTS)):
        el = _dict(raw, f"{P}[elements][{i}]")
        _keys(el, {"id"}, f"{P}[elements][{i}]")
        _text(el.get("id"), f"{P}[elements][{i}][id]")


OPTIN_KEYS = frozenset(
    {
        "template_type", "title", "image_url", "payload", "notification_messages_frequency",
        "notification_messages_reoptin", "notification_messages_timezone",
        "notification_messages_cta_text",
    }
)  # fmt: skip


def _optin_request(payload: dict[str, Any]) -> str:
    """Marketing-messages opt-in request (2.4)."""
    _keys(payload, OPTIN_KEYS, P)
    title = _text(payload.get("title"), f"{P}[title]", limit=MAX_OPTIN_TITLE)
    _text(payload.get("payload"), f"{P}[payload]", limit=MAX_PAYLOAD)
    enums = {
        "notification_messages_frequency": ("DAILY", "WEEKLY", "MONTHLY"),
        "notification_messages_reoptin": ("ENABLED", "DISABLED"),
        "notification_messages_cta_text": ("ALLOW", "FREQUENCY", "GET", "OPT_IN", "SIGN_UP"),
    }
    for key, values in enums.items():
        if key in payload and payload[key] not in values:
            raise fail(f"param {P}[{key}] must be one of {', '.join(values)}")
    if "image_url" in payload:
        _url(payload["image_url"], f"{P}[image_url]")
    assert title is not None
    return title

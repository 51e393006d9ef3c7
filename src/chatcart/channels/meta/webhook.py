"""Split one Meta webhook POST into items to record (platforms.md §1.4, §2.5, §2.6, §3).

A POST carries `entry[]` (one per Page / IG account), each with `messaging[]`, `standby[]`
(threads another app owns) or `changes[]` (feed, IG comments). Every item is recorded on its
own, keyed by an id that makes a redelivery a no-op; `parse` later reads one item back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from chatcart.channels.base import ParseError
from chatcart.kit.errors import AppError

WebhookObject = Literal["page", "instagram"]

MESSAGING_FIELDS = ("messaging", "standby")
# Dashboard "Test" buttons send messaging events as `changes[] = {"field": "messages",
# "value": <messaging item>}` (platforms.md §2.5); they are read like `messaging[]` items.
MESSAGING_CHANGE_FIELDS = frozenset(
    {
        "messages",
        "message_echoes",
        "messaging_postbacks",
        "messaging_referrals",
        "messaging_referral",
        "messaging_optins",
        "message_deliveries",
        "message_reads",
        "messaging_seen",
    }
)
IG_COMMENT_FIELDS = frozenset({"comments", "live_comments"})


class WebhookError(AppError):
    """The POST is not a Meta webhook batch we can record; carries the HTTP answer."""

    code = "bad_webhook"

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.status_code = status


@dataclass(frozen=True)
class WebhookItem:
    external_id: str  # unique per channel account: a redelivery records nothing new
    sender_id: str | None  # the person (PSID / IGSID / comment author), when the item names one
    page_id: str  # entry.id: the Page id, or the IG professional account id
    body: bytes  # what `parse` reads: {"object", "entry_id", "entry_time", "field", "item"}


@dataclass(frozen=True)
class WebhookBatch:
    object: WebhookObject
    items: tuple[WebhookItem, ...]
    page_ids: tuple[str, ...]  # every entry.id seen, in order, once each


@dataclass(frozen=True)
class RecordedItem:
    """One recorded item read back (the inverse of `WebhookItem.body`)."""

    object: str
    entry_id: str
    entry_time: Any
    field: str
    item: dict[str, Any]


def split_webhook(raw_body: bytes, expected_object: WebhookObject) -> WebhookBatch:
    try:
        data = orjson.loads(raw_body)
    except orjson.JSONDecodeError as exc:
        raise WebhookError(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise WebhookError("body is not a JSON object")
    obj = data.get("object")
    if obj != expected_object:
        raise WebhookError(f"unknown object {obj!r}; this endpoint takes {expected_object!r}")
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise WebhookError("missing entry[]")
    items: list[WebhookItem] = []
    page_ids: dict[str, None] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str | int):
            raise WebhookError("entry without an id")
        page_id = str(entry["id"])
        page_ids[page_id] = None
        for field in (*MESSAGING_FIELDS, "changes"):
            listed = entry.get(field)
            if listed is None:
                continue
            if not isinstance(listed, list):
                raise WebhookError(f"entry.{field} is not a list")
            for raw in listed:
                if not isinstance(raw, dict):
                    raise WebhookError(f"entry.{field}[] item is not an object")
                item_field = field if field != "changes" else _change_field(raw)
                items.append(_item(expected_object, entry, page_id, item_field, raw))
    return WebhookBatch(object=expected_object, items=tuple(items), page_ids=tuple(page_ids))


def decode_item(body: bytes) -> RecordedItem:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"recorded item is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("item"), dict):
        raise ParseError("recorded item has no item object")
    return RecordedItem(
        object=str(data.get("object")),
        entry_id=str(data.get("entry_id")),
        entry_time=data.get("entry_time"),
        field=str(data.get("field")),
        item=data["item"],
    )


def item_external_id(obj: str, entry_id: str, field: str, item: dict[str, Any]) -> str:
    """The id that makes a redelivery a no-op; `parse` gives its events the same id."""
    if field in MESSAGING_FIELDS:
        return _messaging_id(item) or _hashed(obj, entry_id, field, item)
    value = item.get("value")
    if not isinstance(value, dict):
        return _hashed(obj, entry_id, field, item)
    if field == "feed" and value.get("item") == "comment" and value.get("comment_id"):
        verb = str(value.get("verb") or "add")
        if verb == "edited":  # each edit is news: tell two edits apart by their content
            return f"cmt:{value['comment_id']}:edited:{_hashed(obj, entry_id, field, item)[2:14]}"
        return f"cmt:{value['comment_id']}:{verb}"
    if field in IG_COMMENT_FIELDS and value.get("id"):
        return f"igc:{value['id']}"
    if field in MESSAGING_CHANGE_FIELDS:
        return _messaging_id(value) or _hashed(obj, entry_id, field, item)
    return _hashed(obj, entry_id, field, item)


def item_sender_id(field: str, item: dict[str, Any]) -> str | None:
    if field in MESSAGING_FIELDS:
        return messaging_sender(item)
    value = item.get("value")
    if not isinstance(value, dict):
        return None
    if field in MESSAGING_CHANGE_FIELDS:
        return messaging_sender(value)
    author = value.get("from")
    return _id_of(author)


def _change_field(change: dict[str, Any]) -> str:
    field = change.get("field")
    if not isinstance(field, str) or not field:
        raise WebhookError("entry.changes[] item without a field")
    return field


def _item(
    obj: str, entry: dict[str, Any], page_id: str, field: str, raw: dict[str, Any]
) -> WebhookItem:
    body = orjson.dumps(
        {
            "object": obj,
            "entry_id": page_id,
            "entry_time": entry.get("time"),
            "field": field,
            "item": raw,
        }
    )
    return WebhookItem(
        external_id=item_external_id(obj, page_id, field, raw),
        sender_id=item_sender_id(field, raw),
        page_id=page_id,
        body=body,
    )


def _id_of(party: Any) -> str | None:
    if isinstance(party, dict) and isinstance(party.get("id"), str | int):
        return str(party["id"])
    return None


def messaging_sender(item: dict[str, Any]) -> str | None:
    message = item.get("message")
    if isinstance(message, dict) and message.get("is_echo"):
        return _id_of(item.get("recipient"))  # echoes: sender = Page, recipient = PSID
    sender = item.get("sender")
    found = _id_of(sender)
    if found is None and isinstance(sender, dict) and sender.get("user_ref"):
        found = str(sender["user_ref"])
    optin = item.get("optin")
    if found is None and isinstance(optin, dict) and optin.get("user_ref"):
        found = str(optin["user_ref"])  # checkbox plugin: only a user_ref (platforms.md §2.5)
    return found


def _messaging_id(item: dict[str, Any]) -> str | None:
    sender = messaging_sender(item) or "-"
    stamp = item.get("timestamp")
    message = item.get("message")
    if isinstance(message, dict):
        return str(message["mid"]) if message.get("mid") else None
    postback = item.get("postback")
    if isinstance(postback, dict):
        if postback.get("mid"):
            return str(postback["mid"])
        return f"pb:{sender}:{stamp}" if stamp is not None else None
    for key, prefix in (("delivery", "dlv"), ("read", "read")):
        receipt = item.get(key)
        if isinstance(receipt, dict):
            mark = receipt.get("watermark") or receipt.get("mid")  # IG seen: read.mid
            return f"{prefix}:{sender}:{mark}" if mark is not None else None
    for key, prefix in (("referral", "ref"), ("optin", "optin")):
        if isinstance(item.get(key), dict) and stamp is not None:
            return f"{prefix}:{sender}:{stamp}"
    return None


def _hashed(obj: str, entry_id: str, field: str, item: dict[str, Any]) -> str:
    # entry.time is left out: a redelivery may carry a new one.
    canonical = orjson.dumps(
        {"object": obj, "entry_id": entry_id, "field": field, "item": item},
        option=orjson.OPT_SORT_KEYS,
    )
    return "h:" + hashlib.sha256(canonical).hexdigest()[:40]

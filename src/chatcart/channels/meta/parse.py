"""Recorded Meta webhook items -> InboundEvent DTOs (platforms.md §2.5, §2.6, §3).

One item gives zero or one event: receipts, echoes, comments and story mentions are events
too; reactions, edits, handover notices and non-comment feed changes give none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chatcart.channels.base import (
    AccountRef,
    Attachment,
    CommentRef,
    InboundEvent,
    MessageContent,
    OptinRef,
    ParseError,
)
from chatcart.channels.meta.webhook import (
    IG_COMMENT_FIELDS,
    MESSAGING_CHANGE_FIELDS,
    MESSAGING_FIELDS,
    RecordedItem,
    decode_item,
    item_external_id,
    messaging_sender,
)
from chatcart.kit.textnorm import nfc

_MEDIA = ("image", "video", "audio", "file")


def parse_recorded(body: bytes, account: AccountRef, expected_object: str) -> list[InboundEvent]:
    recorded = decode_item(body)
    if recorded.object != expected_object:
        raise ParseError(f"item of object {recorded.object!r}, expected {expected_object!r}")
    external_id = item_external_id(
        recorded.object, recorded.entry_id, recorded.field, recorded.item
    )
    if recorded.field in MESSAGING_FIELDS:
        events = parse_messaging(recorded.item, external_id)
        if recorded.field == "standby":  # another app owns the thread: we only listen
            events = [event.model_copy(update={"standby": True}) for event in events]
        return events
    value = recorded.item.get("value")
    if not isinstance(value, dict):
        raise ParseError(f"{recorded.field} change without a value object")
    if recorded.field in MESSAGING_CHANGE_FIELDS:
        return parse_messaging(value, external_id)
    if recorded.field == "feed" and expected_object == "page":
        return _feed_comment(recorded, value, external_id)
    if recorded.field in IG_COMMENT_FIELDS and expected_object == "instagram":
        return _ig_comment(recorded, value, external_id)
    return []


def epoch_to_utc(value: Any) -> datetime:
    """Meta stamps: epoch ms on messaging, epoch seconds on feed / dashboard tests, sometimes
    as strings or ISO 8601 text. Tell seconds from ms by size (1e11 s is the year 5138)."""
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit():
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError as exc:
                raise ParseError(f"not a timestamp: {value!r}") from exc
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParseError(f"not a timestamp: {value!r}")
    seconds = value / 1000 if abs(value) >= 1e11 else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ParseError(f"timestamp out of range: {value!r}") from exc


def parse_messaging(item: dict[str, Any], external_id: str) -> list[InboundEvent]:
    sender_id = messaging_sender(item)
    if not sender_id:
        raise ParseError("messaging item without a sender")
    if "timestamp" not in item:
        raise ParseError("messaging item without a timestamp")
    base: dict[str, Any] = {
        "external_id": external_id,
        "sender_id": sender_id,
        "timestamp": epoch_to_utc(item["timestamp"]),
    }
    if "message" in item:
        return _message(_obj(item, "message"), item, base)
    if "postback" in item:
        postback = _obj(item, "postback")
        event = InboundEvent(
            kind="postback",
            content=MessageContent(text=nfc(str(postback.get("title") or ""))),
            payload=_str_or_none(postback.get("payload")),
            referral=_referral(postback.get("referral")),
            **base,
        )
        return [event]
    if "referral" in item:
        referral = _referral(_obj(item, "referral"))
        return [InboundEvent(kind="referral", referral=referral, **base)]
    if "optin" in item:
        return [InboundEvent(kind="optin", optin=_optin(_obj(item, "optin")), **base)]
    if "delivery" in item:
        return [_receipt("delivery", _obj(item, "delivery"), base)]
    if "read" in item:
        return [_receipt("read", _obj(item, "read"), base)]
    return []  # reaction, message_edit, handover notices: not events we act on


def _obj(item: dict[str, Any], key: str) -> dict[str, Any]:
    value = item.get(key)
    if not isinstance(value, dict):
        raise ParseError(f"{key} is not an object")
    return value


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _message(
    message: dict[str, Any], item: dict[str, Any], base: dict[str, Any]
) -> list[InboundEvent]:
    if message.get("is_deleted"):
        return []  # IG unsend: nothing to answer
    text = message.get("text")
    if text is not None and not isinstance(text, str):
        raise ParseError("message.text is not a string")
    raw_attachments = message.get("attachments")
    raw_attachments = [] if raw_attachments is None else raw_attachments
    if not isinstance(raw_attachments, list):
        raise ParseError("message.attachments is not a list")
    kind = "echo" if message.get("is_echo") else "message"
    attachments: list[Attachment] = []
    for raw in raw_attachments:
        if not isinstance(raw, dict):
            raise ParseError("message.attachments[] item is not an object")
        if raw.get("type") == "story_mention" and kind == "message":
            kind = "story_mention"  # keep the CDN URL only; never download it (§3)
        found = _attachment(raw)
        if found is not None:
            attachments.append(found)
    quick_reply = message.get("quick_reply")
    payload = quick_reply.get("payload") if isinstance(quick_reply, dict) else None
    referral = message.get("referral") or item.get("referral")
    event = InboundEvent(
        kind=kind,
        content=MessageContent(text=nfc(text or ""), attachments=attachments),
        payload=_str_or_none(payload),
        referral=_referral(referral) if isinstance(referral, dict) else None,
        reply_to=_reply_to(message.get("reply_to")),
        app_id=_str_or_none(message.get("app_id")) if kind == "echo" else None,
        metadata=_str_or_none(message.get("metadata")) if kind == "echo" else None,
        **base,
    )
    return [event]


def _attachment(raw: dict[str, Any]) -> Attachment | None:
    kind = raw.get("type")
    payload = raw.get("payload")
    payload = payload if isinstance(payload, dict) else {}
    url = _str_or_none(payload.get("url") or raw.get("url"))
    title = _str_or_none(payload.get("title") or raw.get("title"))
    sticker_id = payload.get("sticker_id")
    if kind == "sticker" or (kind == "image" and sticker_id is not None):
        # Until base.Attachment has a sticker_id field, the id rides in `name`.
        return Attachment(kind="sticker", url=url, name=_str_or_none(sticker_id))
    if kind in _MEDIA:
        return Attachment(kind=kind, url=url, name=title)
    if kind == "location":
        coordinates = payload.get("coordinates")
        coordinates = coordinates if isinstance(coordinates, dict) else {}
        return Attachment(
            kind="location",
            url=url,
            name=title,
            latitude=_float(coordinates.get("lat")),
            longitude=_float(coordinates.get("long")),
        )
    if kind in ("reel", "ig_reel"):
        return Attachment(kind="video", url=url, name=title)
    if kind == "story_mention":
        return Attachment(kind="file", url=url, name="story_mention")
    # fallback (a shared link), share, ig_post, template echoes...: a link when there is one.
    return Attachment(kind="file", url=url, name=title) if url else None


def _float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _reply_to(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    story = raw.get("story")
    if isinstance(story, dict):  # IG story reply (§3)
        return {"story": {"id": _str_or_none(story.get("id")), "url": story.get("url")}}
    if raw.get("mid"):
        return {"mid": str(raw["mid"])}
    return None


def _referral(raw: Any) -> dict[str, Any] | None:
    """As received: ref, source (SHORTLINK | ADS | ...), type, ad_id, ads_context_data..."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ParseError("referral is not an object")
    return dict(raw)


def _optin(raw: dict[str, Any]) -> OptinRef:
    expiry = raw.get("token_expiry_timestamp")
    token = raw.get("notification_messages_token") or raw.get("one_time_notif_token")
    return OptinRef(
        type=str(raw.get("type") or "plugin"),
        payload=_str_or_none(raw.get("payload")),
        token=_str_or_none(token),
        frequency=_str_or_none(raw.get("notification_messages_frequency")),
        expires_at=epoch_to_utc(expiry) if expiry is not None else None,
        token_status=_str_or_none(raw.get("user_token_status")),
        status=_str_or_none(raw.get("notification_messages_status")),
        title=_str_or_none(raw.get("title")),
        timezone=_str_or_none(raw.get("notification_messages_timezone")),
        ref=_str_or_none(raw.get("ref")),
        user_ref=_str_or_none(raw.get("user_ref")),
    )


def _receipt(kind: str, raw: dict[str, Any], base: dict[str, Any]) -> InboundEvent:
    mids = raw.get("mids") or ([raw["mid"]] if raw.get("mid") else [])
    if not isinstance(mids, list):
        raise ParseError(f"{kind}.mids is not a list")
    watermark = raw.get("watermark")
    # IG messaging_seen names a mid, not a watermark: the event time stands in (§3).
    mark = epoch_to_utc(watermark) if watermark is not None else base["timestamp"]
    if kind == "delivery":
        return InboundEvent(kind="delivery", watermark=mark, mids=[str(m) for m in mids], **base)
    return InboundEvent(kind="read", watermark=mark, mids=[str(m) for m in mids], **base)


def _feed_comment(
    recorded: RecordedItem, value: dict[str, Any], external_id: str
) -> list[InboundEvent]:
    if value.get("item") != "comment":
        return []  # posts, reactions, shares...: not conversations
    author = value.get("from")
    if not isinstance(author, dict) or not author.get("id") or not value.get("comment_id"):
        raise ParseError("feed comment without comment_id or from.id")
    from_id = str(author["id"])
    if from_id == recorded.entry_id:
        return []  # the Page's own reply (§2.6)
    stamp = value.get("created_time", recorded.entry_time)
    created_at = epoch_to_utc(stamp)
    text = nfc(str(value.get("message") or ""))
    name = _str_or_none(author.get("name"))
    comment = CommentRef(
        comment_id=str(value["comment_id"]),
        post_id=_str_or_none(value.get("post_id")),
        parent_id=_str_or_none(value.get("parent_id")),
        text=text,
        from_id=from_id,
        from_name=name,
        verb=str(value.get("verb") or "add"),
        created_at=created_at,
    )
    return [
        InboundEvent(
            kind="comment",
            external_id=external_id,
            sender_id=from_id,
            timestamp=created_at,
            content=MessageContent(text=text),
            comment=comment,
            profile={"name": name} if name else {},
        )
    ]


def _ig_comment(
    recorded: RecordedItem, value: dict[str, Any], external_id: str
) -> list[InboundEvent]:
    author = value.get("from")
    if not isinstance(author, dict) or not author.get("id") or not value.get("id"):
        raise ParseError("instagram comment without id or from.id")
    from_id = str(author["id"])
    if from_id == recorded.entry_id:
        return []  # the account's own reply
    media = value.get("media")
    media = media if isinstance(media, dict) else {}
    created_at = epoch_to_utc(recorded.entry_time)  # IG comment values carry no time of their own
    text = nfc(str(value.get("text") or ""))
    username = _str_or_none(author.get("username"))
    comment = CommentRef(
        comment_id=str(value["id"]),
        post_id=_str_or_none(media.get("id")),
        parent_id=_str_or_none(value.get("parent_id")),
        text=text,
        from_id=from_id,
        from_name=username,
        created_at=created_at,
        media_product_type=_str_or_none(media.get("media_product_type")),
    )
    referral = None
    if value.get("ad_id"):  # a comment on an ad (§3)
        referral = {
            "source": "ADS",
            "ad_id": str(value["ad_id"]),
            "ad_title": value.get("ad_title"),
        }
    return [
        InboundEvent(
            kind="comment",
            external_id=external_id,
            sender_id=from_id,
            timestamp=created_at,
            content=MessageContent(text=text),
            comment=comment,
            referral=referral,
            profile={"username": username} if username else {},
        )
    ]

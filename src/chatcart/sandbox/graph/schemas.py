"""Pydantic models of the control API (`/_sandbox/`) and of the state file."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PageIn(Strict):
    """`id` is the Page ID (kind page) or the IG account id (kind instagram)."""

    id: str = Field(min_length=1)
    token: str = Field(min_length=1)
    app_secret: str = Field(min_length=1)
    callback_url: str | None = None
    name: str = ""
    kind: Literal["page", "instagram"] = "page"
    page_id: str | None = None  # an Instagram account's linked Page
    app_id: str = "1000000000000001"
    granted_profile_fields: list[str] = Field(default_factory=list)


class UserIn(Strict):
    page: str
    id: str = Field(min_length=1)
    first_name: str = ""
    last_name: str = ""
    profile_pic: str = ""
    locale: str = "vi_VN"
    timezone: float = 7
    gender: str = ""
    username: str = ""
    unavailable: bool = False
    feed_id: str | None = None
    user_ref: str | None = None
    conversation_started: bool = False
    last_interaction_at: datetime | None = None


class InteractionIn(Strict):
    page: str
    user: str
    at: datetime | None = None  # default: the sandbox clock's now


class UnavailableIn(Strict):
    page: str
    user: str
    unavailable: bool = True


class CommentIn(Strict):
    page: str
    id: str
    post_id: str
    from_id: str
    from_name: str = ""
    text: str = ""
    created_at: datetime | None = None
    kind: Literal["comment", "post"] = "comment"


class ClockIn(Strict):
    now: datetime | None = None
    advance_seconds: float | None = None
    real: bool = False


class RatesIn(Strict):
    text_per_second: float | None = Field(default=None, gt=0)
    media_per_second: float | None = Field(default=None, gt=0)
    private_replies_per_hour: float | None = Field(default=None, gt=0)


class ConfigIn(Strict):
    auth_error_status: Literal[400, 401] | None = None
    auto_echo: bool | None = None
    auto_delivery: bool | None = None
    auto_read: bool | None = None


# ---- emission ---------------------------------------------------------------------------


class MessageEvent(Strict):
    type: Literal["message"]
    page: str
    user: str
    text: str | None = None
    quick_reply_payload: str | None = None
    attachments: list[dict[str, Any]] | None = None


class PostbackEvent(Strict):
    type: Literal["postback"]
    page: str
    user: str
    payload: str
    title: str = "Get Started"
    referral: str | None = None


class RefLinkEvent(Strict):
    type: Literal["ref_link"]
    page: str
    user: str
    ref: str


class CommentEvent(Strict):
    type: Literal["comment"]
    page: str
    post_id: str
    text: str
    from_id: str
    from_name: str = ""


class PostEvent(Strict):
    type: Literal["post"]
    page: str
    text: str
    from_id: str
    from_name: str = ""


class OptinEvent(Strict):
    type: Literal["optin"]
    page: str
    user: str
    frequency: Literal["DAILY", "WEEKLY", "MONTHLY"] = "WEEKLY"
    title: str
    payload: str
    timezone: str = "UTC"


class OptoutEvent(Strict):
    type: Literal["optout"]
    token: str
    resume: bool = False


class DeliveryEvent(Strict):
    type: Literal["delivery"]
    page: str
    user: str
    mids: list[str] | None = None
    watermark: int | None = None


class ReadEvent(Strict):
    type: Literal["read"]
    page: str
    user: str
    watermark: int | None = None


class EchoEvent(Strict):
    type: Literal["echo"]
    message_id: str


class StoryMentionEvent(Strict):
    type: Literal["story_mention"]
    page: str
    user: str
    url: str | None = None


class StoryReplyEvent(Strict):
    type: Literal["story_reply"]
    page: str
    user: str
    text: str
    story_id: str | None = None


AnyEvent = Annotated[
    MessageEvent
    | PostbackEvent
    | RefLinkEvent
    | CommentEvent
    | PostEvent
    | OptinEvent
    | OptoutEvent
    | DeliveryEvent
    | ReadEvent
    | EchoEvent
    | StoryMentionEvent
    | StoryReplyEvent,
    Field(discriminator="type"),
]


class EmitIn(Strict):
    """One POST to the page's callback; several events = a batched delivery."""

    events: list[AnyEvent] = Field(min_length=1)
    bad_signature: bool = False
    no_signature: bool = False
    duplicate: int = Field(default=1, ge=1, le=50)


class StateFile(BaseModel):
    """What `--state-file` keeps across restarts: pages, users, features."""

    pages: list[PageIn] = Field(default_factory=list)
    users: list[UserIn] = Field(default_factory=list)
    features: dict[str, bool] = Field(default_factory=dict)

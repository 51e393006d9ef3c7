"""The widget's WebSocket frames (JSON), validated before anything is stored."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter


class Hello(BaseModel):
    type: Literal["hello"]
    token: str | None = Field(default=None, max_length=300)
    page_url: str | None = Field(default=None, max_length=2000)
    locale: str | None = Field(default=None, max_length=16)


class SendText(BaseModel):
    type: Literal["message"]
    # Chosen by the browser; a resend after a reconnect carries the same id (no duplicates).
    client_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    text: str = Field(default="")
    payload: str | None = Field(default=None, max_length=1000)


class Typing(BaseModel):
    type: Literal["typing"]
    on: bool


ClientFrame = Annotated[Hello | SendText | Typing, Field(discriminator="type")]
client_frame: TypeAdapter[Hello | SendText | Typing] = TypeAdapter(ClientFrame)


class WidgetBody(BaseModel):
    """What the ingress records for one widget message (the raw inbound event body)."""

    visitor_id: str
    client_id: str
    text: str
    payload: str | None = None
    page_url: str | None = None
    locale: str | None = None
    sent_at: str

"""What goes in and out of the flows room: the bot's input, the run state, the actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from chatcart.channels.base import Button, MessageContent, QuickReply


class BotInput(BaseModel):
    text: str
    payload: str | None = None
    first_message: bool  # the contact's first message in this conversation
    contact_name: str = ""
    contact_first_name: str | None = None
    contact_locale: str | None = None
    workspace_name: str
    workspace_locale: str = "vi"


class ContactView(BaseModel):
    """What a flow may read of the contact (copied; the runtime never writes to storage)."""

    first_name: str | None = None
    last_name: str | None = None
    name: str = ""
    locale: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)


class WorkspaceView(BaseModel):
    name: str
    locale: str = "vi"
    timezone: str = "Asia/Ho_Chi_Minh"
    region: str = "VN"  # phone numbers typed without a country code


class HttpResult(BaseModel):
    status: int | None = None
    data: Any = None
    error: str | None = None  # timeout, refused, not JSON, HTTP 5xx...


InputKind = Literal["message", "postback", "referral", "comment", "wake", "http"]


class FlowInput(BaseModel):
    kind: InputKind = "message"
    text: str = ""
    payload: str | None = None
    ref: str | None = None
    post_id: str | None = None
    channel: str = ""
    first: bool = False  # the person's first message in this conversation
    http: HttpResult | None = None


RunStatus = Literal["running", "answer", "waiting", "http", "ended"]


class RunState(BaseModel):
    """Where one conversation is in a flow; stored as JSON on its flow_run row."""

    flow: str
    version: int | None = None  # the flow_version row the run started on
    step: str
    status: RunStatus = "running"
    language: str = "vi"
    retries: int = 0
    wake_at: datetime | None = None
    queued: list[FlowInput] = Field(default_factory=list)
    vars: dict[str, Any] = Field(default_factory=dict)
    pending: HttpAction | None = None  # the call an `http` step waits for


class SendAction(BaseModel):
    kind: Literal["send"] = "send"
    content: MessageContent


class SetFieldAction(BaseModel):
    kind: Literal["set_field"] = "set_field"
    field: str
    value: Any
    answer: str = "text"  # the ask kind that produced it (phone also becomes a contact point)


class ClearFieldAction(BaseModel):
    kind: Literal["clear_field"] = "clear_field"
    field: str


class TagAction(BaseModel):
    kind: Literal["tag"] = "tag"
    add: list[str] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)


class HandoverAction(BaseModel):
    kind: Literal["handover"] = "handover"


class HttpAction(BaseModel):
    """Done by the engine, outside the pure runtime; its result comes back as an input."""

    kind: Literal["http"] = "http"
    method: str
    url: str
    body: dict[str, Any]
    timeout_seconds: float


class ShopAction(BaseModel):
    """A commerce step: the engine has the shop room answer (a carousel, the cart, the
    checkout...), and the shop's buttons carry the conversation on from there."""

    kind: Literal["shop"] = "shop"
    op: str
    query: str = ""
    args: dict[str, str] = Field(default_factory=dict)
    language: str = "vi"


class AppointmentAction(BaseModel):
    """A booking step: the engine has the appointments room answer (services, then days,
    then times; or the customer's bookings); its quick replies carry the booking on."""

    kind: Literal["appointment"] = "appointment"
    op: str
    service: str = ""
    language: str = "vi"


class TraceAction(BaseModel):
    """A step taken (for the simulator and the logs)."""

    kind: Literal["trace"] = "trace"
    flow: str
    step: str
    type: str
    note: str = ""


Action = Annotated[
    SendAction
    | SetFieldAction
    | ClearFieldAction
    | TagAction
    | HandoverAction
    | HttpAction
    | ShopAction
    | AppointmentAction
    | TraceAction,
    Field(discriminator="kind"),
]


class Outcome(BaseModel):
    state: RunState | None
    actions: list[Action] = Field(default_factory=list)
    matched: bool = False  # a flow took the input (else the built-in greeter answers)

    def sends(self) -> list[MessageContent]:
        return [a.content for a in self.actions if isinstance(a, SendAction)]


class FlowOut(BaseModel):
    id: int
    key: str
    name: str
    status: str  # draft | active | archived
    published_number: int | None
    draft: str
    updated_at: datetime


class RunRecord(BaseModel):
    """A conversation's run as the conversations room sees it."""

    id: int
    conversation_id: int
    workspace_id: int
    state: RunState
    turns: int


# ---- the editor's simulator (flows/simulator.py) ----------------------------------------


class SimMessage(BaseModel):
    who: Literal["user", "bot"]
    content: MessageContent


SimEffectKind = Literal[
    "reply", "field", "cleared", "tag_add", "tag_remove", "handover", "http", "answer", "wake"
]


class SimEffect(BaseModel):
    kind: SimEffectKind
    value: str = ""
    at: datetime | None = None  # when a wait wakes up (UTC)


class SimStep(BaseModel):
    """One line of the log: a step taken (or an event: greeter, paused) and what it did."""

    flow: str = ""
    step: str = ""
    type: str = ""
    note: str = ""  # the runtime's own note ("branch 2", "wait over"...)
    event: Literal["", "greeter", "paused"] = ""
    effects: list[SimEffect] = Field(default_factory=list)


class SimSession(BaseModel):
    workspace_id: int
    run: RunState | None = None
    contact: ContactView = Field(
        default_factory=lambda: ContactView(first_name="Lan", name="Nguyễn Thị Lan")
    )
    first: bool = True
    paused: bool = False  # handed over: the bot is silent, as in a real conversation
    shift_seconds: int = 0  # the simulated clock runs ahead after a skipped wait
    messages: list[SimMessage] = Field(default_factory=list)
    log: list[SimStep] = Field(default_factory=list)

    def chips_title(self, payload: str) -> str:
        """The title of the quick reply or button the last bot messages offered."""
        for message in reversed(self.messages):
            content = message.content
            buttons: list[QuickReply | Button] = [*content.quick_replies, *content.buttons]
            buttons += [b for card in content.cards for b in card.buttons]
            for button in buttons:
                if button.payload == payload:
                    return button.title
        return payload

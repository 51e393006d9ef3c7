"""The flow document: what a seller (or an agency, in git) writes, as pydantic models.

A file holds one flow, or `flows: [...]` for a set. Steps are a map of id -> step; each
step's shape is the model its `type` names in the step registry (flows/steps.py), so the
shop issue can add commerce steps without touching this module.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    field_validator,
    model_validator,
)

Language = Literal["vi", "en", "tl"]
LANGUAGES: tuple[Language, ...] = ("vi", "en", "tl")
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
FieldKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
# A text in one language, or per language: {"vi": "...", "en": "..."} (the flow's
# default_language is used when the contact's is missing).
Localized = str | dict[Language, str]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- triggers -----------------------------------------------------------------------------


class TriggerBase(Strict):
    priority: int = Field(default=0, ge=-1000, le=1000, description="Higher wins.")
    channels: list[str] = Field(
        default_factory=list, description="Channel kinds this trigger listens on; empty = all."
    )


class KeywordTrigger(TriggerBase):
    """`keyword` or `any_of`; matched case-, diacritic- and small-typo-insensitively."""

    type: Literal["keyword"]
    keyword: str | None = None
    any_of: list[str] = Field(default_factory=list)
    match: Literal["exact", "contains"] = "contains"
    typos: bool = Field(default=True, description="Allow one typo in words of 5+ letters.")

    @model_validator(mode="after")
    def _one_source(self) -> KeywordTrigger:
        if bool(self.keyword) == bool(self.any_of):
            raise ValueError("give exactly one of keyword or any_of")
        return self

    def phrases(self) -> list[str]:
        return [self.keyword] if self.keyword else list(self.any_of)


class RefTrigger(TriggerBase):
    """m.me/<page>?ref=X, t.me/<bot>?start=X, or wa.me text carrying #X."""

    type: Literal["ref"]
    ref: str = Field(min_length=1, max_length=200)


class PayloadTrigger(TriggerBase):
    """A button or quick-reply tap carrying this payload."""

    type: Literal["payload"]
    payload: str = Field(min_length=1, max_length=1000)


class WelcomeTrigger(TriggerBase):
    """Get Started tap, or a person's first message in a conversation."""

    type: Literal["welcome"]


class CommentTrigger(TriggerBase):
    """A comment on a post (any post, or the listed ones) containing a keyword."""

    type: Literal["comment"]
    keyword: str | None = None
    any_of: list[str] = Field(default_factory=list)
    match: Literal["exact", "contains"] = "contains"
    typos: bool = True
    posts: list[str] = Field(default_factory=list, description="Post ids; empty = every post.")

    def phrases(self) -> list[str]:
        return [self.keyword] if self.keyword else list(self.any_of)


class IntentTrigger(TriggerBase):
    """An intent named by the workspace's IntentResolver (the NLU plugs in there)."""

    type: Literal["intent"]
    intent: str = Field(min_length=1, max_length=100)
    min_confidence: float = Field(default=0.6, ge=0, le=1)


class DefaultTrigger(TriggerBase):
    """Nothing else matched."""

    type: Literal["default"]


Trigger = Annotated[
    KeywordTrigger
    | RefTrigger
    | PayloadTrigger
    | WelcomeTrigger
    | CommentTrigger
    | IntentTrigger
    | DefaultTrigger,
    Field(discriminator="type"),
]


# ---- steps --------------------------------------------------------------------------------


class Step(Strict):
    """Every step: its `type` picks its model in the registry; `next` is where it goes
    afterwards (none: the flow ends)."""

    type: str
    next: Identifier | None = None

    def exits(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(where in the step, step id) of every step this one can go to."""
        return [(("next",), self.next)] if self.next else []

    def waits_for_input(self) -> bool:
        return False

    def texts(self) -> list[Localized]:
        return []


class QuickReplySpec(Strict):
    title: Localized
    payload: str = Field(min_length=1, max_length=1000)


class ButtonSpec(Strict):
    title: Localized
    payload: str | None = None
    url: str | None = None
    phone_number: str | None = None

    @model_validator(mode="after")
    def _one_action(self) -> ButtonSpec:
        if sum(x is not None for x in (self.payload, self.url, self.phone_number)) != 1:
            raise ValueError("a button has exactly one of payload, url or phone_number")
        return self


class CardSpec(Strict):
    title: Localized
    subtitle: Localized | None = None
    image_url: str | None = None
    url: str | None = None
    buttons: list[ButtonSpec] = Field(default_factory=list, max_length=3)


class SendStep(Step):
    type: Literal["send"]
    text: Localized | None = None
    image: str | None = None
    file: str | None = None
    quick_replies: list[QuickReplySpec] = Field(default_factory=list, max_length=13)
    buttons: list[ButtonSpec] = Field(default_factory=list, max_length=3)
    cards: list[CardSpec] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _something(self) -> SendStep:
        if not (self.text or self.image or self.file or self.cards):
            raise ValueError("a send step needs text, image, file or cards")
        return self

    def texts(self) -> list[Localized]:
        out: list[Localized] = [self.text] if self.text else []
        out += [q.title for q in self.quick_replies] + [b.title for b in self.buttons]
        for card in self.cards:
            out += [card.title, *([card.subtitle] if card.subtitle else [])]
        return out


class ChoiceSpec(Strict):
    title: Localized
    value: str = Field(min_length=1, max_length=200)
    next: Identifier | None = None


AskKind = Literal["text", "choice", "number", "email", "phone", "date"]


class AskStep(Step):
    """Ask, wait for the answer, check it; saved to a contact field when `save_to` is set.
    A wrong answer is asked again `retries` times, then the flow goes to `fallback`."""

    type: Literal["ask"]
    question: Localized
    kind: AskKind = "text"
    choices: list[ChoiceSpec] = Field(default_factory=list, max_length=13)
    save_to: FieldKey | None = None
    retries: int = Field(default=2, ge=0, le=10)
    retry_text: Localized | None = None
    fallback: Identifier | None = None

    @model_validator(mode="after")
    def _choices(self) -> AskStep:
        if self.kind == "choice" and not self.choices:
            raise ValueError("a choice question needs choices")
        if self.kind != "choice" and self.choices:
            raise ValueError("choices are only for kind: choice")
        return self

    def exits(self) -> list[tuple[tuple[str | int, ...], str]]:
        out = super().exits()
        out += [(("choices", i, "next"), c.next) for i, c in enumerate(self.choices) if c.next]
        return out + ([(("fallback",), self.fallback)] if self.fallback else [])

    def waits_for_input(self) -> bool:
        return True

    def texts(self) -> list[Localized]:
        out = [self.question, *(c.title for c in self.choices)]
        return out + ([self.retry_text] if self.retry_text else [])


_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Condition(Strict):
    """Every part given must hold (AND). Times are in the workspace's timezone."""

    field: FieldKey | None = None
    op: Literal["eq", "ne", "contains", "gt", "lt", "set", "unset"] = "eq"
    value: str | float | None = None
    has_tag: str | None = None
    lacks_tag: str | None = None
    channel: list[str] = Field(default_factory=list)
    time_from: str | None = Field(default=None, description="HH:MM, workspace time")
    time_to: str | None = Field(default=None, description="HH:MM, exclusive; may wrap midnight")
    weekdays: list[Weekday] = Field(default_factory=list)
    random_percent: float | None = Field(default=None, gt=0, lt=100)

    @field_validator("time_from", "time_to")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        if value is not None and not _CLOCK.match(value):
            raise ValueError("use HH:MM, 24-hour clock")
        return value

    @model_validator(mode="after")
    def _complete(self) -> Condition:
        if (self.time_from is None) != (self.time_to is None):
            raise ValueError("time_from and time_to go together")
        if self.field is None and self.op != "eq":
            raise ValueError("op needs a field")
        if self.field and self.op not in {"set", "unset"} and self.value is None:
            raise ValueError(f"op {self.op} needs a value")
        if not self.model_fields_set - {"op"}:
            raise ValueError("an empty condition")
        return self


class Branch(Strict):
    when: Condition
    next: Identifier


class ConditionStep(Step):
    """The first branch whose condition holds; `else` (or `next`) when none does."""

    type: Literal["condition"]
    branches: list[Branch] = Field(min_length=1)
    otherwise: Identifier | None = Field(default=None, alias="else")

    model_config = ConfigDict(populate_by_name=True)

    def exits(self) -> list[tuple[tuple[str | int, ...], str]]:
        out: list[tuple[tuple[str | int, ...], str]] = [
            (("branches", i, "next"), b.next) for i, b in enumerate(self.branches)
        ]
        out += [(("else",), self.otherwise)] if self.otherwise else []
        return out + super().exits()


class SetFieldStep(Step):
    """Set a contact field (the value may use {{variables}})."""

    type: Literal["set_field"]
    field: FieldKey
    value: str


class ClearFieldStep(Step):
    type: Literal["clear_field"]
    field: FieldKey


class TagStep(Step):
    type: Literal["tag"]
    add: list[str] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> TagStep:
        if not (self.add or self.remove):
            raise ValueError("a tag step adds or removes at least one tag")
        return self


class GotoStep(Step):
    """Continue in another flow (from its start, or from `step`)."""

    type: Literal["goto"]
    flow: Identifier
    step: Identifier | None = None


class WaitStep(Step):
    """Pause the flow (durable: it survives restarts), then go on to `next`."""

    type: Literal["wait"]
    seconds: int = Field(default=0, ge=0)
    minutes: int = Field(default=0, ge=0)
    hours: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _positive(self) -> WaitStep:
        total = self.total_seconds()
        if total <= 0 or total > 30 * 86400:
            raise ValueError("a wait lasts from 1 second to 30 days")
        return self

    def total_seconds(self) -> int:
        return self.seconds + 60 * self.minutes + 3600 * self.hours

    def waits_for_input(self) -> bool:
        return True


class HttpStep(Step):
    """Call a web service; the body is signed (X-Chatcart-Signature: sha256=<HMAC of the body
    with the flow's signing secret>). `save` maps response JSON paths ("data.points") into
    contact fields. A timeout, an error status or a non-JSON answer goes to `error`."""

    type: Literal["http"]
    url: str = Field(pattern=r"^https?://")
    method: Literal["GET", "POST", "PUT", "PATCH"] = "POST"
    body: dict[str, Any] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=5, gt=0, le=10)
    save: dict[FieldKey, str] = Field(default_factory=dict)
    error: Identifier | None = None

    def exits(self) -> list[tuple[tuple[str | int, ...], str]]:
        return super().exits() + ([(("error",), self.error)] if self.error else [])


class HandoverStep(Step):
    """Hand the conversation to a person: the bot stays silent until it is released."""

    type: Literal["handover"]
    text: Localized | None = None

    def texts(self) -> list[Localized]:
        return [self.text] if self.text else []


class EndStep(Step):
    type: Literal["end"]


# ---- the flow -----------------------------------------------------------------------------


class Flow(Strict):
    id: Identifier
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    default_language: Language = "vi"
    variables: dict[str, str] = Field(
        default_factory=dict, description="Defaults of {{variables}} the flow uses."
    )
    on_message_during_wait: Literal["interrupt", "queue"] = Field(
        default="interrupt",
        description="interrupt: a message ends a pending wait and is handled now; "
        "queue: it is kept and handled when the wait is over.",
    )
    triggers: list[Trigger] = Field(default_factory=list)
    start: Identifier
    steps: dict[Identifier, SerializeAsAny[Step]] = Field(min_length=1)


class FlowSet(Strict):
    flows: list[Flow] = Field(min_length=1)


def documents_of(value: Flow | FlowSet) -> list[Flow]:
    return value.flows if isinstance(value, FlowSet) else [value]

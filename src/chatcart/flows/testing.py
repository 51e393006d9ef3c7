"""Conversation tests: "user says X -> bot replies Y, field phone = +84..." files, run on
the pure runtime (no database): `chatcart flows test PATH` and pytest run the same code.

    flows: ../../src/chatcart/flows/library/demo_shop.yaml   # relative to this file
    workspace: {name: Demo Shop, timezone: Asia/Ho_Chi_Minh, region: VN}
    at: "2026-11-20T03:00:00Z"        # the clock (UTC) at the start of every test
    tests:
      - name: asks a phone number
        contact: {first_name: Lan}
        turns:
          - user: đặt hàng              # or payload: / ref: / comment: / wait: 2h
            bot: ["số điện thoại"]      # one entry per reply, each a part of its text
          - user: 0912 345 678
            fields: {phone: "+84912345678"}
            tags: [Khách đặt hàng]
          - user: đơn hàng của tôi
            actions: [shop my_orders]  # what a shop or appointment step asked for
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatcart.flows.greeter import reply as greeter_reply
from chatcart.flows.loading import load
from chatcart.flows.matching import KeywordIntentResolver
from chatcart.flows.runtime import Book, Context, conduct
from chatcart.flows.schemas import (
    Action,
    AppointmentAction,
    BotInput,
    ClearFieldAction,
    ContactView,
    FlowInput,
    HandoverAction,
    RunState,
    SendAction,
    SetFieldAction,
    ShopAction,
    TagAction,
    WorkspaceView,
)
from chatcart.kit.textnorm import fold

_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str | None = None
    payload: str | None = None
    ref: str | None = None
    comment: str | None = None
    post_id: str | None = None
    wait: str | None = None  # "90s", "15m", "2h": the clock moves on, waits wake up
    channel: str | None = None
    bot: list[str] | None = None  # expected replies, in order: parts of their text
    quick_replies: list[str] | None = None  # titles of the last reply's quick replies
    # What the turn asked other rooms to show, in order: "shop my_orders", "appointment book"
    # (their replies come from the database, which these tests do not have).
    actions: list[str] | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    no_tags: list[str] = Field(default_factory=list)
    handover: bool | None = None


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    contact: ContactView = Field(default_factory=ContactView)
    channel: str = "messenger"
    at: datetime | None = None
    seed: int = 1
    turns: list[Turn] = Field(min_length=1)


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flows: str
    workspace: WorkspaceView = Field(default_factory=lambda: WorkspaceView(name="Shop"))
    at: datetime = datetime.fromisoformat("2026-11-20T03:00:00+00:00")
    tests: list[Case] = Field(min_length=1)


@dataclass
class CaseResult:
    file: str
    name: str
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _duration(text: str) -> timedelta:
    found = _DURATION.match(text.strip())
    if not found:
        raise ValueError(f"wait: {text!r} is not like 90s, 15m, 2h or 1d")
    return timedelta(seconds=int(found[1]) * _UNITS[found[2]])


def run_file(path: Path) -> list[CaseResult]:
    """Every test of one file; a file that cannot be read is one failed result."""
    name = str(path)
    try:
        suite = Suite.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        return [CaseResult(name, "(file)", [f"cannot read the test file: {exc}"])]
    flows_path = (path.parent / suite.flows).resolve()
    try:
        loaded = load(flows_path.read_text(encoding="utf-8"))
    except OSError as exc:
        return [CaseResult(name, "(file)", [f"cannot read {flows_path}: {exc}"])]
    if not loaded.ok:
        problems = [f"{flows_path}: {e}" for e in loaded.errors]
        return [CaseResult(name, "(flows)", problems)]
    book = Book(loaded.flows)
    return [run_case(name, suite, case, book) for case in suite.tests]


def run_path(path: Path) -> list[CaseResult]:
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return [result for file in files for result in run_file(file)]


def run_case(file: str, suite: Suite, case: Case, book: Book) -> CaseResult:
    result = CaseResult(file, case.name)
    contact = case.contact.model_copy(deep=True)
    context = Context(contact, suite.workspace, book, KeywordIntentResolver())
    now = case.at or suite.at
    rng = random.Random(case.seed)  # noqa: S311  (a replayable A/B split, not a secret)
    state: RunState | None = None
    first = True
    paused = False
    for number, turn in enumerate(case.turns, start=1):
        where = f"turn {number}"
        try:
            inputs = _inputs(turn, case, first)
            if turn.wait:
                now += _duration(turn.wait)
        except ValueError as exc:
            result.failures.append(f"{where}: {exc}")
            continue
        replies: list[SendAction] = []
        asked: list[str] = []
        for data in inputs:
            if paused and data.kind != "comment":
                continue  # a person holds the conversation: the bot is silent
            outcome = conduct(state, data, now, rng, context)
            if data.kind != "comment":
                state = outcome.state
            replies += [a for a in outcome.actions if isinstance(a, SendAction)]
            asked += [d for d in map(_described, outcome.actions) if d]
            for action in outcome.actions:
                if isinstance(action, SetFieldAction):
                    contact.fields[action.field] = action.value
                if isinstance(action, ClearFieldAction):
                    contact.fields.pop(action.field, None)
                if isinstance(action, TagAction):
                    gone = {fold(t) for t in action.remove}
                    contact.tags = [t for t in contact.tags if fold(t) not in gone]
                    contact.tags += [t for t in action.add if t not in contact.tags]
                if isinstance(action, HandoverAction):
                    paused = True
            if not outcome.matched and data.kind in {"message", "postback"}:
                replies += [SendAction(content=c) for c in _greeter(data, contact, suite)]
        if inputs and inputs[0].kind in {"message", "postback", "referral"}:
            first = False
        problems = _check(turn, replies, contact, paused)
        if turn.actions is not None and asked != turn.actions:
            problems.append(f"expected actions {turn.actions}, got {asked}")
        result.failures += [f"{where}: {p}" for p in problems]
    return result


def _described(action: Action) -> str:
    if isinstance(action, ShopAction):
        return " ".join(filter(None, ["shop", action.op, action.query]))
    if isinstance(action, AppointmentAction):
        return " ".join(filter(None, ["appointment", action.op, action.service]))
    return ""


def _inputs(turn: Turn, case: Case, first: bool) -> list[FlowInput]:
    channel = turn.channel or case.channel
    if turn.comment is not None:
        return [FlowInput(kind="comment", text=turn.comment, post_id=turn.post_id, channel=channel)]
    if turn.ref is not None:
        return [FlowInput(kind="referral", ref=turn.ref, channel=channel, first=first)]
    if turn.payload is not None:
        text = turn.user or ""
        return [FlowInput(kind="postback", text=text, payload=turn.payload, channel=channel)]
    if turn.user is not None:
        return [FlowInput(kind="message", text=turn.user, channel=channel, first=first)]
    if turn.wait is not None:
        return [FlowInput(kind="wake", channel=channel)]
    raise ValueError("a turn needs user, payload, ref, comment or wait")


def _greeter(data: FlowInput, contact: ContactView, suite: Suite) -> list[Any]:
    return greeter_reply(
        BotInput(
            text=data.text,
            payload=data.payload,
            first_message=data.first,
            contact_name=contact.name,
            contact_first_name=contact.first_name,
            contact_locale=contact.locale,
            workspace_name=suite.workspace.name,
            workspace_locale=suite.workspace.locale,
        )
    )


def _check(turn: Turn, replies: list[SendAction], contact: ContactView, paused: bool) -> list[str]:
    problems: list[str] = []
    texts: list[str] = [r.content.text for r in replies]
    if turn.bot is not None:
        if len(texts) != len(turn.bot):
            problems.append(f"expected {len(turn.bot)} replies, got {len(texts)}: {texts}")
        for want, got in zip(turn.bot, texts, strict=False):
            if want not in got:
                problems.append(f"expected a reply with {want!r}, got {got!r}")
    if turn.quick_replies is not None:
        have = [q.title for q in replies[-1].content.quick_replies] if replies else []
        if have != turn.quick_replies:
            problems.append(f"expected quick replies {turn.quick_replies}, got {have}")
    for key, want in turn.fields.items():
        value = contact.fields.get(key)
        if str(value) != str(want):
            problems.append(f"expected field {key} = {want!r}, got {value!r}")
    tags = {fold(t) for t in contact.tags}
    problems += [
        f"expected tag {t!r}, has {contact.tags}" for t in turn.tags if fold(t) not in tags
    ]
    problems += [f"unexpected tag {t!r}" for t in turn.no_tags if fold(t) in tags]
    if turn.handover is not None and turn.handover != paused:
        problems.append("expected a handover" if turn.handover else "unexpected handover")
    return problems

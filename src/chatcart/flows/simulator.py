"""The editor's simulator: a seller chats with a DRAFT flow. Everything lives in a
SimSession (the run, a pretend contact, the chat, a log of each step taken); nothing is
stored or sent, no real contact is read or changed. The web page round-trips the session
encrypted (authenticated), so a tab can be reloaded without server-side state.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from chatcart.channels.base import MessageContent
from chatcart.flows.document import Flow
from chatcart.flows.greeter import reply as greeter_reply
from chatcart.flows.matching import KeywordIntentResolver
from chatcart.flows.runtime import Book, Context, conduct
from chatcart.flows.schemas import (
    BotInput,
    ClearFieldAction,
    ContactView,
    FlowInput,
    HandoverAction,
    HttpAction,
    HttpResult,
    SendAction,
    SetFieldAction,
    SimEffect,
    SimMessage,
    SimSession,
    SimStep,
    TagAction,
    TraceAction,
    WorkspaceView,
)
from chatcart.kit.textnorm import fold

MAX_MESSAGES = 40
MAX_LOG = 80
NOT_CALLED = "not called in the simulator"


def _apply(session: SimSession, actions: list[object], log: list[SimStep]) -> None:
    contact = session.contact
    for action in actions:
        if isinstance(action, TraceAction):
            log.append(
                SimStep(flow=action.flow, step=action.step, type=action.type, note=action.note)
            )
            continue
        if not log:
            log.append(SimStep())
        effects = log[-1].effects
        if isinstance(action, SendAction):
            session.messages.append(SimMessage(who="bot", content=action.content))
            effects.append(SimEffect(kind="reply"))
        elif isinstance(action, SetFieldAction):
            contact.fields[action.field] = action.value
            effects.append(SimEffect(kind="field", value=f"{action.field} = {action.value}"))
        elif isinstance(action, ClearFieldAction):
            contact.fields.pop(action.field, None)
            effects.append(SimEffect(kind="cleared", value=action.field))
        elif isinstance(action, TagAction):
            gone = {fold(t) for t in action.remove}
            contact.tags = [t for t in contact.tags if fold(t) not in gone]
            contact.tags += [t for t in action.add if t not in contact.tags]
            effects += [SimEffect(kind="tag_add", value=t) for t in action.add]
            effects += [SimEffect(kind="tag_remove", value=t) for t in action.remove]
        elif isinstance(action, HandoverAction):
            session.paused = True
            effects.append(SimEffect(kind="handover"))
        elif isinstance(action, HttpAction):
            effects.append(SimEffect(kind="http", value=f"{action.method} {action.url}"))


def turn(
    session: SimSession,
    flows: list[Flow],
    data: FlowInput,
    *,
    now: datetime,
    workspace: WorkspaceView,
    seed: int = 0,
) -> SimSession:
    """The bot's answer to one input, added to a copy of the session."""
    session = session.model_copy(deep=True)
    if data.kind in {"message", "postback"}:
        shown = data.text or data.payload or ""
        session.messages.append(SimMessage(who="user", content=MessageContent(text=shown)))
    if data.kind == "wake" and session.run is not None and session.run.wake_at is not None:
        ahead = session.run.wake_at - now
        session.shift_seconds += max(int(ahead.total_seconds()) + 1, 0)
    clock = now + timedelta(seconds=session.shift_seconds)
    log: list[SimStep] = []
    if session.paused and data.kind != "wake":
        log.append(SimStep(event="paused"))
    else:
        data = data.model_copy(update={"first": session.first and data.kind == "message"})
        context = Context(session.contact, workspace, Book(flows), KeywordIntentResolver())
        rng = random.Random(seed + len(session.log))  # noqa: S311  (an A/B split, not a secret)
        outcome = conduct(session.run, data, clock, rng, context)
        _apply(session, list(outcome.actions), log)
        state = outcome.state
        # The simulator makes no network call: the step's error branch is taken.
        if state is not None and state.status == "http":
            failed = FlowInput(kind="http", channel=data.channel, http=HttpResult(error=NOT_CALLED))
            outcome = conduct(state, failed, clock, rng, context)
            _apply(session, list(outcome.actions), log)
            state = outcome.state
        session.run = state
        if not outcome.matched and data.kind in {"message", "postback"}:
            log.append(SimStep(event="greeter"))
            for content in _greeter(data, session.contact, workspace):
                session.messages.append(SimMessage(who="bot", content=content))
        if state is not None and state.status == "answer" and log:
            log[-1].effects.append(SimEffect(kind="answer"))
        if state is not None and state.status == "waiting" and state.wake_at is not None:
            wake = SimEffect(kind="wake", at=state.wake_at)
            (log or [SimStep()])[-1].effects.append(wake)
        if data.kind == "message":
            session.first = False
    session.log = (session.log + log)[-MAX_LOG:]
    session.messages = session.messages[-MAX_MESSAGES:]
    return session


def _greeter(
    data: FlowInput, contact: ContactView, workspace: WorkspaceView
) -> list[MessageContent]:
    return greeter_reply(
        BotInput(
            text=data.text,
            payload=data.payload,
            first_message=data.first,
            contact_name=contact.name,
            contact_first_name=contact.first_name,
            contact_locale=contact.locale,
            workspace_name=workspace.name,
            workspace_locale=workspace.locale,
        )
    )

"""The pure flow runtime (DESIGN.md §4.5): `step(flow, state, input, now, rng, context) ->
Outcome(state, actions)`. No database, no network, no clock: the conversation engine (or
the simulator, or `chatcart flows test`) executes the actions and stores the state.

`conduct` is the whole bot turn: a run in progress takes the input (an answer, a wake-up,
an HTTP result) or, failing that, the triggers pick a flow to start.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chatcart.flows import steps as _steps
from chatcart.flows.document import LANGUAGES, Flow, Localized, Step
from chatcart.flows.greeter import guess_language
from chatcart.flows.matching import IntentResolver, TriggerIndex
from chatcart.flows.registry import HANDLERS
from chatcart.flows.render import fill, pick
from chatcart.flows.schemas import (
    Action,
    ContactView,
    FlowInput,
    Outcome,
    RunState,
    SendAction,
    TraceAction,
    WorkspaceView,
)

STEP_BUDGET = 100  # steps one input may run; a loop the validation missed stops here
_INTERRUPTING = {"payload", "ref", "welcome"}  # a tap that starts another flow mid-question


class Book:
    """The flows a workspace has published, their trigger index, and the older versions
    that conversations in progress still run on."""

    def __init__(
        self,
        flows: Iterable[Flow],
        versions: dict[str, int] | None = None,
        pinned: dict[int, Flow] | None = None,
    ) -> None:
        self.flows = {flow.id: flow for flow in flows}
        self.versions = versions or {}
        self.pinned = pinned or {}
        self.index = TriggerIndex(self.flows.values())

    def flow_for(self, state: RunState) -> Flow | None:
        if state.version is not None and state.version in self.pinned:
            return self.pinned[state.version]
        if state.version is not None and self.versions.get(state.flow) != state.version:
            return None  # its version is gone (archived flow): the run cannot go on
        return self.flows.get(state.flow)


@dataclass
class Context:
    contact: ContactView
    workspace: WorkspaceView
    book: Book
    resolver: IntentResolver | None = None


@dataclass
class Run:
    """One turn of one run; step handlers (flows/steps.py) read and move it."""

    flow: Flow
    state: RunState
    context: Context
    data: FlowInput
    now: datetime
    rng: random.Random
    actions: list[Action] = field(default_factory=list)
    answer: FlowInput | None = None  # the input an ask step is about to check
    budget: int = STEP_BUDGET

    @property
    def contact(self) -> ContactView:
        return self.context.contact

    def values(self) -> dict[str, Any]:
        contact = self.contact
        return {
            **self.state.vars,
            **contact.fields,
            "first_name": contact.first_name or _given_name(contact.name),
            "last_name": contact.last_name,
            "name": contact.name,
            "shop": self.context.workspace.name,
        }

    def text(self, text: Localized) -> str:
        language = self.state.language
        template = pick(text, language, self.flow.default_language)
        return fill(template, self.values(), self.flow.variables, language)

    def fill(self, template: str) -> str:
        return fill(template, self.values(), self.flow.variables, self.state.language)

    def send(self, action: SendAction) -> None:
        self.actions.append(action)

    def go(self, target: str | None) -> None:
        if target is None:
            self.end()
        else:
            self.state.step = target
            self.state.status = "running"

    def end(self) -> None:
        self.state.status = "ended"

    def trace(self, step: Step, note: str = "") -> None:
        self.actions.append(
            TraceAction(flow=self.flow.id, step=self.state.step, type=step.type, note=note)
        )

    def switch(self, flow_id: str, step_id: str | None) -> bool:
        target = self.context.book.flows.get(flow_id)
        if target is None:
            return False
        self.flow = target
        self.state.flow = flow_id
        self.state.version = self.context.book.versions.get(flow_id)
        self.go(step_id or target.start)
        return True

    def loop(self) -> None:
        while self.state.status == "running":
            step = self.flow.steps.get(self.state.step)
            if step is None:
                self.end()
                break
            if self.budget <= 0:
                self.trace(step, f"step budget of {STEP_BUDGET} used up: the flow stops")
                self.end()
                break
            self.budget -= 1
            self.trace(step)
            HANDLERS[step.type](self, step)


def _given_name(full: str) -> str | None:
    # Vietnamese names put the family name first: "Nguyễn Văn An" -> "An".
    parts = full.split()
    return parts[-1] if parts else None


def language_for(flow: Flow, data: FlowInput, context: Context) -> str:
    locale = (context.contact.locale or "")[:2].lower()
    if locale in LANGUAGES:
        return locale
    guessed = guess_language(data.text, context.workspace.locale or flow.default_language)
    return guessed if guessed in LANGUAGES else flow.default_language


def start(flow: Flow, data: FlowInput, context: Context) -> RunState:
    return RunState(
        flow=flow.id,
        version=context.book.versions.get(flow.id),
        step=flow.start,
        language=language_for(flow, data, context),
    )


def step(
    flow: Flow,
    state: RunState,
    data: FlowInput,
    now: datetime,
    rng: random.Random,
    context: Context,
) -> Outcome:
    """Move one run by one input: start it, hand it an answer, wake it, or give it the
    result of its HTTP call. Neither the state nor the context passed in is modified."""
    return _step(flow, state, data, now, rng, _private(context))


def _private(context: Context) -> Context:
    # The run reads its own writes (a field set, then a condition on it) on a copy.
    source = context.contact
    contact = source.model_copy(update={"fields": dict(source.fields), "tags": list(source.tags)})
    return Context(contact, context.workspace, context.book, context.resolver)


def _step(
    flow: Flow,
    state: RunState,
    data: FlowInput,
    now: datetime,
    rng: random.Random,
    context: Context,
    fresh: bool = False,
) -> Outcome:
    own = state if fresh else state.model_copy(deep=True)  # a new state is ours already
    run = Run(flow, own, context, data, now, rng)
    current = flow.steps.get(run.state.step)
    if run.state.status == "answer":
        run.answer = data
        run.state.status = "running"
    elif run.state.status == "waiting" and data.kind == "wake":
        run.state.wake_at = None
        if current is not None:  # traced at the wait step itself, before moving on
            run.trace(current, "wait over")
        run.go(current.next if current else None)
    elif run.state.status == "http" and data.kind == "http" and current is not None:
        _steps.http_result(run, current, data)
    run.loop()
    kept = None if run.state.status == "ended" else run.state
    return Outcome(state=kept, actions=run.actions, matched=True)


def conduct(
    state: RunState | None,
    data: FlowInput,
    now: datetime,
    rng: random.Random,
    context: Context,
) -> Outcome:
    """The bot's whole answer to one input (pure). Outcome.matched is False when no flow
    took the input: the caller falls back to the built-in greeter."""
    context = _private(context)
    pending = [data]
    actions: list[Action] = []
    matched: bool | None = None
    while pending:
        held = state.queued if state is not None else []
        outcome = _conduct(state, pending.pop(0), now, rng, context)
        actions += outcome.actions
        matched = outcome.matched if matched is None else matched
        state = outcome.state
        # Messages kept during a wait (rule: queue) are handled once it no longer waits,
        # also when the run ended on waking up.
        if held and (state is None or state.status != "waiting"):
            pending = [*held, *pending]
            state = None if state is None else state.model_copy(update={"queued": []})
    return Outcome(state=state, actions=actions, matched=bool(matched))


def _conduct(
    state: RunState | None,
    data: FlowInput,
    now: datetime,
    rng: random.Random,
    context: Context,
) -> Outcome:
    book = context.book
    flow = book.flow_for(state) if state is not None else None
    if state is not None and flow is not None:
        if state.status == "waiting":
            if data.kind == "wake":
                if state.wake_at is not None and now < state.wake_at:
                    return Outcome(state=state, matched=True)  # woken early: keep waiting
                return _step(flow, state, data, now, rng, context)
            if flow.on_message_during_wait == "queue" and data.kind != "http":
                queued = state.model_copy(update={"queued": [*state.queued, data]})
                return Outcome(state=queued, matched=True)
            # interrupt: the wait is dropped and the message handled as a new one
        elif state.status == "http" and data.kind == "http":
            return _step(flow, state, data, now, rng, context)
        elif state.status == "answer" and data.kind in {"message", "postback"}:
            found = book.index.match(data) if (data.payload or data.ref) else None
            if found is None or found.trigger not in _INTERRUPTING:
                return _step(flow, state, data, now, rng, context)
    if data.kind in {"wake", "http"}:
        return Outcome(state=None, matched=True)  # nothing is waiting for it any more
    language = (context.contact.locale or "")[:2] or None
    found = book.index.match(data, context.resolver, language)
    if found is None:
        return Outcome(state=None, matched=False)
    target = book.flows[found.flow]
    return _step(target, start(target, data, context), data, now, rng, context, fresh=True)

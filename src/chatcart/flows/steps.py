"""The built-in steps' handlers, registered with their models (flows/registry.py).

A handler appends actions to the run and moves its state on; it never does I/O.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from chatcart.channels.base import Attachment, Button, Card, MessageContent, QuickReply
from chatcart.flows import answers
from chatcart.flows import appointment_steps as _appointment_steps  # noqa: F401  (registers it)
from chatcart.flows import shop_steps as _shop_steps  # noqa: F401  (registers the commerce steps)
from chatcart.flows.document import (
    WEEKDAYS,
    AskStep,
    ButtonSpec,
    ClearFieldStep,
    Condition,
    ConditionStep,
    EndStep,
    GotoStep,
    HandoverStep,
    HttpStep,
    SendStep,
    SetFieldStep,
    Step,
    TagStep,
    WaitStep,
)
from chatcart.flows.registry import register
from chatcart.flows.schemas import (
    ClearFieldAction,
    FlowInput,
    HandoverAction,
    HttpAction,
    SendAction,
    SetFieldAction,
    TagAction,
)
from chatcart.kit.textnorm import fold

if TYPE_CHECKING:
    from chatcart.flows.runtime import Run


def _button(run: Run, spec: ButtonSpec) -> Button:
    return Button(
        title=run.text(spec.title)[:80],
        payload=spec.payload,
        url=run.fill(spec.url) if spec.url else None,
        phone_number=spec.phone_number,
    )


def send(run: Run, step: SendStep) -> None:
    attachments = []
    if step.image:
        attachments.append(Attachment(kind="image", url=run.fill(step.image)))
    if step.file:
        attachments.append(Attachment(kind="file", url=run.fill(step.file)))
    content = MessageContent(
        text=run.text(step.text) if step.text else "",
        attachments=attachments,
        quick_replies=[
            QuickReply(title=run.text(q.title)[:80], payload=q.payload) for q in step.quick_replies
        ],
        buttons=[_button(run, b) for b in step.buttons],
        cards=[
            Card(
                title=run.text(c.title)[:80],
                subtitle=run.text(c.subtitle)[:80] if c.subtitle else None,
                image_url=run.fill(c.image_url) if c.image_url else None,
                url=run.fill(c.url) if c.url else None,
                buttons=[_button(run, b) for b in c.buttons],
            )
            for c in step.cards
        ],
    )
    run.send(SendAction(content=content))
    run.go(step.next)


def _question(run: Run, step: AskStep, text: str) -> None:
    replies = [QuickReply(title=run.text(c.title)[:80], payload=c.value) for c in step.choices]
    run.send(SendAction(content=MessageContent(text=text, quick_replies=replies)))
    run.state.status = "answer"


def ask(run: Run, step: AskStep) -> None:
    answer, run.answer = run.answer, None
    if answer is None:  # arriving at the question
        run.state.retries = 0
        _question(run, step, run.text(step.question))
        return
    titles = [run.text(c.title) for c in step.choices]
    region = run.context.workspace.region
    today = run.now.astimezone(ZoneInfo(run.context.workspace.timezone)).date()
    value, chosen = answers.check(step, answer.text, answer.payload, region, today, titles)
    if value is None:
        run.state.retries += 1
        if run.state.retries > step.retries:
            run.trace(step, "no valid answer: fallback")
            run.state.retries = 0
            run.go(step.fallback)
            return
        _question(run, step, run.text(step.retry_text or step.question))
        return
    run.state.retries = 0
    run.state.vars["answer"] = value
    if step.save_to:
        run.actions.append(SetFieldAction(field=step.save_to, value=value, answer=step.kind))
        run.contact.fields[step.save_to] = value
    run.go((chosen.next if chosen and chosen.next else None) or step.next)


def _holds(run: Run, when: Condition) -> bool:
    contact = run.contact
    if when.field is not None and not _compare(contact.fields.get(when.field), when):
        return False
    tags = {fold(t) for t in contact.tags}
    if when.has_tag is not None and fold(when.has_tag) not in tags:
        return False
    if when.lacks_tag is not None and fold(when.lacks_tag) in tags:
        return False
    if when.channel and run.data.channel not in when.channel:
        return False
    local = run.now.astimezone(ZoneInfo(run.context.workspace.timezone))
    if when.weekdays and WEEKDAYS[local.weekday()] not in when.weekdays:
        return False
    if when.time_from is not None and when.time_to is not None:
        clock = local.strftime("%H:%M")
        if when.time_from <= when.time_to:
            inside = when.time_from <= clock < when.time_to
        else:  # 21:00-08:00 wraps midnight
            inside = clock >= when.time_from or clock < when.time_to
        if not inside:
            return False
    return when.random_percent is None or run.rng.random() * 100 < when.random_percent


def _compare(have: Any, when: Condition) -> bool:
    if when.op == "set":
        return have not in (None, "")
    if when.op == "unset":
        return have in (None, "")
    if have is None:
        return when.op == "ne"
    if when.op in {"gt", "lt"}:
        try:
            left, right = float(have), float(when.value or 0)
        except (TypeError, ValueError):
            return False
        return left > right if when.op == "gt" else left < right
    left_text, right_text = fold(str(have)), fold(str(when.value))
    if when.op == "contains":
        return right_text in left_text
    try:  # 5 == "5.0" for number fields
        equal = float(have) == float(when.value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        equal = left_text == right_text
    return equal if when.op == "eq" else not equal


def condition(run: Run, step: ConditionStep) -> None:
    for number, branch in enumerate(step.branches, start=1):
        if _holds(run, branch.when):
            run.trace(step, f"branch {number}")
            run.go(branch.next)
            return
    run.trace(step, "else")
    run.go(step.otherwise or step.next)


def set_field(run: Run, step: SetFieldStep) -> None:
    value = run.fill(step.value)
    run.actions.append(SetFieldAction(field=step.field, value=value))
    run.contact.fields[step.field] = value
    run.go(step.next)


def clear_field(run: Run, step: ClearFieldStep) -> None:
    run.actions.append(ClearFieldAction(field=step.field))
    run.contact.fields.pop(step.field, None)
    run.go(step.next)


def tag(run: Run, step: TagStep) -> None:
    run.actions.append(TagAction(add=list(step.add), remove=list(step.remove)))
    removed = {fold(t) for t in step.remove}
    kept = [t for t in run.contact.tags if fold(t) not in removed]
    run.contact.tags = kept + [t for t in step.add if fold(t) not in {fold(k) for k in kept}]
    run.go(step.next)


def goto(run: Run, step: GotoStep) -> None:
    if not run.switch(step.flow, step.step):
        run.trace(step, f"no published flow {step.flow!r}: the run ends")
        run.end()


def wait(run: Run, step: WaitStep) -> None:
    run.state.status = "waiting"
    run.state.wake_at = run.now + timedelta(seconds=step.total_seconds())


def _filled(run: Run, value: Any) -> Any:
    if isinstance(value, str):
        return run.fill(value)
    if isinstance(value, dict):
        return {k: _filled(run, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(run, v) for v in value]
    return value


def http(run: Run, step: HttpStep) -> None:
    action = HttpAction(
        method=step.method,
        url=run.fill(step.url),
        body=_filled(run, step.body),
        timeout_seconds=step.timeout_seconds,
    )
    run.actions.append(action)
    run.state.status = "http"
    run.state.pending = action


def _dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def http_result(run: Run, step: Step, data: FlowInput) -> None:
    """The engine's answer to an HttpAction: map the fields, or take the error branch."""
    assert isinstance(step, HttpStep)
    run.state.pending = None
    result = data.http
    problem = None
    if result is None or result.error:
        problem = result.error if result else "no result"
    elif result.status is None or not 200 <= result.status < 300:
        problem = f"HTTP {result.status}"
    elif not isinstance(result.data, dict | list):
        problem = "the answer is not JSON"
    if problem is not None:
        run.trace(step, f"http failed: {problem}")
        run.go(step.error)
        return
    assert result is not None
    run.state.vars["http_status"] = result.status
    for field_key, path in step.save.items():
        value = _dig(result.data, path)
        if value is not None and not isinstance(value, dict | list):
            run.actions.append(SetFieldAction(field=field_key, value=value))
            run.contact.fields[field_key] = value
    run.go(step.next)


def handover(run: Run, step: HandoverStep) -> None:
    if step.text:
        run.send(SendAction(content=MessageContent(text=run.text(step.text))))
    run.actions.append(HandoverAction())
    run.end()


def end(run: Run, step: EndStep) -> None:
    run.end()


register(SendStep, send)
register(AskStep, ask)
register(ConditionStep, condition)
register(SetFieldStep, set_field)
register(ClearFieldStep, clear_field)
register(TagStep, tag)
register(GotoStep, goto)
register(WaitStep, wait)
register(HttpStep, http)
register(HandoverStep, handover)
register(EndStep, end)

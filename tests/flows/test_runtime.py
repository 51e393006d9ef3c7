"""The pure runtime, table-driven: each case is a flow, inputs and what must come out."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chatcart.flows import answers
from chatcart.flows.loading import load
from chatcart.flows.runtime import STEP_BUDGET, Book, Context, conduct, step
from chatcart.flows.schemas import (
    ContactView,
    FlowInput,
    HandoverAction,
    HttpAction,
    HttpResult,
    Outcome,
    RunState,
    SendAction,
    SetFieldAction,
    TagAction,
    WorkspaceView,
)

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # Friday 10:00 in Hồ Chí Minh City


def _book(text: str) -> Book:
    loaded = load(text)
    assert loaded.ok, loaded.errors
    return Book(loaded.flows, versions={f.id: 1 for f in loaded.flows})


def _context(book: Book, **contact: Any) -> Context:
    return Context(ContactView(**contact), WorkspaceView(name="Shop Áo"), book)


def _texts(outcome: Outcome) -> list[str]:
    return [a.content.text for a in outcome.actions if isinstance(a, SendAction)]


def _flow(steps: str, *, extra: str = "") -> str:
    return (
        "id: f\nname: F\ntriggers: [{type: keyword, keyword: go}]\n"
        f"start: a\n{extra}steps:\n{steps}"
    )


@dataclass
class Case:
    name: str
    steps: str
    inputs: list[str]
    replies: list[list[str]]
    contact: dict[str, Any] = field(default_factory=dict)
    extra: str = ""
    at: datetime = NOW


CASES = [
    Case(
        "variables and defaults",
        "  a: {type: send, text: 'Chào {{first_name}}, size {{size}} ở {{shop}}'}\n",
        ["go"],
        [["Chào bạn, size M ở Shop Áo"]],
        extra="variables: {size: M}\n",
    ),
    Case(
        "the given name of a Vietnamese full name",
        "  a: {type: send, text: 'Chào {{first_name}}'}\n",
        ["go"],
        [["Chào An"]],
        contact={"name": "Nguyễn Văn An"},
    ),
    Case(
        "per-language texts with the default for a missing one",
        "  a: {type: send, text: {vi: 'Xin chào', en: 'Hello'}, next: b}\n"
        "  b: {type: send, text: {vi: 'Chỉ tiếng Việt'}}\n",
        ["go"],
        [["Hello", "Chỉ tiếng Việt"]],
        contact={"locale": "en_US"},
    ),
    Case(
        "choice question by tap, by number, by typed title",
        "  a:\n    type: ask\n    question: Size?\n    kind: choice\n"
        "    choices: [{title: Nhỏ, value: S, next: s}, {title: Lớn, value: L, next: l}]\n"
        "  s: {type: send, text: 'small'}\n  l: {type: send, text: 'large'}\n",
        ["go", "LON"],
        [["Size?"], ["large"]],
    ),
    Case(
        "number question re-asks, then falls back",
        "  a: {type: ask, question: 'Bao nhiêu cái?', kind: number, retries: 1,"
        " retry_text: 'Số thôi ạ', fallback: z, next: ok}\n"
        "  ok: {type: send, text: 'ok'}\n  z: {type: send, text: 'thôi'}\n",
        ["go", "vài cái", "nhiều"],
        [["Bao nhiêu cái?"], ["Số thôi ạ"], ["thôi"]],
    ),
    Case(
        "condition on a field set earlier in the run",
        "  a: {type: set_field, field: vip, value: 'yes', next: b}\n"
        "  b: {type: condition, branches: [{when: {field: vip, value: 'YES'}, next: y}], else: n}\n"
        "  y: {type: send, text: 'vip'}\n  n: {type: send, text: 'normal'}\n",
        ["go"],
        [["vip"]],
    ),
    Case(
        "condition on tags (folded)",
        "  a: {type: condition, branches: [{when: {has_tag: 'khach vip'}, next: y}], else: n}\n"
        "  y: {type: send, text: 'vip'}\n  n: {type: send, text: 'normal'}\n",
        ["go"],
        [["vip"]],
        contact={"tags": ["Khách VIP"]},
    ),
    Case(
        "time of day in the workspace timezone (23:00 there)",
        "  a: {type: condition, branches: [{when: {time_from: '21:00', time_to: '08:00'}, next: c}],"
        " else: o}\n  c: {type: send, text: 'closed'}\n  o: {type: send, text: 'open'}\n",
        ["go"],
        [["closed"]],
        at=datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
    ),
    Case(
        "weekday in the workspace timezone (Friday)",
        "  a: {type: condition, branches: [{when: {weekdays: [sat, sun]}, next: w}], else: d}\n"
        "  w: {type: send, text: 'weekend'}\n  d: {type: send, text: 'weekday'}\n",
        ["go"],
        [["weekday"]],
    ),
    Case(
        "number fields compare as numbers",
        "  a: {type: condition, branches: [{when: {field: points, op: gt, value: 99}, next: y}],"
        " else: n}\n  y: {type: send, text: 'gold'}\n  n: {type: send, text: 'silver'}\n",
        ["go"],
        [["gold"]],
        contact={"fields": {"points": 120}},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_runtime_table(case: Case) -> None:
    book = _book(_flow(case.steps, extra=case.extra))
    context = _context(book, **case.contact)
    state: RunState | None = None
    rng = random.Random(7)
    for text, want in zip(case.inputs, case.replies, strict=True):
        outcome = conduct(state, FlowInput(text=text), case.at, rng, context)
        assert outcome.matched
        assert _texts(outcome) == want
        state = outcome.state


def test_the_state_passed_in_is_never_changed() -> None:
    book = _book(_flow("  a: {type: ask, question: 'Tên?', save_to: nick}\n"))
    context = _context(book)
    first = conduct(None, FlowInput(text="go"), NOW, random.Random(1), context)
    assert first.state is not None
    before = first.state.model_dump()
    second = step(
        book.flows["f"], first.state, FlowInput(text="Lan"), NOW, random.Random(1), context
    )
    assert first.state.model_dump() == before
    assert second.state is None
    assert [a for a in second.actions if isinstance(a, SetFieldAction)] == [
        SetFieldAction(field="nick", value="Lan")
    ]
    assert context.contact.fields == {}  # the caller's view is not written either


def test_random_split_follows_the_rng() -> None:
    book = _book(
        _flow(
            "  a: {type: condition, branches: [{when: {random_percent: 50}, next: x}], else: y}\n"
            "  x: {type: send, text: A}\n  y: {type: send, text: B}\n"
        )
    )
    seen = {
        _texts(conduct(None, FlowInput(text="go"), NOW, random.Random(seed), _context(book)))[0]
        for seed in range(20)
    }
    assert seen == {"A", "B"}
    again = [
        _texts(conduct(None, FlowInput(text="go"), NOW, random.Random(3), _context(book)))
        for _ in range(3)
    ]
    assert again[0] == again[1] == again[2]  # the same seed, the same branch


def test_tags_fields_handover_and_goto() -> None:
    book = _book(
        "flows:\n"
        "  - id: f\n    name: F\n    triggers: [{type: keyword, keyword: go}]\n    start: a\n"
        "    steps:\n"
        "      a: {type: tag, add: [Mới], remove: [Cũ], next: b}\n"
        "      b: {type: clear_field, field: note, next: c}\n"
        "      c: {type: goto, flow: g}\n"
        "  - id: g\n    name: G\n    start: h\n"
        "    steps:\n      h: {type: handover, text: 'Chờ chút'}\n"
    )
    outcome = conduct(None, FlowInput(text="go"), NOW, random.Random(1), _context(book))
    kinds = [a.kind for a in outcome.actions if a.kind != "trace"]
    assert kinds == ["tag", "clear_field", "send", "handover"]
    assert TagAction(add=["Mới"], remove=["Cũ"]) in outcome.actions
    assert outcome.state is None
    assert any(isinstance(a, HandoverAction) for a in outcome.actions)


def test_wait_then_wake_and_the_message_rules() -> None:
    steps = (
        "  a: {type: send, text: one, next: w}\n"
        "  w: {type: wait, minutes: 30, next: b}\n"
        "  b: {type: send, text: two}\n"
    )
    for rule, during in (("interrupt", ["other"]), ("queue", [])):
        book = _book(
            _flow(steps, extra=f"on_message_during_wait: {rule}\n")
            .replace("steps:", "steps:\n  o: {type: send, text: other}", 1)
            .replace(
                "triggers: [{type: keyword, keyword: go}]",
                "triggers: [{type: keyword, keyword: go}, {type: default}]",
            )
        )
        context = _context(book)
        rng = random.Random(1)
        started = conduct(None, FlowInput(text="go"), NOW, rng, context)
        assert _texts(started) == ["one"]
        assert started.state is not None and started.state.status == "waiting"
        assert started.state.wake_at == NOW + timedelta(minutes=30)
        early = conduct(started.state, FlowInput(kind="wake"), NOW, rng, context)
        assert _texts(early) == [] and early.state == started.state
        message = conduct(started.state, FlowInput(text="hello?"), NOW, rng, context)
        if rule == "interrupt":
            assert _texts(message) == ["one"]  # the default trigger restarts the flow
        else:
            assert _texts(message) == []
            assert message.state is not None and len(message.state.queued) == 1
            woken = conduct(
                message.state, FlowInput(kind="wake"), NOW + timedelta(minutes=31), rng, context
            )
            # the wait ends, then the kept message is handled (it restarts the flow)
            assert _texts(woken) == ["two", "one"]
        del during


def test_http_step_maps_fields_or_takes_the_error_branch() -> None:
    book = _book(
        _flow(
            "  a: {type: http, url: 'https://crm.example/points', body: {name: '{{first_name}}'},"
            " save: {points: data.points}, error: e, next: ok}\n"
            "  ok: {type: send, text: 'Bạn có {{points}} điểm'}\n"
            "  e: {type: send, text: 'Hệ thống bận'}\n",
            extra="variables: {points: '0'}\n",
        )
    )
    context = _context(book, first_name="Lan")
    rng = random.Random(1)
    started = conduct(None, FlowInput(text="go"), NOW, rng, context)
    [call] = [a for a in started.actions if isinstance(a, HttpAction)]
    assert call.body == {"name": "Lan"} and call.url == "https://crm.example/points"
    assert started.state is not None and started.state.status == "http"
    good = HttpResult(status=200, data={"data": {"points": 42}})
    done = conduct(started.state, FlowInput(kind="http", http=good), NOW, rng, context)
    assert _texts(done) == ["Bạn có 42 điểm"]
    for bad in (
        HttpResult(error="timeout after 5s"),
        HttpResult(status=500, data={}),
        HttpResult(status=200, data="<html>"),
    ):
        failed = conduct(started.state, FlowInput(kind="http", http=bad), NOW, rng, context)
        assert _texts(failed) == ["Hệ thống bận"]


def test_the_step_budget_stops_a_runaway_goto_loop() -> None:
    # Two documents: the validation of each cannot see the loop through the other.
    a = load(
        "id: a\nname: A\ntriggers: [{type: keyword, keyword: go}]\nstart: s\n"
        "steps: {s: {type: goto, flow: b}}\n",
        known_flows={"b"},
    )
    b = load("id: b\nname: B\nstart: s\nsteps: {s: {type: goto, flow: a}}\n", known_flows={"a"})
    assert a.ok and b.ok
    book = Book([*a.flows, *b.flows])
    outcome = conduct(None, FlowInput(text="go"), NOW, random.Random(1), _context(book))
    notes = [a.note for a in outcome.actions if a.kind == "trace" and a.note]
    assert notes == [f"step budget of {STEP_BUDGET} used up: the flow stops"]
    assert outcome.state is None


def test_a_tap_interrupts_a_question_but_text_answers_it() -> None:
    book = _book(
        "flows:\n"
        "  - {id: q, name: Q, triggers: [{type: keyword, keyword: go}], start: a,"
        " steps: {a: {type: ask, question: 'Email?', kind: email, save_to: email}}}\n"
        "  - {id: h, name: H, triggers: [{type: payload, payload: HUMAN}], start: a,"
        " steps: {a: {type: send, text: human}}}\n"
    )
    context = _context(book)
    asked = conduct(None, FlowInput(text="go"), NOW, random.Random(1), context)
    tapped = conduct(
        asked.state, FlowInput(kind="postback", payload="HUMAN"), NOW, random.Random(1), context
    )
    assert _texts(tapped) == ["human"]
    answered = conduct(
        asked.state, FlowInput(text=" Lan@Example.COM "), NOW, random.Random(1), context
    )
    assert (
        SetFieldAction(field="email", value="lan@example.com", answer="email") in answered.actions
    )


@pytest.mark.parametrize(
    ("text", "region", "e164"),
    [
        ("0912 345 678", "VN", "+84912345678"),
        ("0912.345.678", "VN", "+84912345678"),
        ("+84 912 345 678", "VN", "+84912345678"),
        ("84912345678", "VN", "+84912345678"),
        ("+63 917 123 4567", "PH", "+639171234567"),
        ("0917-123-4567", "PH", "+639171234567"),
        ("+63 917 123 4567", "VN", "+639171234567"),
        ("0912 345 67", "VN", None),
        ("12345", "VN", None),
        ("không có", "VN", None),
        ("", "PH", None),
    ],
)
def test_phone_answers(text: str, region: str, e164: str | None) -> None:
    assert answers.phone(text, region) == e164


@pytest.mark.parametrize(
    ("text", "region", "iso"),
    [
        ("2026-12-01", "VN", "2026-12-01"),
        ("1/12/2026", "VN", "2026-12-01"),
        ("1/12/2026", "PH", "2026-01-12"),
        ("24.12", "VN", "2026-12-24"),
        ("31/02/2026", "VN", None),
        ("mai", "VN", None),
    ],
)
def test_date_answers(text: str, region: str, iso: str | None) -> None:
    assert answers.day(text, region, date(2026, 11, 20)) == iso


@pytest.mark.parametrize(
    ("text", "value"), [("3", 3), ("2,5", 2.5), ("-1.25", -1.25), ("ba", None), ("1 000", 1000)]
)
def test_number_answers(text: str, value: float | None) -> None:
    assert answers.number(text) == value

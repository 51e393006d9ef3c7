"""The flows service's pure door for editors and simulators: validate, simulate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatcart.flows import service as flows
from chatcart.flows.errors import FlowInvalid
from chatcart.flows.schemas import ContactView, FlowInput, TraceAction, WorkspaceView

DRAFT = """\
id: quiz
name: Quiz
triggers: [{type: keyword, keyword: quiz}]
start: q
steps:
  q:
    type: ask
    question: "Bạn thích màu nào?"
    kind: choice
    choices: [{title: Đỏ, value: red, next: r}, {title: Xanh, value: blue, next: b}]
  r: {type: send, text: "Đỏ rực rỡ, {{first_name}}!"}
  b: {type: send, text: "Xanh mát, {{first_name}}!"}
"""
NOW = datetime(2026, 11, 20, 3, tzinfo=UTC)


def test_simulate_a_draft_turn_by_turn_with_the_steps_taken() -> None:
    contact = ContactView(first_name="Hoa")
    workspace = WorkspaceView(name="Shop Hoa", region="PH", timezone="Asia/Manila")
    first = flows.simulate(
        DRAFT, None, FlowInput(text="QUIZ"), now=NOW, contact=contact, workspace=workspace
    )
    assert [c.text for c in first.sends()] == ["Bạn thích màu nào?"]
    assert [q.payload for q in first.sends()[0].quick_replies] == ["red", "blue"]
    second = flows.simulate(
        DRAFT, first.state, FlowInput(kind="postback", payload="blue"), now=NOW, contact=contact
    )
    assert [c.text for c in second.sends()] == ["Xanh mát, Hoa!"]
    steps = [(a.step, a.type) for a in second.actions if isinstance(a, TraceAction)]
    assert steps == [("q", "ask"), ("b", "send")]
    assert second.state is None


def test_simulate_refuses_a_broken_draft_with_its_errors() -> None:
    with pytest.raises(FlowInvalid) as raised:
        flows.simulate(DRAFT.replace("next: r", "next: nowhere"), None, FlowInput(text="quiz"))
    [error] = raised.value.details["errors"]
    assert error["line"] == 10 and "no step 'nowhere'" in error["message"]


def test_validate_is_nfc_and_names_lines() -> None:
    decomposed = DRAFT.replace("Đỏ", "Đỏ")  # NFD "ỏ" as typed on some keyboards
    assert flows.validate(decomposed) == []
    [error] = flows.validate("id: x\nname: X\nstart: a\nsteps: {a: {type: goto, flow: y}}\n")
    assert (error.line, error.message) == (4, "no flow 'y'")
    assert (
        flows.validate(
            "id: x\nname: X\nstart: a\nsteps: {a: {type: goto, flow: y}}\n", known_flows={"y"}
        )
        == []
    )

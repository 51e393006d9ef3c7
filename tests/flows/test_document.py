"""Flow documents: YAML and JSON, every error with its path and line, loops without input,
undeclared variables, and the published JSON Schema kept in sync."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatcart.flows.loading import load
from chatcart.flows.schema import json_schema

ROOT = Path(__file__).parents[2]
SCHEMA_FILE = ROOT / "docs" / "flow.schema.json"
DEMO = ROOT / "src" / "chatcart" / "flows" / "library" / "demo_shop.yaml"

GOOD = """\
id: hello
name: Hello
triggers:
  - type: keyword
    keyword: xin chào
start: hi
steps:
  hi:
    type: send
    text: "Xin chào {{first_name}}"
"""


def test_a_good_flow_loads_from_yaml_and_json() -> None:
    loaded = load(GOOD)
    assert loaded.ok, loaded.errors
    as_json = json.dumps(
        {
            "id": "hello",
            "name": "Hello",
            "start": "hi",
            "steps": {"hi": {"type": "send", "text": "Xin chào"}},
        }
    )
    assert load(as_json).ok


def test_the_demo_flow_set_is_valid() -> None:
    loaded = load(DEMO.read_text(encoding="utf-8"))
    assert loaded.ok, loaded.errors
    assert {f.id for f in loaded.flows} >= {"greeting", "order-phone", "tiktok-welcome", "human"}


def test_every_error_is_listed_with_path_and_line() -> None:
    text = """\
id: broken
name: Broken
triggers:
  - type: keyword
  - type: sometimes
start: nowhere
steps:
  a:
    type: send
  b:
    type: ask
    question: "?"
    kind: choice
    next: gone
  c:
    type: nope
  d:
    type: wait
    minutes: 0
  e:
    type: condition
    branches:
      - when: {time_from: "25:00", time_to: "08:00"}
        next: a
"""
    loaded = load(text)
    assert not loaded.ok
    found = {(e.line, e.path) for e in loaded.errors}
    messages = "\n".join(str(e) for e in loaded.errors)
    assert (4, "triggers[0]") in found, messages  # keyword or any_of missing
    assert (5, "triggers[1]") in found, messages  # unknown trigger type
    assert (8, "steps.a") in found, messages  # send without content
    assert (10, "steps.b") in found, messages  # choice without choices
    assert (15, "steps.c") in found, messages  # unknown step type
    assert (17, "steps.d") in found, messages  # a wait of 0
    assert any(line == 23 and "time_from" in path for line, path in found), messages
    assert "unknown step type 'nope'" in messages
    assert "triggers[1]: unknown type 'sometimes'; one of: keyword, ref," in messages
    assert "a wait lasts from 1 second to 30 days" in messages


def test_references_start_and_duplicates() -> None:
    text = """\
id: f
name: F
start: missing
steps:
  a: {type: send, text: hi, next: ghost}
  a: {type: end}
  g: {type: goto, flow: other}
"""
    errors = [str(e) for e in load(text).errors]
    assert "line 3: start: no step 'missing'" in errors
    assert "line 6: steps.a: duplicate key 'a'" in errors
    assert "line 7: steps.g.flow: no flow 'other'" in errors
    assert load(text, known_flows={"other"}).errors[-1].message != "no flow 'other'"


def test_yaml_syntax_errors_have_a_line() -> None:
    [error] = load("id: x\nname: [unclosed\nstart: a\n").errors
    assert error.line is not None and error.line >= 2


@pytest.mark.parametrize(
    ("steps", "loops"),
    [
        (
            "a: {type: tag, add: [x], next: b}\n  b: {type: set_field, field: f, value: '1', next: a}",
            True,
        ),
        ("a: {type: send, text: hi, next: a}", True),
        ("a: {type: send, text: hi, next: b}\n  b: {type: ask, question: '?', next: a}", False),
        ("a: {type: send, text: hi, next: b}\n  b: {type: wait, minutes: 5, next: a}", False),
        (
            "a: {type: condition, branches: [{when: {has_tag: x}, next: b}], else: c}\n"
            "  b: {type: end}\n  c: {type: send, text: hi, next: a}",
            True,
        ),
    ],
)
def test_loops_without_input_are_refused(steps: str, loops: bool) -> None:
    loaded = load(f"id: f\nname: F\nstart: a\nsteps:\n  {steps}\n")
    looped = [e for e in loaded.errors if "loop without waiting for input" in e.message]
    assert bool(looped) is loops, loaded.errors


def test_a_loop_across_flows_of_one_set() -> None:
    text = """\
flows:
  - {id: a, name: A, start: s, steps: {s: {type: goto, flow: b}}}
  - {id: b, name: B, start: s, steps: {s: {type: goto, flow: a}}}
"""
    [error] = load(text).errors
    assert "loop without waiting for input" in error.message
    assert error.line == 2


def test_variables_need_a_default_and_texts_the_default_language() -> None:
    text = """\
id: f
name: F
default_language: vi
variables: {size: "M"}
start: a
steps:
  a: {type: send, text: {en: "Size {{size}} for {{nickname}}"}}
"""
    messages = [e.message for e in load(text).errors]
    assert "{{nickname}} has no default: declare it under variables" in messages
    assert "a text has no 'vi' version (the default language)" in messages


def test_the_published_schema_is_in_sync() -> None:
    expected = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == expected, (
        "docs/flow.schema.json is stale: run `chatcart flows schema > docs/flow.schema.json`"
    )


def test_the_schema_names_every_step_and_trigger() -> None:
    schema = json_schema()
    defs = schema["$defs"]
    assert {"SendStep", "AskStep", "HttpStep", "WaitStep", "KeywordTrigger", "RefTrigger"} <= set(
        defs
    )
    [steps] = defs["Flow"]["properties"]["steps"]["patternProperties"].values()
    assert steps["discriminator"]["propertyName"] == "type"


def test_alias_bombs_and_odd_documents_are_refused_quickly() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for n in range(1, 9):
        bomb += f"{chr(97 + n)}: &{chr(97 + n)} [*{chr(96 + n)}, *{chr(96 + n)}, *{chr(96 + n)},"
        bomb += (
            f" *{chr(96 + n)}, *{chr(96 + n)}, *{chr(96 + n)}, *{chr(96 + n)}, *{chr(96 + n)}]\n"
        )
    [error] = load(bomb).errors
    assert "more than" in error.message
    assert load("- just\n- a list\n").errors[0].message == "a flow (a mapping) or flows: [...]"
    assert load("").errors[0].message == "a flow (a mapping) or flows: [...]"
    assert "longer than" in load("x" * 600_000).errors[0].message

"""The conversation test files of tests/flows/ (the demo shop's among them), run by pytest
with the same runner as `chatcart flows test`."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatcart.flows.testing import CaseResult, run_file, run_path

HERE = Path(__file__).parent
RESULTS = run_path(HERE)


@pytest.mark.parametrize("result", RESULTS, ids=[f"{Path(r.file).stem}: {r.name}" for r in RESULTS])
def test_conversation(result: CaseResult) -> None:
    assert result.ok, "\n".join(result.failures)


def test_the_demo_suite_is_there() -> None:
    demo = [r for r in RESULTS if Path(r.file).name == "demo_shop.yaml"]
    assert len(demo) >= 10


def test_a_failing_expectation_is_reported_with_its_turn(tmp_path: Path) -> None:
    file = tmp_path / "t.yaml"
    file.write_text(
        f"flows: {HERE.parents[1] / 'src/chatcart/flows/library/demo_shop.yaml'}\n"
        "tests:\n"
        "  - name: wrong\n"
        "    turns:\n"
        "      - user: xin chào\n"
        "        bot: [Goodbye]\n"
        "        fields: {phone: '+84912345678'}\n",
        encoding="utf-8",
    )
    [result] = run_file(file)
    assert not result.ok
    assert result.failures[0].startswith("turn 1: expected a reply with 'Goodbye'")
    assert "expected field phone = '+84912345678', got None" in result.failures[1]


def test_a_broken_flow_file_fails_with_its_errors(tmp_path: Path) -> None:
    (tmp_path / "flows.yaml").write_text("id: x\nname: X\nstart: a\nsteps: {}\n", "utf-8")
    file = tmp_path / "t.yaml"
    file.write_text("flows: flows.yaml\ntests: [{name: n, turns: [{user: hi}]}]\n", "utf-8")
    [result] = run_file(file)
    assert result.name == "(flows)"
    assert "line 4: steps" in result.failures[0]

"""The editor's simulator session (pure): waits can be skipped, HTTP steps take their
error branch without a call, a handover silences the bot, unmatched text gets the greeter,
and the chat and log stay bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from chatcart.flows import service
from chatcart.flows.loading import load
from chatcart.flows.schemas import FlowInput, SimSession, WorkspaceView

DOC = """\
flows:
  - id: care
    name: Care
    triggers: [{type: keyword, keyword: care}]
    start: later
    steps:
      later: {type: wait, hours: 2, next: call}
      call: {type: http, url: "https://example.invalid/hook", error: oops, next: fine}
      fine: {type: send, text: "fine"}
      oops: {type: tag, add: [http-failed], next: human}
      human: {type: handover, text: "Một bạn nhân viên sẽ trả lời"}
"""
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
SHOP = WorkspaceView(name="Shop")


def _say(sim: SimSession, data: FlowInput) -> SimSession:
    return service.simulate_chat(sim, load(DOC).flows, data, workspace=SHOP, now=NOW)


def test_wait_http_and_handover() -> None:
    sim = _say(SimSession(workspace_id=1), FlowInput(text="CARE", channel="messenger"))
    assert sim.run is not None and sim.run.status == "waiting"
    assert [e.kind for e in sim.log[-1].effects] == ["wake"]
    sim = _say(sim, FlowInput(kind="wake", channel="messenger"))
    assert sim.shift_seconds >= 7200  # the clock moved on to the end of the wait
    steps = [s.step for s in sim.log]
    assert steps[-5:] == ["later", "call", "call", "oops", "human"]  # call: made, failed
    kinds = [e.kind for s in sim.log for e in s.effects]
    assert "http" in kinds and "tag_add" in kinds and "handover" in kinds
    assert sim.contact.tags == ["http-failed"] and sim.paused
    assert sim.messages[-1].content.text == "Một bạn nhân viên sẽ trả lời"
    quiet = _say(sim, FlowInput(text="alo?", channel="messenger"))
    assert quiet.log[-1].event == "paused"
    assert quiet.messages[-1].who == "user"  # the bot said nothing


def test_greeter_and_bounds() -> None:
    sim = SimSession(workspace_id=1)
    for n in range(30):
        sim = _say(sim, FlowInput(text=f"xin chào {n}", channel="messenger"))
    assert sim.log[-1].event == "greeter"
    assert sim.messages[-1].who == "bot" and sim.messages[-1].content.text
    assert len(sim.messages) <= 40 and len(sim.log) <= 80
    assert sim.first is False

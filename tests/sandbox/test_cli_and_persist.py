"""`chatcart sandbox graph` and the state file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from chatcart.sandbox.cli import app as sandbox_cli
from chatcart.sandbox.graph import GraphState, create_graph_app


def test_graph_command_help() -> None:
    result = CliRunner().invoke(sandbox_cli, ["graph", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--state-file"):
        assert option in result.output


async def test_state_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "graph-state.json"
    first = GraphState()
    first.add_page("p1", "t1", "s1", "http://127.0.0.1:8000/hook", name="Shop")
    first.add_page("ig1", "t2", "s1", kind="instagram", page_id_link="p1")
    app = create_graph_app(first, state_file=path)
    async with app.router.lifespan_context(app):
        first.add_user("p1", "u1", first_name="Lan", feed_id="fb-1")
        first.set_interaction("p1", "u1")
        first.set_feature("human_agent", True)
    assert path.exists()

    second = GraphState()
    app = create_graph_app(second, state_file=path)
    async with app.router.lifespan_context(app):
        assert set(second.accounts) == {"p1", "ig1"}
        assert second.accounts["ig1"].page_id == "p1"
        user = second.user("p1", "u1")
        assert user is not None
        assert (user.first_name, user.feed_id) == ("Lan", "fb-1")
        assert user.last_interaction_at == first.user("p1", "u1").last_interaction_at  # type: ignore[union-attr]
        assert second.features["human_agent"] is True


async def test_missing_state_file_starts_empty(tmp_path: Path) -> None:
    state = GraphState()
    app = create_graph_app(state, state_file=tmp_path / "none.json")
    async with app.router.lifespan_context(app):
        assert state.accounts == {}

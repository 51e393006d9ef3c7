"""`chatcart broadcast ...` as a seller runs it (child processes; the sandbox answers sends)."""

from __future__ import annotations

import asyncio
import csv
import io
import sys

from tests.broadcasts.world import World
from tests.helpers.servers import settings_env


async def cli(world: World, *args: str) -> tuple[int, str, str]:
    env = settings_env(world.rt.settings) | {
        "COLUMNS": "200",
        "CHATCART_GRAPH_API_URL": world.graph_url,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chatcart", "broadcast", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_create_plan_start_follow_and_ledger(world: World) -> None:
    await world.add_people(12, window_hours=1)
    await world.add_people(3, window_hours=None, start=50)
    segment = await world.segment()
    common = ("--workspace", "shop")
    code, out, err = await cli(
        world, "create", *common, "--name", "Sale 12.12", "--channel", str(world.account_id),
        "--segment", str(segment), "--purpose", "promotion",
        "--text", "{{Chào|Xin chào}} {{first_name}}, sale 12.12!", "--batch-size", "5",
    )  # fmt: skip
    assert code == 0, err
    assert "2 distinct variants" in out
    code, out, err = await cli(world, "plan", "1", *common)
    assert code == 0, err
    assert "15 recipients" in out
    assert "12 reachable" in out
    assert "3 skipped" in out
    assert "messenger.window" in out
    code, out, err = await cli(world, "start", "1", *common, "--follow", "--work")
    assert code == 0, err
    assert "done: 12 sent, 3 skipped, 0 failed, 0 unknown" in out
    assert len(world.accepted_by_user()) == 12
    code, out, err = await cli(world, "ledger", "1", *common, "--csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 15
    assert sum(r["status"] in {"sent", "delivered", "read"} for r in rows) == 12
    code, out, err = await cli(world, "report", "1", *common, "--order-days", "14")
    assert code == 0, err
    assert "orders (14 d)" in out
    code, out, err = await cli(world, "report", "1", *common, "--order-days", "-3")
    assert code != 0
    code, out, err = await cli(world, "pause", "1", *common)
    assert code == 1
    assert "only a running one can be paused" in err


async def test_bad_spin_text_is_refused_with_the_position(world: World) -> None:
    segment = await world.segment()
    code, _, err = await cli(
        world, "create", "--workspace", "shop", "--name", "x", "--channel",
        str(world.account_id), "--segment", str(segment), "--purpose", "promotion",
        "--text", "Chào {{Hi|}} bạn",
    )  # fmt: skip
    assert code == 1
    assert "position 10" in err
    assert "Traceback" not in err

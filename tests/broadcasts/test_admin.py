"""Admin broadcast pages over HTTP: composer with live preview and errors at a position,
the plan, start, the progress bar reaching 100 %, the ledger and its CSV; other workspaces'
broadcasts are not found."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import re

import httpx

from tests.broadcasts.world import World
from tests.helpers.admin import csrf_of, login
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server


async def test_compose_plan_start_progress_and_ledger(world: World) -> None:
    await world.add_people(8, window_hours=1)
    await world.add_people(2, window_hours=None, start=40)
    segment = await world.segment("Khách Messenger")
    settings = world.rt.settings
    async with (
        live_server(settings) as host,
        httpx.AsyncClient(base_url=f"http://{host}", cookies={"lang": "en"}) as client,
    ):
        await login(client, world.shop.email, world.shop.password)
        page = await client.get("/admin/broadcasts/new")
        assert page.status_code == 200
        assert "Khách Messenger" in page.text
        token = csrf_of(page.text)
        bad = await client.post(
            "/admin/broadcasts/preview",
            data={"text": "Chào {{Hi|}} bạn", "csrf_token": token},
            headers={"X-CSRF-Token": token},
        )
        assert bad.status_code == 200
        assert "empty" in bad.text
        assert "<mark>" in bad.text  # the position is shown
        good = await client.post(
            "/admin/broadcasts/preview",
            data={
                "text": "{{Chào|Xin chào}} {{first_name}}!",
                "segment_id": str(segment),
                "csrf_token": token,
            },
            headers={"X-CSRF-Token": token},
        )
        assert '<strong id="variant-count">2</strong>' in good.text
        samples = re.findall(r"<li>([^<]+)</li>", good.text)
        assert len(samples) == 5
        assert all(html.unescape(s).split()[-1].endswith("!") for s in samples)
        refused = await client.post(
            "/admin/broadcasts",
            data={"name": "x", "text": "{{nick}}", "purpose": "promotion",
                  "segment_id": str(segment), "channel_account_ids": str(world.account_id),
                  "frequency_cap_hours": "24", "csrf_token": token},
        )  # fmt: skip
        assert refused.status_code == 422
        assert "unknown variable" in refused.text
        made = await client.post(
            "/admin/broadcasts",
            data={"name": "Sale 12.12", "text": "{{Chào|Xin chào}} {{first_name}}!",
                  "purpose": "promotion", "segment_id": str(segment),
                  "channel_account_ids": str(world.account_id), "batch_size": "3",
                  "frequency_cap_hours": "24", "csrf_token": token},
        )  # fmt: skip
        assert made.status_code == 303
        target = made.headers["location"]
        detail = await client.get(target)
        assert "10 recipients: 8 reachable, 2 skipped" in detail.text
        assert "messenger.window" in detail.text
        started = await client.post(f"{target}/start", data={"csrf_token": csrf_of(detail.text)})
        assert started.status_code == 303
        pct = ""
        for _ in range(200):
            bar = await client.get(f"{target}/progress")
            pct = re.search(r'class="pct">([\d.]+) %', bar.text).group(1)  # type: ignore[union-attr]
            if float(pct) == 100.0 and "Done" in bar.text:
                break
            await asyncio.sleep(0.1)
        assert float(pct) == 100.0
        assert len(world.accepted_by_user()) == 8
        ledger = await client.get(f"{target}/ledger?status=skipped")
        assert ledger.text.count("<tr>") == 3  # header + 2 skipped
        exported = await client.get(f"{target}/ledger.csv")
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
        assert len(rows) == 10
        report = await client.get(f"{target}?order_days=30")
        assert "Orders within 30 days" in report.text
        assert "Orders within 7 days" in (await client.get(f"{target}?order_days=x")).text
        again = await client.post(f"{target}/start", data={"csrf_token": csrf_of(detail.text)})
        assert "error=" in again.headers["location"]


async def test_other_workspaces_broadcasts_are_not_found(world: World) -> None:
    created = await world.create()
    other = await make_shop(world.rt, slug="other", name="Other")
    async with (
        live_server(world.rt.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
    ):
        await login(client, other.email, other.password)
        assert (await client.get(f"/admin/broadcasts/{created.id}")).status_code == 404
        assert (await client.get(f"/admin/broadcasts/{created.id}/ledger.csv")).status_code == 404
        listing = await client.get("/admin/broadcasts")
        assert "Sale 11.11" not in listing.text

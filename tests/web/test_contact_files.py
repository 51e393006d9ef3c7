"""Admin CSV import (background, progress polled, per-row report) and streamed export."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import re

import httpx

from chatcart.kit.db import transaction
from chatcart.runtime import Runtime
from chatcart.segments import service as segments
from chatcart.segments.schemas import SegmentCreate, parse_filter
from tests.helpers.admin import csrf_of, login
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server

FILE = (
    "Họ tên,SĐT,Email,Nhãn\r\n"
    "Trần Thị Lan,0912 345 678,lan@example.vn,VIP;Khách quen\r\n"
    "Nguyễn Văn Bình,0987654321,khong-phai-email,VIP\r\n"
    "Lê Thu,+63 917 123 4567,,\r\n"
).encode()


async def finished(client: httpx.AsyncClient, location: str) -> str:
    """Polls the progress fragment the way the page's HTMX does, until the import ends."""
    for _ in range(200):
        fragment = (await client.get(f"{location}/progress")).text
        status = re.search(r'data-status="(\w+)"', fragment)
        assert status, fragment
        if status.group(1) != "running":
            return html.unescape(fragment)
        assert 'hx-trigger="every 1s"' in fragment  # still polling
        await asyncio.sleep(0.05)
    raise AssertionError("the import did not finish")


async def test_import_with_progress_and_report_then_export(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    other = await make_shop(runtime, slug="other", name="Other")
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as client,
        httpx.AsyncClient(base_url=f"http://{host}") as stranger,
    ):
        await login(client, shop.email, shop.password)
        client.cookies.set("lang", "en")
        form = await client.get("/admin/contacts/import")
        csrf = csrf_of(form.text)
        refused = await client.post(
            "/admin/contacts/import", files={"file": ("a.csv", FILE, "text/csv")}
        )
        assert refused.status_code == 403

        started = await client.post(
            "/admin/contacts/import",
            data={"csrf_token": csrf},
            files={"file": ("khach.csv", FILE, "text/csv")},
        )
        assert started.status_code == 303
        location = started.headers["location"]
        page = await client.get(location)
        assert page.status_code == 200 and "khach.csv" in page.text
        report = await finished(client, location)
        assert 'data-status="done"' in report
        assert re.search(r'id="import-created">2<', report)
        assert re.search(r'id="import-skipped">1<', report)
        assert "khong-phai-email" in report or "email" in report  # the row's problem
        assert "<td>3</td>" in report  # its line in the file (the header is line 1)
        listing = html.unescape((await client.get("/admin/contacts", params={"q": "lan"})).text)
        assert "Trần Thị Lan" in listing

        broken = await client.post(
            "/admin/contacts/import",
            data={"csrf_token": csrf},
            files={"file": ("latin.csv", "Tên\r\nTâm\r\n".encode("cp1258"), "text/csv")},
        )
        failed = await finished(client, broken.headers["location"])
        assert 'data-status="failed"' in failed and "UTF-8" in failed

        await login(stranger, other.email, other.password)
        assert (await stranger.get(location)).status_code == 404

        export = await client.get(
            "/admin/contacts/export.csv", params={"columns": ["name", "phones", "tags"]}
        )
        assert export.status_code == 200
        assert export.headers["content-type"].startswith("text/csv")
        assert export.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
        assert rows[0] == ["name", "phones", "tags"]
        assert ["Trần Thị Lan", "+84912345678", "Khách quen;VIP"] in rows
        assert len(rows) == 3

        async with transaction(runtime.sessions) as session:
            vip = await segments.create(
                session,
                shop.workspace_id,
                SegmentCreate(
                    name="Có email",
                    filter=parse_filter({"type": "tags", "has": "all", "tags": ["khach quen"]}),
                ),
            )
        only = await client.get(
            "/admin/contacts/export.csv", params={"segment": vip.id, "columns": ["name"]}
        )
        assert only.content.decode("utf-8-sig").splitlines() == ["name", "Trần Thị Lan"]
        unknown = await client.get("/admin/contacts/export.csv", params={"columns": ["nope"]})
        assert unknown.status_code == 422
        theirs = await stranger.get("/admin/contacts/export.csv", params={"segment": vip.id})
        assert theirs.status_code == 404
        chooser = await client.get("/admin/contacts/export", params={"segment": vip.id})
        assert chooser.status_code == 200 and 'value="field:' not in chooser.text

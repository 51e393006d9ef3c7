"""/api/v1/appointments over HTTP: services, schedule, free slots, bookings (read, book,
cancel), scoped to the token's workspace, bad input 4xx, documented in OpenAPI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from chatcart.kit.clock import utcnow
from chatcart.runtime import Runtime
from tests.appointments.helpers import open_salon
from tests.helpers.factory import make_shop
from tests.helpers.servers import live_server

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


async def test_appointments_through_the_api(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    other = await make_shop(runtime, slug="other", name="Other")
    salon = await open_salon(runtime, shop.workspace_id)
    theirs = await open_salon(runtime, other.workspace_id)
    day = utcnow().astimezone(HCM).date() + timedelta(days=1)
    ten = datetime(day.year, day.month, day.day, 10, tzinfo=HCM)
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(
            base_url=f"http://{host}/api/v1",
            headers={"Authorization": f"Bearer {shop.api_token}"},
        ) as client,
    ):
        services = (await client.get("/appointments/services")).json()
        assert [(s["name_vi"], s["duration_minutes"], s["price"]) for s in services] == [
            ("Tư vấn phối đồ", 30, 0),
            ("Sửa đồ, lên lai quần", 15, 30000),
        ]
        schedule = (await client.get("/appointments/schedule")).json()
        assert schedule["timezone"] == "Asia/Ho_Chi_Minh"
        assert schedule["rules"]["hours"]["mon"] == [["08:00", "20:00"]]
        slots = (
            await client.get(
                f"/appointments/services/{salon.styling}/slots",
                params={"from": day.isoformat(), "to": day.isoformat()},
            )
        ).json()
        assert slots[0]["day"] == day.isoformat() and len(slots[0]["starts"]) == 24
        assert slots[0]["starts"][4] == ten.astimezone(UTC).isoformat().replace("+00:00", "Z")

        body = {"service_id": salon.styling, "starts_at": ten.isoformat(), "customer_name": "Lan"}
        made = await client.post("/appointments/bookings", json=body)
        assert made.status_code == 201, made.text
        booking = made.json()
        assert (booking["status"], booking["source"]) == ("booked", "api")
        taken = await client.post("/appointments/bookings", json=body)
        assert taken.status_code == 409 and taken.json()["error"]["code"] == "slot_taken"
        naive = await client.post(
            "/appointments/bookings", json={**body, "starts_at": "2026-12-01T10:00:00"}
        )
        assert naive.status_code == 422  # a time without its zone is refused
        foreign = await client.post(
            "/appointments/bookings", json={**body, "service_id": theirs.styling}
        )
        assert foreign.status_code == 404
        listed = (
            await client.get("/appointments/bookings", params={"from": ten.isoformat()})
        ).json()
        assert [b["id"] for b in listed] == [booking["id"]]
        assert (
            await client.get("/appointments/bookings", params={"status": "x"})
        ).status_code == 422
        bad_range = await client.get(
            f"/appointments/services/{salon.styling}/slots",
            params={"from": day.isoformat(), "to": (day - timedelta(days=2)).isoformat()},
        )
        assert bad_range.status_code == 422
        cancelled = await client.post(
            f"/appointments/bookings/{booking['id']}/cancel", json={"reason": "khách gọi điện"}
        )
        assert cancelled.json()["status"] == "cancelled"
        assert cancelled.json()["cancelled_by"].endswith("(khách gọi điện)")
        again = await client.post("/appointments/bookings", json=body)
        assert again.status_code == 201  # the place is free again
        assert (await client.get("/appointments/bookings/999999")).status_code == 404
        spec = (await client.get("/openapi.json")).json()
        assert "/appointments/services/{service_id}/slots" in spec["paths"]
        assert "post" in spec["paths"]["/appointments/bookings"]
    async with (
        live_server(runtime.settings, run_worker=False) as host,
        httpx.AsyncClient(base_url=f"http://{host}/api/v1") as anonymous,
    ):
        assert (await anonymous.get("/appointments/services")).status_code == 401

"""A shop that takes bookings: two services, open every day 08:00-20:00."""

from __future__ import annotations

from dataclasses import dataclass

from chatcart.appointments import service as appointments
from chatcart.appointments.schemas import BookingRules, ServiceIn
from chatcart.kit.db import transaction
from chatcart.runtime import Runtime

EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class Salon:
    styling: int  # 30 minutes, free
    hem: int  # 15 minutes, 30.000 ₫


async def open_salon(
    runtime: Runtime, workspace_id: int, *, capacity: int = 1, notice: int = 0, days_ahead: int = 7
) -> Salon:
    async with transaction(runtime.sessions) as session:
        await appointments.save_rules(
            session,
            workspace_id,
            BookingRules(
                hours={day: [("08:00", "20:00")] for day in EVERY_DAY},
                capacity=capacity,
                step_minutes=30,
                min_notice_minutes=notice,
                days_ahead=days_ahead,
            ),
        )
        styling = await appointments.save_service(
            session,
            workspace_id,
            ServiceIn(
                name_vi="Tư vấn phối đồ", name_en="Styling session", duration_minutes=30, price=0
            ),
        )
        hem = await appointments.save_service(
            session,
            workspace_id,
            ServiceIn(
                name_vi="Sửa đồ, lên lai quần",
                name_en="Alterations",
                duration_minutes=15,
                price=30000,
                position=1,
            ),
        )
    return Salon(styling.id, hem.id)

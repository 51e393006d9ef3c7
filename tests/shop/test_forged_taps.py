"""Taps are visitor input: a forged payload with a huge or odd number gets a normal
answer (never a failed event) from the shop and from the booking chat."""

from __future__ import annotations

import pytest

from chatcart.runtime import Runtime
from tests.appointments.helpers import open_salon
from tests.helpers.factory import make_shop
from tests.shop.chat import Customer, add_tee

HUGE = "9" * 30


@pytest.mark.parametrize(
    "payload",
    [
        f"SHOP:P:{HUGE}",
        f"SHOP:V:{HUGE}",
        f"SHOP:Q:{HUGE}:{HUGE}",
        "SHOP:P:²",
        f"SHOP:REORDER:{HUGE}",
        f"APPT:SVC:vi:{HUGE}:0",
        f"APPT:AT:vi:1:{HUGE}:20261206T0300Z",
        f"APPT:CANCELOK:vi:{HUGE}",
        "APPT:MOVE:vi:²",
    ],
)
async def test_a_forged_tap_gets_an_answer(runtime: Runtime, payload: str) -> None:
    made = await make_shop(runtime)
    await add_tee(runtime, made.workspace_id)
    await open_salon(runtime, made.workspace_id)
    replies = await Customer(runtime, made).tap(payload, "x")
    assert replies and all(r.text or r.cards or r.quick_replies for r in replies)

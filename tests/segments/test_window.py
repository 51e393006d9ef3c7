"""`messageable now on channel X`: the window comes from the channel's policy pack and is
inclusive to the microsecond, like policy.decide."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from chatcart.kit.db import transaction
from chatcart.models import Contact
from chatcart.policy import packs
from chatcart.policy import service as policy
from chatcart.runtime import Runtime
from chatcart.segments import service
from tests.helpers.factory import make_shop
from tests.segments import helpers as h
from tests.segments.world import NOW, US

MESSENGER = {"type": "messageable", "channel": "messenger"}


def _span(channel: str) -> timedelta:
    window = policy.rules_for(channel).window
    assert window is not None
    return window.span


async def _contacts(runtime: Runtime) -> tuple[int, dict[str, int]]:
    shop = await make_shop(runtime)
    ws = shop.workspace_id
    span = _span("messenger")
    people: dict[str, int] = {}
    async with transaction(runtime.sessions) as session:
        messenger = await h.account(session, ws, "messenger")
        instagram = await h.account(session, ws, "instagram")
        webchat = shop.widget_account_id
        cases = {
            "at_the_edge": (messenger, NOW - span, True),
            "one_us_inside": (messenger, NOW - span + US, True),
            "one_us_past": (messenger, NOW - span - US, True),
            "an_hour_ago_unreachable": (messenger, NOW - timedelta(hours=1), False),
            "future_clock_skew": (messenger, NOW + timedelta(minutes=5), True),
            "never_wrote": (messenger, None, True),
            "instagram_only": (instagram, NOW - timedelta(hours=1), True),
            "webchat_open": (webchat, None, True),
            "webchat_unreachable": (webchat, NOW, False),
            "merged_fresh": (messenger, NOW, True),
        }
        for n, (name, (account_id, inbound, reachable)) in enumerate(cases.items()):
            contact_id = await h.contact(session, ws, name)
            await h.identity(session, ws, contact_id, account_id, f"x{n}", inbound, reachable)
            people[name] = contact_id
        # Two identities: one stale, one fresh -> messageable.
        both = await h.contact(session, ws, "stale_and_fresh")
        other_page = await h.account(session, ws, "messenger", n=1)
        await h.identity(session, ws, both, messenger, "s1", NOW - span - US)
        await h.identity(session, ws, both, other_page, "s2", NOW - timedelta(hours=2))
        people["stale_and_fresh"] = both
        merged = await session.get(Contact, people["merged_fresh"])
        assert merged is not None
        merged.merged_into_id = both
    return ws, people


async def _members(runtime: Runtime, ws: int, rule: dict[str, object]) -> set[int]:
    async with runtime.sessions() as session:
        found: set[int] = set()
        async for page in service.iter_members(session, ws, rule, now=NOW):
            found.update(page)
        counted = await service.count(session, ws, rule, now=NOW)
    assert counted.count == len(found)
    return found


async def test_messenger_window_edges(runtime: Runtime) -> None:
    ws, people = await _contacts(runtime)
    assert _span("messenger") == timedelta(hours=24)  # today's pack; the test reads the pack
    members = await _members(runtime, ws, MESSENGER)
    names = {name for name, contact_id in people.items() if contact_id in members}
    assert names == {"at_the_edge", "one_us_inside", "future_clock_skew", "stale_and_fresh"}


async def test_instagram_and_open_webchat(runtime: Runtime) -> None:
    ws, people = await _contacts(runtime)
    instagram = await _members(runtime, ws, {"type": "messageable", "channel": "instagram"})
    assert instagram == {people["instagram_only"]}
    webchat = await _members(runtime, ws, {"type": "messageable", "channel": "webchat"})
    assert webchat == {people["webchat_open"]}  # no window: any reachable identity


async def test_the_window_is_the_packs(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, people = await _contacts(runtime)
    monkeypatch.setitem(
        packs.PACKS,
        "messenger",
        packs.window_only("messenger", version="test", effective=date(2020, 1, 1), hours=25),
    )
    members = await _members(runtime, ws, MESSENGER)
    assert people["one_us_past"] in members  # 24 h + 1 µs is inside a 25 h window
    assert people["an_hour_ago_unreachable"] not in members


async def test_window_moves_with_now(runtime: Runtime) -> None:
    ws, _people = await _contacts(runtime)
    async with runtime.sessions() as session:
        later = await service.count(session, ws, MESSENGER, now=NOW + US)
        earlier = await service.count(session, ws, MESSENGER, now=NOW - US)
    # At NOW + 1 µs the edge contact falls out; at NOW - 1 µs the one just past comes in.
    assert later.count == 3
    assert earlier.count == 5
    assert later.at == NOW + US

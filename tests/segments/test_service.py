"""segments.service: saved segments, preview order, member pages, ID lists, the contact list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from chatcart.kit.db import transaction
from chatcart.models import Contact, Tag
from chatcart.runtime import Runtime
from chatcart.segments import service
from chatcart.segments.errors import (
    SegmentNameTaken,
    SegmentNotFound,
    StaticSegmentHasNoFilter,
)
from chatcart.segments.schemas import IdListIn, SegmentCreate, SegmentUpdate, parse_filter
from tests.helpers.factory import make_shop
from tests.segments import helpers as h
from tests.segments.world import NOW

VIP = {"type": "tags", "has": "any", "tags": ["vip"]}


async def _book(runtime: Runtime) -> tuple[int, int, dict[str, int]]:
    """A small contact book: a few VIPs with phones, a merged one, another workspace."""
    shop = await make_shop(runtime)
    other = await make_shop(runtime, slug="other")
    ws = shop.workspace_id
    ids: dict[str, int] = {}
    async with transaction(runtime.sessions) as session:
        messenger = await h.account(session, ws, "messenger")
        theirs = await h.account(session, other.workspace_id, "messenger")
        rows = [
            ("Nguyễn Văn An", NOW - timedelta(hours=1), "+84912345678", "psid-an"),
            ("Trần Thị Bình", NOW - timedelta(days=3), "+84987654321", "psid-binh"),
            ("Phạm Ðức", None, None, "psid-duc"),
            ("Lê Hoàng", NOW - timedelta(hours=1), "+84911111111", None),
            ("Merged Away", NOW, "+84922222222", "psid-merged"),
        ]
        for name, last, number, psid in rows:
            contact_id = await h.contact(session, ws, name, last_interaction_at=last)
            ids[name] = contact_id
            if number:
                await h.phone(session, ws, contact_id, number)
            if psid:
                await h.identity(session, ws, contact_id, messenger, psid, last)
            await h.tag(session, ws, contact_id, "VIP")
        await h.phone(session, ws, ids["Phạm Ðức"], "0912 34", valid=False)
        merged = await session.get(Contact, ids["Merged Away"])
        assert merged is not None
        merged.merged_into_id = ids["Lê Hoàng"]
        stranger = await h.contact(session, other.workspace_id, "Nguyễn Stranger")
        await h.identity(session, other.workspace_id, stranger, theirs, "psid-stranger")
        await h.phone(session, other.workspace_id, stranger, "+84933333333")
        await h.tag(session, other.workspace_id, stranger, "VIP")
        ids["stranger"] = stranger
    return ws, other.workspace_id, ids


async def test_crud_is_scoped_and_names_are_unique(runtime: Runtime) -> None:
    ws, other, _ids = await _book(runtime)
    async with transaction(runtime.sessions) as session:
        made = await service.create(
            session, ws, SegmentCreate(name="  VIP  khách ", filter=parse_filter(VIP))
        )
        assert made.name == "VIP khách"
        assert made.kind == "filter"
        assert made.filter == parse_filter(VIP)
        with pytest.raises(SegmentNameTaken):
            await service.create(
                session, ws, SegmentCreate(name="VIP khách", filter=parse_filter(VIP))
            )
        # The same name in another workspace is fine; that workspace cannot see ours.
        theirs = await service.create(
            session, other, SegmentCreate(name="VIP khách", filter=parse_filter(VIP))
        )
        with pytest.raises(SegmentNotFound):
            await service.get(session, other, made.id)
        with pytest.raises(SegmentNotFound):
            await service.count(session, other, made.id)
        assert (await service.count(session, ws, made.id, now=NOW)).count == 4
        assert (await service.count(session, other, theirs.id, now=NOW)).count == 1

        renamed = await service.update(
            session,
            ws,
            made.id,
            SegmentUpdate(
                name="VIP with phone",
                filter=parse_filter(
                    {"type": "group", "rules": [VIP, {"type": "has_phone", "value": True}]}
                ),
            ),
        )
        assert renamed.name == "VIP with phone"
        assert renamed.updated_at >= made.updated_at
        assert (await service.count(session, ws, made.id, now=NOW)).count == 3
        assert [s.name for s in await service.list_segments(session, ws)] == ["VIP with phone"]
        await service.delete(session, ws, made.id)
        with pytest.raises(SegmentNotFound):
            await service.get(session, ws, made.id)
        with pytest.raises(SegmentNotFound):
            await service.delete(session, other, theirs.id + 1000)


async def test_preview_order_rows_and_limit(runtime: Runtime) -> None:
    ws, _, ids = await _book(runtime)
    async with runtime.sessions() as session:
        page = await service.preview(session, ws, VIP, limit=10, now=NOW)
        short = await service.preview(session, ws, VIP, limit=2, now=NOW)
    names = [row.name for row in page.items]
    # Latest interaction first, ties by newest id, never interacted last; no merged contact.
    assert names == ["Lê Hoàng", "Nguyễn Văn An", "Trần Thị Bình", "Phạm Ðức"]
    assert [row.name for row in short.items] == names[:2]
    an = page.items[1]
    assert an.id == ids["Nguyễn Văn An"]
    assert an.phones == ["+84912345678"]
    assert an.tags == ["VIP"]
    assert an.last_interaction_at == NOW - timedelta(hours=1)
    duc = page.items[3]
    assert duc.phones == []  # the invalid number is not shown as a phone
    assert duc.last_interaction_at is None
    assert page.limit == 10
    assert page.at == NOW


async def test_iter_members_pages(runtime: Runtime) -> None:
    ws, _, ids = await _book(runtime)
    async with transaction(runtime.sessions) as session:
        extra = [await h.contact(session, ws, f"extra {n}") for n in range(7)]
    everyone = {"type": "created", "op": "within_days", "value": 36500}
    async with runtime.sessions() as session:
        pages = [page async for page in service.iter_members(session, ws, everyone, batch=3)]
        single = [page async for page in service.iter_members(session, ws, everyone, batch=100)]
        none = [
            page
            async for page in service.iter_members(
                session, ws, {"type": "tags", "has": "any", "tags": ["nobody"]}
            )
        ]
    flat = [contact_id for page in pages for contact_id in page]
    assert [len(page) for page in pages] == [3, 3, 3, 2]
    assert flat == sorted(flat)
    expected = {v for k, v in ids.items() if k not in {"Merged Away", "stranger"}} | set(extra)
    assert set(flat) == expected
    assert len(flat) == len(expected)
    assert single == [sorted(expected)]
    assert none == []


async def test_id_list_matches_identities_and_phones_in_any_format(runtime: Runtime) -> None:
    ws, _, ids = await _book(runtime)
    pasted = IdListIn(
        name="Hội chợ",
        ids=["psid-an", "  0987 654 321  ", "psid-unknown"],
        text="\n".join(
            [
                "0912 345 678",  # An again, written three ways
                "+84912345678",
                "84-912-345-678",
                "",
                "   ",
                "psid-unknown",  # a duplicate: reported once
                "psid-merged",  # a merged contact's identity -> the contact it went into
                "psid-stranger",  # another workspace's PSID
                "+84 933 333 333",  # another workspace's phone
                "0912 34",  # only an invalid phone point has this
                "psid-duc",
                "hello world",
            ]
        ),
    )
    async with transaction(runtime.sessions) as session:
        made = await service.create_from_id_list(session, ws, pasted)
    assert made.unmatched == [
        "psid-unknown",
        "psid-stranger",
        "+84 933 333 333",
        "0912 34",
        "hello world",
    ]
    assert made.lines == 12
    assert made.matched_lines == 7
    assert made.contacts == 4  # An, Bình, Lê Hoàng (via merge), Đức
    async with runtime.sessions() as session:
        members = {
            contact_id
            async for page in service.iter_members(session, ws, made.segment_id)
            for contact_id in page
        }
        segment = await service.get(session, ws, made.segment_id)
        count = await service.count(session, ws, made.segment_id)
        preview = await service.preview(session, ws, made.segment_id)
    assert members == {
        ids["Nguyễn Văn An"],
        ids["Trần Thị Bình"],
        ids["Lê Hoàng"],
        ids["Phạm Ðức"],
    }
    assert segment.kind == "static"
    assert segment.filter is None
    assert segment.members == 4
    assert count.count == 4
    assert {row.id for row in preview.items} == members
    async with transaction(runtime.sessions) as session:
        with pytest.raises(StaticSegmentHasNoFilter):
            await service.update(
                session, ws, made.segment_id, SegmentUpdate(filter=parse_filter(VIP))
            )
        with pytest.raises(SegmentNameTaken):
            await service.create_from_id_list(session, ws, IdListIn(name="Hội chợ", ids=["x"]))


async def test_static_members_that_get_merged_later_drop_out(runtime: Runtime) -> None:
    ws, _, ids = await _book(runtime)
    async with transaction(runtime.sessions) as session:
        made = await service.create_from_id_list(
            session, ws, IdListIn(name="two", ids=["psid-an", "psid-binh"])
        )
    async with transaction(runtime.sessions) as session:
        binh = await session.get(Contact, ids["Trần Thị Bình"])
        assert binh is not None
        binh.merged_into_id = ids["Nguyễn Văn An"]
    async with runtime.sessions() as session:
        assert (await service.count(session, ws, made.segment_id)).count == 1


async def test_list_contacts_search_segment_filter_sort(runtime: Runtime) -> None:
    ws, _, _ids = await _book(runtime)
    async with transaction(runtime.sessions) as session:
        made = await service.create_from_id_list(
            session, ws, IdListIn(name="two", ids=["psid-an", "psid-duc"])
        )
    recent = parse_filter({"type": "last_interaction", "op": "within_days", "value": 1})
    async with runtime.sessions() as session:

        async def names(**kwargs: object) -> list[str]:
            rows = await service.list_contacts(session, ws, now=NOW, **kwargs)  # type: ignore[arg-type]
            return [row.name for row in rows]

        everyone = await names()
        assert everyone == ["Lê Hoàng", "Nguyễn Văn An", "Trần Thị Bình", "Phạm Ðức"]
        assert await names(q="nguyen") == ["Nguyễn Văn An"]
        assert await names(q="NGUYỄN van") == ["Nguyễn Văn An"]
        assert await names(q="đức") == ["Phạm Ðức"]  # U+00D0 folds like Đ
        assert await names(q="0912 345 678") == ["Nguyễn Văn An"]  # by phone point
        assert await names(q="nobody") == []
        assert await names(segment_id=made.segment_id) == ["Nguyễn Văn An", "Phạm Ðức"]
        assert await names(filter=recent) == ["Lê Hoàng", "Nguyễn Văn An"]
        assert await names(segment_id=made.segment_id, filter=recent) == ["Nguyễn Văn An"]
        assert await names(sort="name") == sorted(everyone, key=lambda n: n.encode())
        assert await names(sort="last_interaction_at") == [
            "Trần Thị Bình",
            "Nguyễn Văn An",
            "Lê Hoàng",
            "Phạm Ðức",
        ]
        assert await names(limit=2, offset=1) == everyone[1:3]


async def test_writing_between_pages_of_the_stream(runtime: Runtime) -> None:
    """A broadcast may write rows while it walks the audience (in the same transaction)."""
    ws, _, _ = await _book(runtime)
    everyone = {"type": "created", "op": "within_days", "value": 36500}
    written: list[int] = []
    async with transaction(runtime.sessions) as session:
        async for page in service.iter_members(session, ws, everyone, batch=2):
            session.add(Tag(workspace_id=ws, name=f"page {page[0]}", key=f"page {page[0]}"))
            await session.flush()
            written.extend(page)
    assert len(written) == 4
    async with runtime.sessions() as session:
        tags = await session.scalars(select(Tag.key).where(Tag.key.like("page %")))
        assert len(tags.all()) == 2

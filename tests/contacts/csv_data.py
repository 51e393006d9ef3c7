"""Contacts for the CSV tests: a small varied book, and many plain contacts fast."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable
from datetime import timedelta

from sqlalchemy import insert

from chatcart.contacts import service as contacts
from chatcart.contacts.schemas import FieldDefinitionIn, FieldType
from chatcart.kit.clock import utcnow
from chatcart.kit.contact_points import FoundPoint, find_points, normalise_phone
from chatcart.kit.db import transaction
from chatcart.models import Contact, ContactPoint
from chatcart.runtime import Runtime

FIELDS = [
    FieldDefinitionIn(key="size", label="Cỡ áo", type=FieldType.choice, choices=["S", "M", "L"]),
    FieldDefinitionIn(key="birthday", label="Ngày sinh", type=FieldType.date),
    FieldDefinitionIn(key="budget", type=FieldType.number),
    FieldDefinitionIn(key="vip", type=FieldType.boolean),
    FieldDefinitionIn(key="note", type=FieldType.text),
]


async def define_fields(runtime: Runtime, workspace_id: int) -> None:
    async with transaction(runtime.sessions) as session:
        for definition in FIELDS:
            await contacts.define_field(session, workspace_id, definition)


async def varied_book(runtime: Runtime, workspace_id: int, account_id: int) -> dict[str, int]:
    """Vietnamese and Tagalog names, phones valid and not, tags, every field type, consent
    both ways, a source, a would-be formula, and one contact merged into another."""
    await define_fields(runtime, workspace_id)
    people = {
        "huong": ("v-huong", {"name": "Trần Thị Hương", "first_name": "Hương"}),
        "nina": ("v-nina", {"name": "Ma. Niña Dela Cruz", "locale": "tl_PH"}),
        "formula": ("v-formula", {"name": '=HYPERLINK("http://x")'}),
        "twin": ("v-twin", {"name": "Hương (Zalo)"}),
    }
    ids: dict[str, int] = {}
    seen = utcnow() - timedelta(days=3)
    async with transaction(runtime.sessions) as session:
        for key, (external_id, profile) in people.items():
            resolved = await contacts.resolve(
                session,
                workspace_id=workspace_id,
                channel_account_id=account_id,
                external_id=external_id,
                profile=profile,
                source={"channel": "webchat", "ref": "tet-2025", "page_url": "https://x.vn/?a=1"},
                seen_at=seen,
            )
            ids[key] = resolved.contact_id
        at = utcnow()
        for key, text in (
            ("huong", "0912 345 678, huong.tran@Gmail.com"),
            ("huong", "sđt cũ 0283 822 1234"),
            ("nina", "+63 917 123 4567 / nina@example.ph"),
            ("twin", "0987654321"),
            ("formula", "Mail: =cmd@evil.example"),
        ):
            await contacts.add_points(
                session, workspace_id, ids[key], find_points(text, "VN"), source="message", at=at
            )
        await contacts.add_points(
            session,
            workspace_id,
            ids["nina"],
            [invalid_phone("0912.345.67")],
            source="message",
            at=at,
        )
        await contacts.tag(session, workspace_id, [ids["huong"]], ["Khách VIP", "Áo thun"])
        await contacts.tag(session, workspace_id, [ids["nina"]], ["suki", "-sale"])
        await contacts.set_fields(
            session,
            workspace_id,
            ids["huong"],
            {"size": "m", "birthday": "1995-03-08", "budget": "500000", "vip": "có"},
        )
        await contacts.set_fields(
            session,
            workspace_id,
            ids["nina"],
            {"budget": "1250.5", "vip": "hindi", "note": '+ likes pink; "quoted"\nsecond line'},
        )
        await contacts.set_consent(
            session, workspace_id, ids["huong"], "marketing", "granted", source="opt-in"
        )
        await contacts.set_consent(
            session, workspace_id, ids["nina"], "marketing", "revoked", source="STOP"
        )
        await contacts.merge(session, workspace_id, ids["huong"], ids["twin"], actor="test")
    return ids


def invalid_phone(text: str) -> FoundPoint:
    point = normalise_phone(text, "VN")
    assert point is not None and not point.valid
    return point


async def many_contacts(runtime: Runtime, workspace_id: int, count: int) -> None:
    """`count` contacts with a phone and an email each, inserted in bulk."""
    now = utcnow()
    async with transaction(runtime.sessions) as session:
        for start in range(0, count, 2000):
            numbers = range(start, min(start + 2000, count))
            rows = [
                {
                    "workspace_id": workspace_id,
                    "name": f"Nguyễn Văn Khách {n}",
                    "source": {"channel": "webchat"},
                    "created_at": now,
                    "search_text": "",
                }
                for n in numbers
            ]
            ids = (await session.scalars(insert(Contact).returning(Contact.id), rows)).all()
            points = []
            for contact_id, n in zip(ids, numbers, strict=True):
                for kind, value in (("phone", f"+8491{n:07d}"), ("email", f"khach{n}@x.vn")):
                    points.append(
                        {
                            "workspace_id": workspace_id,
                            "contact_id": contact_id,
                            "kind": kind,
                            "value": value,
                            "raw": value,
                            "valid": True,
                            "source": "import",
                            "first_seen_at": now,
                            "last_seen_at": now,
                        }
                    )
            await session.execute(insert(ContactPoint), points)


async def export_text(
    runtime: Runtime,
    workspace_id: int,
    columns: list[str] | None = None,
    contact_ids: AsyncIterable[list[int]] | list[int] | None = None,
) -> str:
    stream = contacts.export_csv(runtime.sessions, workspace_id, columns, contact_ids)
    return "".join([chunk async for chunk in stream])


def parse(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))

"""CSV export and import of contacts, on both databases."""

from __future__ import annotations

import tracemalloc
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from chatcart.contacts import csv_batch
from chatcart.contacts import service as contacts
from chatcart.kit.clock import utcnow
from chatcart.kit.contact_points import find_points
from chatcart.kit.db import transaction
from chatcart.models import Contact, ContactEvent, ContactIdentity, ContactPoint
from chatcart.runtime import Runtime
from tests.contacts.csv_data import (
    define_fields,
    export_text,
    many_contacts,
    parse,
    varied_book,
)
from tests.helpers.factory import make_shop


async def import_bytes(
    runtime: Runtime, workspace_id: int, data: bytes, channel_account_id: int | None = None
) -> contacts.ImportReport:
    return await contacts.import_csv(
        runtime.sessions, workspace_id, data, channel_account_id=channel_account_id
    )


async def count(runtime: Runtime, model: type[Contact | ContactEvent], workspace_id: int) -> int:
    async with runtime.sessions() as session:
        total = await session.scalar(
            select(func.count()).select_from(model).where(model.workspace_id == workspace_id)
        )
    return int(total or 0)


async def points_of(runtime: Runtime, workspace_id: int) -> list[tuple[str, str, bool, str]]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(ContactPoint.kind, ContactPoint.value, ContactPoint.valid, ContactPoint.source)
            .where(ContactPoint.workspace_id == workspace_id)
            .order_by(ContactPoint.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


# ---- export ------------------------------------------------------------------------------


async def test_round_trip_into_a_fresh_workspace(runtime: Runtime) -> None:
    first = await make_shop(runtime, "first")
    ids = await varied_book(runtime, first.workspace_id, first.widget_account_id)
    exported = await export_text(runtime, first.workspace_id)
    rows = parse(exported)
    assert [r["id"] for r in rows] == [str(ids[k]) for k in ("huong", "nina", "formula")]
    huong, nina, formula = rows
    assert huong["name"] == "Trần Thị Hương" and huong["first_name"] == "Hương"
    assert huong["phones"] == "+84912345678;+842838221234;+84987654321"
    assert huong["emails"] == "huong.tran@gmail.com"
    assert huong["tags"] == "Khách VIP;Áo thun"
    assert huong["identities"] == "webchat:v-huong;webchat:v-twin"  # the merged twin's too
    assert huong["consent_marketing"] == "granted"
    assert huong["source"] == "channel=webchat; page_url=https://x.vn/?a=1; ref=tet-2025"
    assert huong["created_at"].endswith("+07:00")  # the workspace's time zone
    assert (huong["field:size"], huong["field:birthday"]) == ("M", "1995-03-08")
    assert (huong["field:budget"], huong["field:vip"]) == ("500000", "true")
    assert nina["phones"] == "+639171234567" and nina["invalid_phones"] == "0912.345.67"
    assert nina["tags"] == "'-sale;suki"  # a leading "-" would be a formula in Excel
    assert (nina["field:budget"], nina["field:vip"]) == ("1250.5", "false")
    assert nina["field:note"] == '\'+ likes pink; "quoted"\nsecond line'
    assert (nina["consent_marketing"], nina["locale"]) == ("revoked", "tl_PH")
    assert formula["name"] == '\'=HYPERLINK("http://x")'

    second = await make_shop(runtime, "second")
    await define_fields(runtime, second.workspace_id)
    report = await import_bytes(runtime, second.workspace_id, exported.encode())
    assert (report.created, report.updated, report.skipped) == (3, 0, 0), report.errors
    assert report.errors == report.warnings == [] and report.ignored_columns == ["id"]
    again = parse(await export_text(runtime, second.workspace_id))

    def comparable(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        # Channel ids are scoped to a Page / widget: a fresh workspace has other accounts,
        # so identities are matched on import, never created from an export.
        return [{k: v for k, v in r.items() if k not in ("id", "identities")} for r in rows]

    assert comparable(again) == comparable(rows)
    async with runtime.sessions() as session:
        stored = await session.scalar(
            select(Contact).where(
                Contact.workspace_id == second.workspace_id, Contact.locale == "tl_PH"
            )
        )
        assert stored is not None and stored.name == "Ma. Niña Dela Cruz"
        assert stored.source == {
            "channel": "webchat",
            "page_url": "https://x.vn/?a=1",
            "ref": "tet-2025",
        }

    # The same file again changes nothing, not even the timeline.
    events = await count(runtime, ContactEvent, second.workspace_id)
    report = await import_bytes(runtime, second.workspace_id, exported.encode())
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3), report.warnings
    assert await count(runtime, ContactEvent, second.workspace_id) == events
    assert parse(await export_text(runtime, second.workspace_id)) == again


async def test_importing_its_own_export_matches_every_contact(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    # Known only by a channel id: the identities column finds them again.
    only_id = await person(runtime, shop.workspace_id, shop.widget_account_id, "v9", "Chín")
    await varied_book(runtime, shop.workspace_id, shop.widget_account_id)
    exported = await export_text(runtime, shop.workspace_id)
    report = await import_bytes(runtime, shop.workspace_id, exported.encode())
    assert (report.created, report.updated, report.unchanged) == (0, 0, 4), report
    assert parse(await export_text(runtime, shop.workspace_id)) == parse(exported)
    assert parse(exported)[0]["id"] == str(only_id)


async def test_export_chosen_columns_segments_and_unknown_columns(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    ids = await varied_book(runtime, shop.workspace_id, shop.widget_account_id)
    text = await export_text(runtime, shop.workspace_id, ["Name", "phones", "size"])
    assert text.startswith("\ufeffName,phones,field:size\r\n".replace("Name", "name"))
    # A segment: ids handed over in batches; merged and foreign ids never come out.
    someone_else = (await make_shop(runtime, "other")).workspace_id

    async def members() -> AsyncIterator[list[int]]:
        yield [ids["nina"], ids["twin"]]
        yield [ids["huong"], 999_999, someone_else]

    rows = parse(await export_text(runtime, shop.workspace_id, ["id"], contact_ids=members()))
    assert [int(r["id"]) for r in rows] == sorted([ids["nina"], ids["huong"]])  # by id
    rows = parse(await export_text(runtime, shop.workspace_id, ["id"], contact_ids=[ids["nina"]]))
    assert [int(r["id"]) for r in rows] == [ids["nina"]]
    with pytest.raises(contacts.UnknownColumn, match=r"'shoe'.*field:size"):
        await export_text(runtime, shop.workspace_id, ["name", "shoe"])


async def test_export_streams_in_batches_with_bounded_memory(runtime: Runtime) -> None:
    small = await make_shop(runtime, "small")
    big = await make_shop(runtime, "big")
    await many_contacts(runtime, small.workspace_id, 5_000)
    await many_contacts(runtime, big.workspace_id, 20_000)
    done: list[int] = []
    chunks = [
        c
        async for c in contacts.export_csv(
            runtime.sessions, small.workspace_id, progress=done.append
        )
    ]
    assert len(chunks) > 5 and chunks[0].startswith("\ufeffid,name,")
    assert all(not c.startswith("\ufeff") for c in chunks[1:])
    assert done == [1000, 2000, 3000, 4000, 5000]
    rows = parse("".join(chunks))
    assert len(rows) == 5_000 and rows[-1]["phones"] == "+84910004999"

    async def peak(workspace_id: int) -> tuple[int, int]:
        tracemalloc.start()
        try:
            written = 0
            async for chunk in contacts.export_csv(runtime.sessions, workspace_id):
                written += len(chunk)
            return tracemalloc.get_traced_memory()[1], written
        finally:
            tracemalloc.stop()

    await peak(small.workspace_id)  # warm caches (compiled statements) first
    peak_small, size_small = await peak(small.workspace_id)
    peak_big, size_big = await peak(big.workspace_id)
    assert size_big > 3.9 * size_small
    print(f"tracemalloc peak: 5k {peak_small:,} B, 20k {peak_big:,} B, 20k file {size_big:,} B")
    assert peak_big < 2 * peak_small, (peak_small, peak_big)


# ---- import: reading the file ------------------------------------------------------------


async def test_vietnamese_and_tagalog_names_come_out_nfc(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    names = ["Nguyễn Thị Ánh Tuyết", "Đặng Văn Lâm", "Ma. Niña Dela Cruz", "Santo Niño Bañez"]
    # macOS and some web forms write decomposed (NFD) text.
    lines = ["Họ tên,Số điện thoại,Nhãn"] + [
        f"{unicodedata.normalize('NFD', n)},09123456{i:02d},Khách mới" for i, n in enumerate(names)
    ]
    report = await import_bytes(runtime, shop.workspace_id, "\n".join(lines).encode())
    assert report.created == 4 and report.errors == []
    assert report.columns == {"Họ tên": "name", "Số điện thoại": "phones", "Nhãn": "tags"}
    async with runtime.sessions() as session:
        stored = (
            await session.scalars(
                select(Contact.name).where(Contact.workspace_id == shop.workspace_id)
            )
        ).all()
        assert sorted(stored) == sorted(names)
        assert all(unicodedata.is_normalized("NFC", n) for n in stored)
    text = await export_text(runtime, shop.workspace_id, ["name", "tags"])
    assert "Santo Niño Bañez,Khách mới" in text


async def test_semicolons_bom_and_crlf_from_excel(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    await define_fields(runtime, shop.workspace_id)
    data = (
        "\ufeffTên;SĐT;E-mail;Tags;Cỡ áo;Ghi chú\r\n"
        "Lê Thị Mai;0912 345 678;mai@yahoo.com.vn;vip, sỉ lẻ;L;\r\n"
        '"Phạm, Hùng";+84 987 654 321;;;s;"nhiều\r\ndòng"\r\n'
    ).encode()
    report = await import_bytes(runtime, shop.workspace_id, data)
    assert report.delimiter == ";" and report.created == 2, report.errors
    assert report.ignored_columns == ["Ghi chú"]
    rows = parse(await export_text(runtime, shop.workspace_id, ["name", "phones", "tags", "size"]))
    assert rows == [
        {"name": "Lê Thị Mai", "phones": "+84912345678", "tags": "sỉ lẻ;vip", "field:size": "L"},
        {"name": "Phạm, Hùng", "phones": "+84987654321", "tags": "", "field:size": "S"},
    ]
    # Excel's "sep=" line, tab-delimited files.
    sep = b"sep=;\r\nname;phone\r\nAn;0903 111 222\r\n"
    assert (await import_bytes(runtime, shop.workspace_id, sep)).created == 1
    tabs = "name\tphone\temail\nBình\t0903 111 333\tbinh@x.vn\n".encode()
    report = await import_bytes(runtime, shop.workspace_id, tabs)
    assert report.delimiter == "\t" and report.created == 1


@pytest.mark.parametrize(
    ("data", "line"),
    [
        # Windows-1258, as Vietnamese Windows saves "CSV": ê + a combining tilde.
        ("name,phone\nNguy\u00ea\u0303n V\u0103n A,0912345678\n".encode("cp1258"), 2),
        ("name,phone\nJose,09171234567\nJosé Rizal,09171234568\n".encode("latin-1"), 3),
    ],
    ids=["cp1258", "latin-1"],
)
async def test_wrong_encoding_is_a_clear_error_with_the_line(
    runtime: Runtime, data: bytes, line: int
) -> None:
    shop = await make_shop(runtime)
    with pytest.raises(contacts.CsvUnreadable) as raised:
        await import_bytes(runtime, shop.workspace_id, data)
    message = raised.value.message
    assert f"not UTF-8: line {line}" in message and "CSV UTF-8" in message
    assert raised.value.details["line"] == line
    assert await count(runtime, Contact, shop.workspace_id) == 0


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('name,phone\nLan,0912345678\n"Hùng" x,0987654321\nMai,0903111222\n', "line 3"),
        ('name,phone\nLan,0912345678\n"Hùng,0987654321\nMai,0903111222\n', "lines 3-4"),
    ],
)
async def test_broken_quoting_is_an_error_with_the_line_and_writes_nothing(
    runtime: Runtime, text: str, where: str
) -> None:
    shop = await make_shop(runtime)
    with pytest.raises(contacts.CsvUnreadable, match=f"broken quoting at {where}"):
        await import_bytes(runtime, shop.workspace_id, text.encode())
    assert await count(runtime, Contact, shop.workspace_id) == 0


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "the file is empty"),
        ("ghi chú,địa chỉ\nx,y\n".encode(), "no column names a contact"),
        ("name\n".encode("utf-16"), "UTF-16"),
        (b"name,psid\nLan,123\n", "--channel-account"),
    ],
)
async def test_files_that_cannot_be_read(runtime: Runtime, data: bytes, problem: str) -> None:
    shop = await make_shop(runtime)
    with pytest.raises(contacts.CsvUnreadable, match=problem):
        await import_bytes(runtime, shop.workspace_id, data)


# ---- import: rows ------------------------------------------------------------------------


async def test_good_rows_import_and_bad_rows_are_listed(runtime: Runtime, tmp_path: Path) -> None:
    shop = await make_shop(runtime)
    await define_fields(runtime, shop.workspace_id)
    path = tmp_path / "khach.csv"
    path.write_text(
        "name,phone,email,birthday\n"
        "Lan,0912345678,lan@gmail.com,1995-03-08\n"
        "Hùng,0987654321,hung@gmail,\n"
        "Mai,,mai@gmail.com,\n"
        "Tuấn,0903111222,,31/02/1995\n"
        "Bình,0903111333,,\n",
        encoding="utf-8",
    )
    progress: list[tuple[int, int | None]] = []
    report = await contacts.import_csv(
        runtime.sessions,
        shop.workspace_id,
        path,
        batch_size=2,
        progress=lambda *a: progress.append(a),
    )
    assert (report.rows, report.created, report.skipped) == (5, 3, 2)
    assert [(e.line, e.column) for e in report.errors] == [(3, "email"), (5, "birthday")]
    assert "'hung@gmail' is not an email address" in report.errors[0].problem
    assert "birthday: '31/02/1995' is not a valid date" in report.errors[1].problem
    assert progress[0] == (0, 5) and progress[-1] == (5, 5)
    async with runtime.sessions() as session:
        names = (
            await session.scalars(
                select(Contact.name).where(Contact.workspace_id == shop.workspace_id)
            )
        ).all()
    assert sorted(names) == ["Bình", "Lan", "Mai"]


async def test_row_problems_each_have_their_line_and_column(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    await define_fields(runtime, shop.workspace_id)
    data = (
        "name,phone,size,field:shoe,created_at,consent_marketing,tags\n"
        "Lan,0912345678,XL,,,,\n"  # 2: choice
        ",,,,,,\n"  # 3: empty
        "Hùng,0987654321,,42,,,\n"  # 4: unknown field
        "Mai,0903111222,,,yesterday,,\n"  # 5: date
        "Tú,0903111333,,,,maybe,\n"  # 6: consent
        "Bảo,0903111444,M,,,,,extra\n"  # 7: too many values
        ",,,,,,vip\n"  # 8: nothing to know them by
        "An,0903111555,M,,2024-01-02,yes,vip\n"  # 9: good
    ).encode()
    report = await import_bytes(runtime, shop.workspace_id, data)
    assert report.created == 1 and report.skipped == 7
    assert [(e.line, e.column) for e in report.errors] == [
        (2, "size"),
        (3, None),
        (4, "field:shoe"),
        (5, "created_at"),
        (6, "consent_marketing"),
        (7, None),
        (8, None),
    ]
    assert report.errors[1].problem == "empty row"
    assert "unknown field 'shoe'" in report.errors[2].problem


async def test_matches_by_phone_written_differently(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    lan = await person(runtime, shop.workspace_id, shop.widget_account_id, "v1", "Lan")
    async with transaction(runtime.sessions) as session:
        await contacts.add_points(
            session, shop.workspace_id, lan, find_points("+84912345678", "VN"),
            source="message", at=utcnow(),
        )  # fmt: skip
    data = "name,sdt,nhãn\nTrần Thị Lan,0912 345 678,vip\n".encode()
    report = await import_bytes(runtime, shop.workspace_id, data)
    assert (report.created, report.updated) == (0, 1)
    async with runtime.sessions() as session:
        row = await session.get(Contact, lan)
        assert row is not None and row.name == "Trần Thị Lan"  # the seller's file is their word
        assert "tran thi lan" in row.search_text
        assert await contacts.tags_of(session, lan) == ["vip"]
    assert await count(runtime, Contact, shop.workspace_id) == 1


async def test_matches_by_email_whatever_its_case(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    lan = await person(runtime, shop.workspace_id, shop.widget_account_id, "v1", "Lan")
    async with transaction(runtime.sessions) as session:
        await contacts.add_points(
            session, shop.workspace_id, lan, find_points("lan.tran@gmail.com", "VN"),
            source="message", at=utcnow(),
        )  # fmt: skip
    report = await import_bytes(
        runtime, shop.workspace_id, b"email,phone\nLan.Tran@GMAIL.com,0912345678\n"
    )
    assert (report.created, report.updated) == (0, 1)
    assert await points_of(runtime, shop.workspace_id) == [
        ("email", "lan.tran@gmail.com", True, "message"),
        ("phone", "+84912345678", True, "import"),
    ]


async def test_matches_by_psid_and_adds_new_ones(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    lan = await person(runtime, shop.workspace_id, shop.widget_account_id, "psid-1", "Lan")
    data = b"psid,name,tags\npsid-1,,vip\npsid-2,Hoa,new\n"
    report = await import_bytes(
        runtime, shop.workspace_id, data, channel_account_id=shop.widget_account_id
    )
    assert (report.created, report.updated, report.warnings) == (1, 1, [])
    async with transaction(runtime.sessions) as session:
        assert await contacts.tags_of(session, lan) == ["vip"]
        # The imported id is a real identity now: when Hoa writes, she is that contact.
        resolved = await contacts.resolve(
            session,
            workspace_id=shop.workspace_id,
            channel_account_id=shop.widget_account_id,
            external_id="psid-2",
            profile={},
            source=None,
            seen_at=utcnow(),
        )
        assert not resolved.created and resolved.name == "Hoa"
    # The account may also come per row, by id or by kind.
    per_row = f"psid,channel account,name\npsid-3,{shop.widget_account_id},Ba\npsid-4,webchat,Bốn\n"
    report = await import_bytes(runtime, shop.workspace_id, per_row.encode())
    assert report.created == 2 and report.errors == []
    report = await import_bytes(
        runtime, shop.workspace_id, b"psid,channel_account,name\npsid-5,zalo,X\n"
    )
    assert report.errors[0].problem == "no channel account 'zalo' in this workspace"
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ContactIdentity)) == 4


async def test_invalid_phones_are_kept_as_text_and_never_matched(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    data = b"name,phone\nLan,0912.345.67\nHoa,0912.345.67\n"
    report = await import_bytes(runtime, shop.workspace_id, data)
    assert report.created == 2
    assert [w.line for w in report.warnings] == [2, 3]
    assert "importing this file again adds it again" in report.warnings[0].problem
    assert await points_of(runtime, shop.workspace_id) == [
        ("phone", "0912.345.67", False, "import"),
        ("phone", "0912.345.67", False, "import"),
    ]
    async with runtime.sessions() as session:
        assert await contacts.merge_suggestions(session, shop.workspace_id) == []


async def test_rows_repeating_a_phone_in_one_file_make_one_contact(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    data = "name,phone,tags\nLan,0912345678,a\nLan Trần,+84 912 345 678,b\n".encode()
    report = await import_bytes(runtime, shop.workspace_id, data)
    assert (report.created, report.updated) == (1, 1)
    async with runtime.sessions() as session:
        row = await session.scalar(select(Contact))
        assert row is not None and row.name == "Lan Trần"
        assert await contacts.tags_of(session, row.id) == ["a", "b"]


async def test_an_import_never_grants_a_revoked_consent_again(runtime: Runtime) -> None:
    shop = await make_shop(runtime)
    lan = await person(runtime, shop.workspace_id, shop.widget_account_id, "v1", "Lan")
    async with transaction(runtime.sessions) as session:
        await contacts.add_points(
            session, shop.workspace_id, lan, find_points("0912345678", "VN"),
            source="message", at=utcnow(),
        )  # fmt: skip
        await contacts.set_consent(
            session, shop.workspace_id, lan, "marketing", "revoked", source="STOP"
        )
    data = b"phone,consent_marketing\n0912345678,granted\n0987654321,granted\n"
    report = await import_bytes(runtime, shop.workspace_id, data)
    assert (report.created, report.unchanged) == (1, 1)
    assert report.warnings[0].line == 2
    assert "revoked (STOP)" in report.warnings[0].problem
    rows = parse(await export_text(runtime, shop.workspace_id, ["phones", "consent_marketing"]))
    assert [r["consent_marketing"] for r in rows] == ["revoked", "granted"]


async def person(
    runtime: Runtime, workspace_id: int, account_id: int, external_id: str, name: str
) -> int:
    async with transaction(runtime.sessions) as session:
        resolved = await contacts.resolve(
            session,
            workspace_id=workspace_id,
            channel_account_id=account_id,
            external_id=external_id,
            profile={"name": name},
            source=None,
            seen_at=utcnow(),
        )
    return resolved.contact_id


async def test_a_conflict_at_the_batch_write_replays_the_batch_row_by_row(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A webhook may create an identity between the batch's look-up and its write: the
    batch's INSERT conflicts, nothing of it stays, and the rows are written one by one."""
    shop = await make_shop(runtime)
    lan = await person(runtime, shop.workspace_id, shop.widget_account_id, "psid-1", "Lan")
    prefetch = csv_batch.BatchWriter.prefetch

    async def stale(self: csv_batch.BatchWriter, rows: list[Any]) -> None:
        await prefetch(self, rows)
        self.by_identity.clear()  # as if psid-1 did not exist yet when looked up

    monkeypatch.setattr(csv_batch.BatchWriter, "prefetch", stale)
    data = b"psid,name,tags,phone\npsid-1,,vip,\npsid-2,Hoa,new,0912345678\n"
    report = await import_bytes(
        runtime, shop.workspace_id, data, channel_account_id=shop.widget_account_id
    )
    assert (report.created, report.updated, report.skipped, report.warnings) == (1, 1, 0, [])
    assert await count(runtime, Contact, shop.workspace_id) == 2
    async with runtime.sessions() as session:
        assert await contacts.tags_of(session, lan) == ["vip"]
        identities = await session.scalar(select(func.count()).select_from(ContactIdentity))
        assert identities == 2

"""`chatcart contacts export / import`, run as a user runs them (a child process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from chatcart.models import Contact
from chatcart.runtime import Runtime
from tests.contacts.csv_data import define_fields, many_contacts, parse, varied_book
from tests.helpers.factory import make_shop
from tests.helpers.servers import settings_env


def cli(runtime: Runtime, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatcart", *args],
        env=settings_env(runtime.settings) | {"COLUMNS": "200"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


async def contacts_in(runtime: Runtime, workspace_id: int) -> int:
    async with runtime.sessions() as session:
        total = await session.scalar(
            select(func.count()).select_from(Contact).where(Contact.workspace_id == workspace_id)
        )
    return int(total or 0)


async def test_export_to_a_file_and_to_stdout(runtime: Runtime, tmp_path: Path) -> None:
    shop = await make_shop(runtime)
    await varied_book(runtime, shop.workspace_id, shop.widget_account_id)
    await many_contacts(runtime, shop.workspace_id, 2_500)
    out = tmp_path / "khach.csv"
    result = cli(runtime, "contacts", "export", "--workspace", "shop", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert "exported 2503 contacts to" in result.stderr
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,name,first_name,")  # the BOM Excel needs
    rows = parse(data.decode("utf-8"))
    assert len(rows) == 2503 and rows[0]["name"] == "Trần Thị Hương"
    assert not (tmp_path / "khach.csv.part").exists()

    result = cli(
        runtime, "contacts", "export", "--workspace", "shop", "--columns", "name,tags,size"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.lstrip("\ufeff").splitlines()
    assert lines[:2] == ["name,tags,field:size", "Trần Thị Hương,Khách VIP;Áo thun,M"]


async def test_export_mistakes_are_clear_errors(runtime: Runtime, tmp_path: Path) -> None:
    await make_shop(runtime)
    out = tmp_path / "x.csv"
    unknown = cli(runtime, "contacts", "export", "--workspace", "shop", "--columns", "name,shoe")
    segment = cli(runtime, "contacts", "export", "--workspace", "shop", "--segment", "3")
    nowhere = cli(runtime, "contacts", "export", "--workspace", "nope", "-o", str(out))
    assert "unknown column 'shoe'" in unknown.stderr
    assert "segment" in segment.stderr and "3" in segment.stderr  # no such segment
    assert "no workspace with slug 'nope'" in nowhere.stderr
    for result in (unknown, segment, nowhere):
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no half-written file


async def test_import_lists_bad_rows_and_imports_the_good(runtime: Runtime, tmp_path: Path) -> None:
    shop = await make_shop(runtime)
    await define_fields(runtime, shop.workspace_id)
    path = tmp_path / "khach.csv"
    path.write_bytes(
        "\ufeffHọ tên;SĐT;Email;Ngày sinh;Ghi chú\r\n"
        "Lan;0912345678;lan@gmail.com;1995-03-08;\r\n"
        "Hùng;0987654321;hung@gmail;;\r\n"
        "Mai;;mai@gmail.com;;\r\n"
        "Tuấn;0903111222;;31/02/1995;\r\n"
        "Bình;0903111333;;;\r\n".encode()
    )
    errors = tmp_path / "errors.csv"
    result = cli(
        runtime, "contacts", "import", str(path), "--workspace", "shop", "--errors", str(errors)
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "5 rows: 3 created, 0 updated, 0 unchanged, 2 skipped" in out
    assert "ignored columns: Ghi chú" in out
    assert "│ 3    │ Email     │ 'hung@gmail' is not an email address" in out
    assert "│ 5    │ Ngày sinh │ birthday: '31/02/1995' is not a valid date" in out
    assert errors.read_text(encoding="utf-8-sig").splitlines()[1:] == [
        "3,Email,'hung@gmail' is not an email address",
        "5,Ngày sinh,birthday: '31/02/1995' is not a valid date",
    ]
    assert await contacts_in(runtime, shop.workspace_id) == 3

    again = cli(runtime, "contacts", "import", str(path), "--workspace", "shop")
    assert "5 rows: 0 created, 0 updated, 3 unchanged, 2 skipped" in again.stdout


async def test_unreadable_files_exit_1_with_the_line(runtime: Runtime, tmp_path: Path) -> None:
    shop = await make_shop(runtime)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,phone\nJose,0917\nJosé,0918\n".encode("latin-1"))
    quoting = tmp_path / "quoting.csv"
    quoting.write_text('name,phone\nLan,0912345678\n"Hùng" x,0987654321\n', encoding="utf-8")
    results = [
        cli(runtime, "contacts", "import", str(latin), "--workspace", "shop"),
        cli(runtime, "contacts", "import", str(quoting), "--workspace", "shop"),
        cli(runtime, "contacts", "import", str(tmp_path / "none.csv"), "--workspace", "shop"),
    ]
    assert "not UTF-8: line 3" in results[0].stderr
    assert "broken quoting at line 3" in results[1].stderr
    assert "cannot read" in results[2].stderr
    for result in results:
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
    assert await contacts_in(runtime, shop.workspace_id) == 0


async def test_export_a_segment(runtime: Runtime, tmp_path: Path) -> None:
    """`--segment` exports exactly the segment's members."""
    from chatcart.kit.db import transaction
    from chatcart.segments import service as segments
    from chatcart.segments.schemas import SegmentCreate

    shop = await make_shop(runtime)
    await varied_book(runtime, shop.workspace_id, shop.widget_account_id)
    async with transaction(runtime.sessions) as session:
        segment = await segments.create(
            session,
            shop.workspace_id,
            SegmentCreate.model_validate(
                {
                    "name": "VIP",
                    "filter": {
                        "type": "group",
                        "op": "and",
                        "rules": [{"type": "tags", "has": "any", "tags": ["Khách VIP"]}],
                    },
                }
            ),
        )
        expected = (await segments.count(session, shop.workspace_id, segment.id)).count
    out = tmp_path / "vip.csv"
    result = cli(
        runtime, "contacts", "export", "--workspace", "shop", "--segment", str(segment.id),
        "--columns", "name,tags", "-o", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = parse(out.read_bytes().decode("utf-8"))
    assert len(rows) == expected >= 1
    assert all("Khách VIP" in row["tags"] for row in rows)

"""`chatcart flows ...` run as a user runs it (a child process on the test database)."""

from __future__ import annotations

from pathlib import Path

import yaml

from chatcart.runtime import Runtime
from tests.helpers.factory import make_shop
from tests.test_cli import cli

ROOT = Path(__file__).parents[2]
DEMO = ROOT / "src" / "chatcart" / "flows" / "library" / "demo_shop.yaml"


async def test_validate_lists_every_error_with_its_line(runtime: Runtime, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: x\nname: X\nstart: a\nsteps:\n  a: {type: send}\n  b: {type: nope}\n", "utf-8"
    )
    done = cli(runtime, "flows", "validate", str(DEMO), str(bad))
    assert done.returncode == 1, done.stderr
    assert "ok" in done.stdout and "12 flow(s)" in done.stdout
    assert "a send step needs text, image, file or cards" in done.stdout
    assert "unknown step type 'nope'" in done.stdout
    lines = [line for line in done.stdout.splitlines() if "steps.a" in line or "steps.b" in line]
    assert [line.split()[1] for line in lines] == ["5", "6"]
    assert "Traceback" not in done.stderr


async def test_test_runs_conversation_files(runtime: Runtime, tmp_path: Path) -> None:
    ok = cli(runtime, "flows", "test", str(Path(__file__).parent))
    assert ok.returncode == 0, ok.stdout
    assert "0 failed" in ok.stdout
    failing = tmp_path / "fail.yaml"
    failing.write_text(
        f"flows: {DEMO}\ntests:\n  - name: wrong\n    turns:\n"
        "      - {user: xin chào, bot: [Tạm biệt]}\n",
        "utf-8",
    )
    failed = cli(runtime, "flows", "test", str(failing))
    assert failed.returncode == 1
    assert "✗ fail.yaml: wrong" in failed.stdout
    assert "turn 1: expected a reply with 'Tạm biệt'" in failed.stdout


async def test_import_list_export_publish_archive(runtime: Runtime, tmp_path: Path) -> None:
    await make_shop(runtime)
    imported = cli(runtime, "flows", "import", str(DEMO), "--workspace", "shop")
    assert imported.returncode == 0, imported.stderr
    assert "order-phone" in imported.stdout and "active" in imported.stdout
    again = cli(runtime, "flows", "import", str(DEMO), "--workspace", "shop")
    assert again.returncode == 0  # the same sources: no new versions
    listed = cli(runtime, "flows", "list", "--workspace", "shop")
    assert listed.stdout.count("active") == 12
    assert " 2 " not in listed.stdout

    out = tmp_path / "export.yaml"
    exported = cli(runtime, "flows", "export", "--workspace", "shop", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    data = yaml.safe_load(out.read_text("utf-8"))
    assert sorted(f["id"] for f in data["flows"]) == sorted(
        f["id"] for f in yaml.safe_load(DEMO.read_text("utf-8"))["flows"]
    )
    assert cli(runtime, "flows", "validate", str(out)).returncode == 0  # round trip

    archived = cli(runtime, "flows", "archive", "human", "--workspace", "shop")
    assert "archived" in archived.stdout
    republished = cli(runtime, "flows", "publish", "human", "--workspace", "shop")
    assert "active" in republished.stdout
    secret = cli(runtime, "flows", "secret", "human", "--workspace", "shop")
    assert len(secret.stdout.strip()) >= 40

    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nname: X\nstart: nowhere\nsteps: {a: {type: end}}\n", "utf-8")
    refused = cli(runtime, "flows", "import", str(broken), "--workspace", "shop")
    assert refused.returncode == 1
    assert "line 3: start: no step 'nowhere'" in refused.stderr
    missing = cli(runtime, "flows", "publish", "ghost", "--workspace", "shop")
    assert missing.returncode == 1 and "no flow 'ghost'" in missing.stderr


async def test_schema_prints_the_published_schema(runtime: Runtime) -> None:
    done = cli(runtime, "flows", "schema")
    assert done.stdout == (ROOT / "docs" / "flow.schema.json").read_text("utf-8")

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from chatcart.config import ConfigError, Mode, Settings
from chatcart.main import create_app


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests read the environment themselves; start from none of chatcart's vars."""
    for name in list(os.environ):
        if name.upper().startswith("CHATCART_"):
            monkeypatch.delenv(name)


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_production_without_secret_key_is_a_config_error(tmp_path: Path) -> None:
    settings = _settings(mode="production", data_dir=tmp_path)
    assert settings.mode is Mode.production
    with pytest.raises(ConfigError, match="CHATCART_SECRET_KEY"):
        settings.resolved_secret_key()
    assert not (tmp_path / "secret_key").exists()


def test_production_with_secret_key_uses_it(tmp_path: Path) -> None:
    settings = _settings(mode="production", data_dir=tmp_path, secret_key="explicit")
    assert settings.resolved_secret_key() == "explicit"
    assert not (tmp_path / "secret_key").exists()


def test_development_generates_and_keeps_a_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "var"
    first = _settings(data_dir=data_dir)
    assert first.mode is Mode.development
    key = first.resolved_secret_key()
    assert len(key) >= 48
    path = data_dir / "secret_key"
    assert path.read_text(encoding="utf-8").strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.resolved_secret_key() == key  # cached on the instance
    second = _settings(data_dir=data_dir)
    assert second.resolved_secret_key() == key
    other = _settings(data_dir=tmp_path / "elsewhere")
    assert other.resolved_secret_key() != key


def test_development_replaces_an_empty_key_file(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("\n", encoding="utf-8")
    key = _settings(data_dir=tmp_path).resolved_secret_key()
    assert key
    assert (tmp_path / "secret_key").read_text(encoding="utf-8").strip() == key


def test_environment_variables_with_prefix_are_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CHATCART_MODE", "production")
    monkeypatch.setenv("CHATCART_SECRET_KEY", "from-env")
    monkeypatch.setenv("CHATCART_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CHATCART_PORT", "9001")
    monkeypatch.setenv("CHATCART_LOGIN_MAX_DELAY_SECONDS", "2.5")
    monkeypatch.setenv("CHATCART_REDIS_URL", "redis://cache:6379/1")
    monkeypatch.setenv("PORT", "1234")  # unprefixed: ignored
    settings = _settings()
    assert settings.mode is Mode.production
    assert settings.resolved_secret_key() == "from-env"
    assert settings.data_dir == tmp_path
    assert settings.port == 9001
    assert settings.login_max_delay_seconds == 2.5
    assert settings.redis_url == "redis://cache:6379/1"
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'chatcart.db'}"


def test_default_database_url_is_sqlite_in_data_dir(tmp_path: Path) -> None:
    settings = _settings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'chatcart.db'}"
    assert settings.is_sqlite


def test_explicit_database_url_is_kept(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://u@db:5432/chatcart"
    settings = _settings(data_dir=tmp_path, database_url=url)
    assert settings.database_url == url
    assert not settings.is_sqlite


def test_create_app_refuses_to_start_in_production_without_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CHATCART_SECRET_KEY"):
        create_app(_settings(mode="production", data_dir=tmp_path))
    # It refused before touching the data directory (no database file, no key file).
    assert list(tmp_path.iterdir()) == []

"""Settings: the only module that reads the environment (DESIGN.md §4.6)."""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Mode(StrEnum):
    development = "development"
    production = "production"


class ConfigError(RuntimeError):
    """Settings that cannot work; raised before anything starts."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CHATCART_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    mode: Mode = Mode.development
    data_dir: Path = Path("var")
    database_url: str = ""
    # PostgreSQL only: keep chatcart's tables in this schema (several instances, one database).
    database_schema: str | None = None
    redis_url: str | None = None
    # Every Redis key and pub/sub channel starts with this: several instances, one Redis.
    redis_prefix: str = "chatcart:"
    secret_key: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    timezone: str = "Asia/Ho_Chi_Minh"
    default_locale: str = "vi"
    host: str = "127.0.0.1"
    port: int = 8000

    # Platform API base URLs: every adapter reaches its platform only through these.
    graph_api_url: str = "https://graph.facebook.com"
    graph_api_version: str = "v23.0"
    instagram_api_url: str = "https://graph.instagram.com"
    whatsapp_api_url: str = "https://graph.facebook.com"
    telegram_api_url: str = "https://api.telegram.org"
    zalo_api_url: str = "https://openapi.zalo.me"

    # Serve the strict Graph API fake at /sandbox/graph and the admin's "Fake Messenger"
    # page, so the demo Page works with no Meta account (make run turns it on).
    sandbox: bool = False

    # Worker tuning.
    worker_poll_seconds: float = 1.0
    # Rows claimed per round (inbound events, outbound messages); a batch costs a fixed
    # number of statements, so larger batches carry a burst for fewer round trips.
    worker_batch_size: int = 200
    claim_seconds: int = 60
    outbox_max_attempts: int = 5
    # Broadcasts: recipients taken per claim, sends in flight at once per worker.
    broadcast_claim_batch: int = Field(default=200, ge=1)
    broadcast_concurrency: int = Field(default=50, ge=1)
    inbound_max_attempts: int = 5

    # Login throttling: after this many failures per email+address, each attempt waits longer.
    login_free_failures: int = 3
    login_max_delay_seconds: float = 8.0

    widget_max_message_chars: int = Field(default=4000, ge=1)

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'chatcart.db'}"
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The secret key; in development one is generated once and kept in data_dir.

        Production refuses to start without an explicit key: a generated one would silently
        change on a new machine and invalidate every session and encrypted secret.
        """
        if self.secret_key:
            return self.secret_key
        if self.mode is Mode.production:
            raise ConfigError(
                "CHATCART_SECRET_KEY is not set. In production mode chatcart needs an explicit "
                "secret key; make one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        path = self.data_dir / "secret_key"
        if path.exists():
            key = path.read_text(encoding="utf-8").strip()
            if key:
                self.secret_key = key
                return key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)  # an empty file holds no key worth keeping
        key = secrets.token_urlsafe(48)
        # Created owner-only from the first byte; O_EXCL: never overwrite another key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key + "\n")
        self.secret_key = key
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

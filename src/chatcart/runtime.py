"""What a running process holds: settings, database, bus, secrets, channel adapters."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chatcart.channels.base import ChannelAdapter
from chatcart.channels.registry import build_adapters, close_adapters
from chatcart.config import Settings
from chatcart.kit.crypto import SecretBox
from chatcart.kit.db import create_engine, session_factory
from chatcart.kit.pubsub import Bus, create_bus
from chatcart.kit.ratelimit import RateLimiter


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bus: Bus
    secrets: SecretBox
    adapters: dict[str, ChannelAdapter]
    limiter: RateLimiter

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        secret_key = settings.resolved_secret_key()
        engine = create_engine(settings.database_url, schema=settings.database_schema)
        bus = create_bus(settings.redis_url, settings.redis_prefix)
        return cls(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            bus=bus,
            secrets=SecretBox(secret_key),
            adapters=build_adapters(settings, bus),
            limiter=RateLimiter(settings.redis_url, settings.redis_prefix),
        )

    async def close(self) -> None:
        await close_adapters(self.adapters)
        await self.limiter.close()
        await self.bus.close()
        await self.engine.dispose()

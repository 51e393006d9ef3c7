"""Side effects gathered during a unit of work and published only after it commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chatcart.kit.pubsub import Bus


@dataclass
class Effects:
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def publish(self, topic: str, data: dict[str, Any]) -> None:
        self.events.append((topic, data))

    def wake(self, loop: str) -> None:
        self.publish(f"wake:{loop}", {})

    async def flush(self, bus: Bus) -> None:
        events, self.events = self.events, []
        for topic, data in events:
            await bus.publish(topic, data)

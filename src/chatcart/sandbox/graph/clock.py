"""The sandbox clock: real UTC time until a test sets or advances it; then frozen.

Every rule (windows, tag retirement dates, token cooldowns, comment ages) reads this clock, so
tests can stand on either side of an edge. Rate limiting uses a monotonic clock instead
(GraphState.monotonic), because a token bucket must not jump when a test moves the date.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chatcart.kit.clock import as_utc, utcnow


class SandboxClock:
    def __init__(self, fixed: datetime | None = None) -> None:
        self._fixed = as_utc(fixed) if fixed is not None else None

    def now(self) -> datetime:
        return self._fixed if self._fixed is not None else utcnow()

    @property
    def frozen(self) -> bool:
        return self._fixed is not None

    def set(self, when: datetime) -> None:
        """Freeze the clock at `when` (naive values are taken as UTC)."""
        self._fixed = as_utc(when)

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward (seconds or a timedelta) and freeze there."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        self._fixed = self.now() + step
        return self._fixed

    def use_real_time(self) -> None:
        self._fixed = None


def epoch_ms(when: datetime) -> int:
    return int(as_utc(when).timestamp() * 1000)


def epoch_s(when: datetime) -> int:
    return int(as_utc(when).timestamp())

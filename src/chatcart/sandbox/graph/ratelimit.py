"""Per-account token buckets for the Send API (platforms.md 2.10, checklist 2.11 #7).

300 calls/s for text (also templates, sender actions), 10 calls/s for audio/video, 750
private replies/hour. Every authenticated call takes a token, accepted or not (a call is a
call). Capacity = one period's worth. Rates live on GraphState.rates so tests can shrink them.
"""

from __future__ import annotations

from collections.abc import Callable


class TokenBucket:
    def __init__(self, rate: float, per_seconds: float, clock: Callable[[], float]) -> None:
        self.capacity = max(rate, 1.0)
        self.refill_per_second = rate / per_seconds
        self.tokens = self.capacity
        self._clock = clock
        self._last = clock()

    def take(self) -> bool:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._last) * self.refill_per_second)
        self._last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

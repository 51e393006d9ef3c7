"""Pacing of a broadcast: "send N, then pause S seconds ± jitter", and a cap per second.
Pure arithmetic; the runner keeps the state in the broadcast row so workers share it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Pacer:
    batch_size: int | None
    pause_seconds: float
    jitter_seconds: float

    def room(self, taken: int, claim_batch: int) -> int:
        """How many recipients may be taken now, `taken` of the current batch being gone."""
        if self.batch_size is None:
            return claim_batch
        return max(0, min(claim_batch, self.batch_size - taken))

    def fills(self, taken: int) -> bool:
        return self.batch_size is not None and taken >= self.batch_size

    def pause(self, rng: random.Random) -> timedelta:
        jitter = (
            rng.uniform(-self.jitter_seconds, self.jitter_seconds) if self.jitter_seconds else 0
        )
        return timedelta(seconds=max(0.0, self.pause_seconds + jitter))

    def next_batch_at(self, finished: datetime, rng: random.Random) -> datetime:
        return finished + self.pause(rng)


def per_second_limit(max_per_second: float) -> str:
    """A cap as a `limits` string: 20 -> "20/second", 0.5 -> "1/2 second" (whole numbers
    only in that syntax; fractions above 1 round down, never above the seller's cap)."""
    if max_per_second >= 1:
        return f"{int(max_per_second)}/second"
    return f"1/{max(1, round(1 / max_per_second))} second"

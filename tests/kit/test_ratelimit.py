"""Send-rate buckets: what may be left out (typing indicators) only takes spare tokens."""

from __future__ import annotations

from chatcart.kit.ratelimit import RateLimiter


async def test_spare_tokens_stop_at_half_the_window_and_leave_the_rest_to_messages() -> None:
    limiter = RateLimiter(None)
    try:
        taken = [await limiter.try_acquire_spare("10/minute", "send", "page") for _ in range(10)]
        # Five of ten for courtesy; then only messages may take what is left.
        assert taken == [True] * 5 + [False] * 5
        assert [await limiter.try_acquire("10/minute", "send", "page") for _ in range(6)] == [
            True,
            True,
            True,
            True,
            True,
            False,
        ]
        # Another Page has its own bucket.
        assert await limiter.try_acquire_spare("10/minute", "send", "other")
    finally:
        await limiter.close()

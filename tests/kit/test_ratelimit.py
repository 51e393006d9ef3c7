"""Send-rate buckets: what may be left out (typing indicators) only takes spare tokens."""

from __future__ import annotations

from chatcart.kit.ratelimit import RateLimiter


async def test_spare_tokens_stop_at_a_fifth_of_the_window_and_leave_the_rest_to_messages() -> None:
    limiter = RateLimiter(None)
    try:
        taken = [await limiter.try_acquire_spare("10/minute", "send", "page") for _ in range(10)]
        # Two of ten for courtesy (only while the Page is quiet: typing dots that took half
        # the window left a busy Page's replies waiting for tokens); the rest for messages.
        assert taken == [True] * 2 + [False] * 8
        assert [await limiter.try_acquire("10/minute", "send", "page") for _ in range(9)] == [
            *[True] * 8,
            False,
        ]
        # Another Page has its own bucket.
        assert await limiter.try_acquire_spare("10/minute", "send", "other")
    finally:
        await limiter.close()


async def test_a_batch_takes_what_the_window_has_left_with_one_hit() -> None:
    limiter = RateLimiter(None)
    try:
        assert await limiter.acquire_up_to("10/minute", 4, "send", "page") == 4
        # Six left: a batch of eight gets six, the next gets none (no wait allowed).
        assert await limiter.acquire_up_to("10/minute", 8, "send", "page", max_wait=0) == 6
        assert await limiter.acquire_up_to("10/minute", 1, "send", "page", max_wait=0) == 0
        assert not await limiter.try_acquire("10/minute", "send", "page")
        assert await limiter.acquire_up_to("10/minute", 0, "send", "other") == 0
        # A window that frees up within max_wait is waited for.
        assert await limiter.acquire_up_to("2/second", 2, "send", "fast") == 2
        assert await limiter.acquire_up_to("2/second", 3, "send", "fast", max_wait=2) == 2
    finally:
        await limiter.close()

"""The garbage collector of a long-running process (`chatcart serve`, `chatcart worker`).

Python's cyclic collector runs a young collection every 700 net allocations and now and
then walks every object the process holds. A claimed inbound batch or an outbox batch
allocates tens of thousands of short-lived objects (rows, ORM states, requests), and the
process holds ~170,000 objects made at start-up (modules, the app, table metadata) that
live until it exits: with the defaults the collector took about a quarter of the CPU of
the webhook -> reply path (bench/webhook.py). Reference counting still frees almost
everything at once; only cycles wait for a collection.
"""

from __future__ import annotations

import gc

# Young collections after this many net allocations (default 700): a batch's garbage is
# mostly freed by reference counting, so fewer, larger collections find the same cycles.
YOUNG_THRESHOLD = 50_000


def settle_for_serving() -> None:
    """Call once the app is built, before serving: collect what start-up left, move every
    object alive now out of the collector's sight (gc.freeze: they are never freed
    anyway), and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)

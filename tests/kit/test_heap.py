"""kit/heap: the collector settings of a serving process (checked in a child process: the
test process's own collector must stay as it is)."""

from __future__ import annotations

import subprocess
import sys

_CHILD = """
import gc, weakref
from chatcart.kit import heap

class Node:
    pass

heap.settle_for_serving()
frozen, threshold = gc.get_freeze_count(), gc.get_threshold()
a, b = Node(), Node()
a.other, b.other = b, a  # a cycle made after start-up: still collected
gone = weakref.ref(a)
del a, b
gc.collect()
print(frozen, threshold[0], gone() is None)
"""


def test_start_up_objects_frozen_young_collections_rarer_cycles_still_collected() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True, timeout=60
    )
    frozen, young, collected = out.stdout.split()
    assert int(frozen) > 1000  # the modules, classes and functions loaded at start-up
    assert int(young) == 50_000
    assert collected == "True"

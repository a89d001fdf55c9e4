"""The collector settings of a consuming process (``mlops-lab ingest``), in a child
process: the test process keeps its own."""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = """
import gc, json, weakref
before = gc.get_threshold()
from mlops_lab.streaming.consumer_process import YOUNGEST_THRESHOLD, tune_collector
tune_collector()
class Node:
    pass
a, b = Node(), Node()
a.other, b.other = b, a  # a cycle, garbage once dropped
gone = weakref.ref(a)
del a, b
kept = [[None] for _ in range(3 * YOUNGEST_THRESHOLD)]  # live containers: a young collection
print(json.dumps({"before": before, "after": gc.get_threshold(),
                  "frozen": gc.get_freeze_count(), "cycle_collected": gone() is None}))
"""


def test_tune_collector_freezes_start_up_objects_and_still_collects_cycles() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=60
    )
    seen = json.loads(done.stdout)
    assert seen["before"][0] == 700  # the interpreter's default, as the child started
    assert seen["after"] == [20_000, *seen["before"][1:]]
    assert seen["frozen"] > 1000  # the modules imported so far
    assert seen["cycle_collected"]

"""Settings for a process that does nothing but consume streams (``mlops-lab ingest``).

Python's cyclic garbage collector runs its youngest generation every 700 new container
objects. A fetched batch of 5,000 events makes some 25,000 (the broker client's lists and
tuples, one :class:`~mlops_lab.streaming.sources.Delivery` each), none of them in a cycle,
so the collector ran dozens of times a batch, each time walking everything the last
collection left young. Measured on a Redis drain of 300,000 events (the consumer's own
CPU, ``/proc`` per thread, the start-up objects frozen in both): 16.6 us an event with a
threshold of 700, 13.1 us with 20,000; the reader thread's share went from 1.3-1.4 s to
0.8 s. Cycles are still collected, just less often.

Only the ``ingest`` command (and the benchmark, which stands for it) calls this: a notebook
or the Jupyter server that runs an :class:`~mlops_lab.streaming.ingest.Ingestor` keeps the
interpreter's own settings.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNGEST_THRESHOLD", "tune_collector"]

YOUNGEST_THRESHOLD = 20_000


def tune_collector() -> None:
    """Freeze what exists now out of the collector's walks, and collect the youngest
    generation every :data:`YOUNGEST_THRESHOLD` allocations (the older ones unchanged)."""
    gc.collect()
    gc.freeze()
    youngest, middle, oldest = gc.get_threshold()
    gc.set_threshold(max(youngest, YOUNGEST_THRESHOLD), middle, oldest)

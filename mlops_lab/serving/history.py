"""The model server's recent traffic, in fixed time buckets (a bounded ring).

Each bucket (``bucket_seconds`` wide, 10 s by default) holds, per variant, the
requests answered, the 4xx and 5xx among them and a latency histogram; the
last ``keep`` buckets (360: one hour) are kept, older ones fall off. The
server keeps them itself, counted as each request finishes, so the history
is exact (no sampling gaps, no counter resets to reconcile) and exists
whether or not anyone watches; it goes with the process, as its counters do.

``series()`` is what ``GET /metrics/history`` answers: every bucket from the
server's start (or the oldest kept) to now, empty ones included, so a chart
draws idle time as zero traffic rather than a line across the gap.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BUCKETS", "MetricsHistory", "error_counts", "latency_quantile_ms", "status_class"]

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


def status_class(status: int | str) -> str | None:
    """``"4xx"`` (the client's error), ``"5xx"`` (the server's) or None (answered)."""
    text = str(status)
    return f"{text[0]}xx" if len(text) == 3 and text[0] in "45" else None


def error_counts(statuses: dict[str, int]) -> dict[str, Any]:
    """Requests, 4xx and 5xx among them and their rates, from counts by HTTP status.
    The error rate is the 5xx one (the server's); the 4xx rate judges nothing."""
    total = sum(statuses.values())
    client = sum(n for s, n in statuses.items() if status_class(s) == "4xx")
    server = sum(n for s, n in statuses.items() if status_class(s) == "5xx")
    return {
        "requests": total,
        "client_errors": client,
        "server_errors": server,
        "error_rate": server / total if total else None,
        "client_error_rate": client / total if total else None,
    }


def latency_quantile_ms(cumulative: Sequence[int], total: int, q: float) -> float | None:
    """The upper bound (ms) of the first histogram bucket holding the ``q`` quantile;
    None without requests or when it lies beyond the last bound."""
    if not total:
        return None
    for bound, count in zip(BUCKETS, cumulative, strict=False):
        if count >= q * total:
            return 1000 * bound
    return None


@dataclass
class _Variant:
    requests: int = 0
    client_errors: int = 0
    server_errors: int = 0
    cumulative: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))

    def add(self, status: int, seconds: float) -> None:
        self.requests += 1
        kind = status_class(status)
        self.client_errors += kind == "4xx"
        self.server_errors += kind == "5xx"
        for index, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.cumulative[index] += 1

    def summary(self) -> dict[str, int | float | None]:
        return {
            "requests": self.requests,
            "client_errors": self.client_errors,
            "server_errors": self.server_errors,
            "p50_ms": latency_quantile_ms(self.cumulative, self.requests, 0.5),
            "p99_ms": latency_quantile_ms(self.cumulative, self.requests, 0.99),
        }


class MetricsHistory:
    """Per-bucket counts of the last ``keep`` buckets; thread-safe."""

    def __init__(
        self,
        *,
        bucket_seconds: float = 10.0,
        keep: int = 360,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bucket_seconds = bucket_seconds
        self.keep = keep
        self._clock = clock
        self._lock = threading.Lock()
        self._started = clock()
        # (bucket number: its start over bucket_seconds, counts by variant), oldest first
        self._buckets: deque[tuple[int, dict[str, _Variant]]] = deque(maxlen=keep)

    def _number(self, at: float) -> int:
        return math.floor(at / self.bucket_seconds)

    def observe(self, variant: str, status: int, seconds: float) -> None:
        number = self._number(self._clock())
        with self._lock:
            if not self._buckets or self._buckets[-1][0] < number:
                self._buckets.append((number, {}))
            variants = self._buckets[-1][1]
            variants.setdefault(variant, _Variant()).add(status, seconds)

    def series(self) -> dict[str, object]:
        """Every bucket from the server's start (at most ``keep`` back) to now, oldest
        first: ``start`` (unix seconds), ``seconds`` it covers (less for the first
        and the current one) and each variant's counts and latency quantiles."""
        now = self._clock()
        width = self.bucket_seconds
        current = self._number(now)
        first = max(self._number(self._started), current - self.keep + 1)
        with self._lock:
            summaries = {
                number: {name: v.summary() for name, v in variants.items()}
                for number, variants in self._buckets
                if number >= first
            }
        buckets = []
        for number in range(first, current + 1):
            start = number * width
            covered = min(start + width, now) - max(start, self._started)
            buckets.append(
                {
                    "start": start,
                    "seconds": round(max(covered, 1e-3), 3),
                    "variants": summaries.get(number, {}),
                }
            )
        return {"bucket_seconds": width, "now": now, "buckets": buckets}

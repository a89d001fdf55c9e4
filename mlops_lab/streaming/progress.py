"""What an ingest consumer is told (its options) and what it counts (its stats)."""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "HEARTBEAT_SECONDS",
    "IngestOptions",
    "IngestStats",
    "ProgressWrites",
    "progress_line",
    "progress_values",
]

HEARTBEAT_SECONDS = 10.0
"""How often a consumer whose progress has not changed writes it anyway: its row's
``updated_at`` tells the panel it is alive (gone after ``streams.STALE_SECONDS``)."""


@dataclass(frozen=True, kw_only=True)
class IngestOptions:
    batch: int = 20_000  # at most, a fetch: a consumer behind catches up in fewer, larger batches
    block_ms: int = 100
    flush_every: float | None = 60.0  # seconds; None: never by time
    flush_rows: int | None = None  # events; None: never by size
    report_every: float = 1.0
    # Drop online the events older than every window as of now (see StreamWriter).
    prune_every: float | None = 600.0
    max_backoff: float = 30.0


@dataclass(kw_only=True)
class IngestStats:
    received: int = 0
    applied: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    parts: int = 0
    batches: int = 0
    last_event_ms: int | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    dataset_version: int | None = None
    since_flush: int = 0
    # publish -> readable online, per event batch (ms), the recent ones
    freshness: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))

    def to_dict(self) -> dict[str, Any]:
        ordered = sorted(self.freshness)

        def pct(q: float) -> float | None:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None

        return {
            "received": self.received,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "dead_letters": self.dead_letters,
            "parts": self.parts,
            "batches": self.batches,
            "freshness_p50_ms": pct(0.5),
            "freshness_p99_ms": pct(0.99),
            "dataset_version": self.dataset_version,
            "last_error": self.last_error,
        }


def progress_values(
    stats: IngestStats,
    *,
    source: str,
    status: str,
    rate: float,
    lag: int | None,
    last_event: datetime | None,
) -> dict[str, Any]:
    """A consumer's progress as the catalog's ``stream_consumers`` columns."""
    return {
        "source": source,
        "status": status,
        "pid": os.getpid(),
        "received": stats.received,
        "applied": stats.applied,
        "duplicates": stats.duplicates,
        "dead_letters": stats.dead_letters,
        "rate": rate,
        "lag": lag,
        "freshness_ms": stats.to_dict()["freshness_p99_ms"],
        "last_event_at": last_event,
        "last_error": stats.last_error,
        "last_error_at": stats.last_error_at,
        "parts": stats.parts,
        "dataset_version": stats.dataset_version,
    }


def progress_line(stats: IngestStats, rate: float, lag: int | None, last: datetime | None) -> str:
    """One terminal line of a consumer's progress."""
    p99 = stats.to_dict()["freshness_p99_ms"]
    return (
        f"  {stats.applied:,} applied ({rate:,.0f}/s) · lag "
        f"{'?' if lag is None else f'{lag:,}'} · last event "
        f"{last.isoformat(timespec='seconds') if last else '-'} · dead "
        f"letters {stats.dead_letters:,} · duplicates {stats.duplicates:,} · "
        f"freshness p99 {'-' if p99 is None else f'{p99:.0f} ms'}"
    )


class ProgressWrites:
    """Which progress reports go to the catalog: one that changed, or a heartbeat (an
    idle consumer writing every second kept the catalog busy for nothing)."""

    def __init__(self) -> None:
        self._last: dict[str, Any] | None = None
        self._at = float("-inf")

    def due(self, values: dict[str, Any], *, force: bool = False) -> bool:
        return force or values != self._last or time.monotonic() - self._at >= HEARTBEAT_SECONDS

    def written(self, values: dict[str, Any]) -> None:
        self._last, self._at = values, time.monotonic()

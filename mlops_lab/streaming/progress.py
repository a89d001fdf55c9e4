"""What an ingest consumer is told (its options) and what it counts (its stats)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["IngestOptions", "IngestStats", "progress_line"]


@dataclass(frozen=True, kw_only=True)
class IngestOptions:
    batch: int = 5_000
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

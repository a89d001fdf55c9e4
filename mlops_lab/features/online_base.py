"""What both online stores share: the interface and the event shape."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

import pyarrow as pa

__all__ = ["EntityEvents", "OnlineStore", "micros_of"]

# One entity's events per aggregated column: event times (microseconds) and the
# matching non-null values, in event order (lists, or tuples: see online_index.py).
EntityEvents = dict[str, tuple[Sequence[int], Sequence[Any]]]


def micros_of(stamp: datetime) -> int:
    """A timezone-aware event time as microseconds since the epoch."""
    return int(stamp.timestamp()) * 1_000_000 + stamp.microsecond


class OnlineStore(Protocol):
    url: str

    def write(
        self,
        view: str,
        version: int,
        keys: list[str],
        batches: Iterator[pa.RecordBatch],
        schema: pa.Schema,
    ) -> int: ...

    def read(
        self,
        view: str,
        version: int,
        key_values: Sequence[tuple[Any, ...]],
        features: Sequence[str],
    ) -> list[dict[str, Any] | None]: ...

    def write_events(
        self,
        view: str,
        version: int,
        keys: list[str],
        batches: Iterator[pa.RecordBatch],
        schema: pa.Schema,
        horizon: datetime,
    ) -> int: ...

    def prune_events(self, view: str, version: int, keys: list[str], horizon: datetime) -> int: ...

    def read_events(
        self,
        view: str,
        version: int,
        keys: list[str],
        key_values: Sequence[tuple[Any, ...]],
        columns: Sequence[str],
        since: int,
        until: int,
    ) -> tuple[int | None, list[EntityEvents | None]]: ...

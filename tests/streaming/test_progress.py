"""A consumer's progress in the catalog: one row per consumer, written when it changed
or as a heartbeat (mlops_lab/streaming/progress.py, mlops_lab/features/streams.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mlops_lab.features.streams import record_progress
from mlops_lab.streaming import progress
from mlops_lab.streaming.progress import HEARTBEAT_SECONDS, ProgressWrites
from mlops_lab.workspace import Workspace


def _rows(ws: Workspace) -> list[tuple[object, ...]]:
    return ws.catalog.read(
        "SELECT view, consumer, started_at, status, applied, lag, last_error "
        "FROM stream_consumers ORDER BY view, consumer"
    )


def test_progress_is_one_row_per_consumer_that_keeps_its_start(workspace: Workspace) -> None:
    first = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    record_progress(workspace, "spend", "a", first, source="s", status="running", applied=1)
    record_progress(workspace, "spend", "b", first, source="s", status="running", lag=4)
    record_progress(
        workspace,
        "spend",
        "a",
        first + timedelta(hours=1),  # a later report of the same consumer: start kept
        source="s",
        status="stopped",
        applied=7,
        last_error="boom",
    )
    record_progress(workspace, "other", "a", first, source="s", status="waiting")
    assert _rows(workspace) == [
        ("other", "a", first, "waiting", 0, None, None),
        ("spend", "a", first, "stopped", 7, None, "boom"),
        ("spend", "b", first, "running", 0, 4, None),
    ]


def test_only_changes_and_heartbeats_are_written(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    writes = ProgressWrites()
    values = {"applied": 5, "rate": 2.0, "status": "running"}
    assert writes.due(values)  # the first report
    writes.written(dict(values))
    clock[0] += 1
    assert not writes.due(dict(values))  # nothing moved
    assert writes.due(dict(values), force=True)  # stopping, an error: always
    assert writes.due({**values, "applied": 6})
    assert writes.due({**values, "status": "waiting"})
    clock[0] += HEARTBEAT_SECONDS
    assert writes.due(dict(values))  # alive, though idle

"""The ledger keeps each part's first and last event time, and a reader of old events only
skips the parts whose first event is later (parts from before it kept times are read)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa

from mlops_lab.features.stream_log import StreamLog
from mlops_lab.features.stream_parts import moment_text, parts_of

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _part(start: int, times: list[datetime], tz: str | None = "UTC") -> pa.Table:
    stamps = [t if tz else t.astimezone(UTC).replace(tzinfo=None) for t in times]
    return pa.table(
        {
            "at": pa.array(stamps, pa.timestamp("us", tz=tz)),
            "__seq": [2**62 + start + i for i in range(len(times))],
        }
    )


def test_moment_text_orders_as_time_and_reads_zones() -> None:
    moments = [
        datetime(1, 1, 2, tzinfo=UTC),
        datetime(999, 5, 6, 7, 8, 9, 10, tzinfo=UTC),
        T0,
        T0 + timedelta(microseconds=1),
        datetime(2026, 12, 1, 14, 0, 0, 2, tzinfo=timezone(timedelta(hours=2))),  # 12:00 UTC
    ]
    assert moment_text(moments[1]) == "0999-05-06 07:08:09.000010"
    assert moment_text(moments[4]) == "2026-12-01 12:00:00.000002"
    assert moment_text(T0.replace(tzinfo=None)) == moment_text(T0)  # no zone: UTC
    ordered = sorted(moments)
    assert sorted(moment_text(m) for m in moments) == [moment_text(m) for m in ordered]


def test_parts_whose_first_event_is_later_are_skipped(tmp_path: Path) -> None:
    log = StreamLog(tmp_path / "view")
    log.append(_part(0, [T0 + timedelta(hours=2), T0 + timedelta(hours=1)]), timestamp="at")
    log.append(_part(10, [T0 + timedelta(hours=5)], tz=None), timestamp="at")  # no zone: UTC
    log.append(_part(20, [T0 + timedelta(hours=9)]))  # no time given: always read
    log.close()
    with sqlite3.connect(log.path) as con:
        spans = con.execute("SELECT first_event, last_event FROM parts ORDER BY n").fetchall()
    assert spans == [
        ("2026-12-01 13:00:00.000000", "2026-12-01 14:00:00.000000"),
        ("2026-12-01 17:00:00.000000", "2026-12-01 17:00:00.000000"),
        (None, None),
    ]
    names = [p.name for p in parts_of(tmp_path / "view")]
    assert len(names) == 3

    def read(before: datetime) -> list[int]:
        found = parts_of(tmp_path / "view", first_at_or_before=before)
        return [names.index(p.name) for p in found]

    assert read(T0) == [2]
    assert read(T0 + timedelta(hours=1)) == [0, 2]  # its first event, exactly
    assert read(T0 + timedelta(hours=4, minutes=59)) == [0, 2]
    assert read(T0 + timedelta(hours=5)) == [0, 1, 2]

"""Event checks: the columnar path (whole batches) agrees with the per-event one, ids hash
the same in Python and DuckDB, the id index finds what it holds, and the ledger's kept
connections survive threads, a fork and a close."""

from __future__ import annotations

import json
import os
import random
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from mlops_lab.features.stream_events import EventSchema, event_seq, event_seqs
from mlops_lab.features.stream_log import SeqIndex, StreamLog

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
SOURCE = pa.schema(
    [
        ("tx_id", pa.string()),
        ("customer_id", pa.string()),
        ("event_at", pa.timestamp("us", tz="UTC")),
        ("amount", pa.float64()),
        ("items", pa.int64()),
        ("day", pa.date32()),
        ("flag", pa.bool_()),
    ]
)


def _schema(id_column: str | None = "tx_id", source: pa.Schema = SOURCE) -> EventSchema:
    return EventSchema(
        view="spend",
        source=source,
        required=["customer_id", "event_at", "amount"],
        timestamp="event_at",
        id_column=id_column,
        max_future_seconds=300,
    )


def _event(i: int, **changes: object) -> dict[str, object]:
    event = {
        "tx_id": f"t{i}",
        "customer_id": f"c{i % 7}",
        "event_at": (NOW - timedelta(minutes=i)).isoformat(),
        "amount": float(i),
        "items": i % 3,
        "day": "2026-12-01",
        "flag": i % 2 == 0,
        "ignored": [1, 2],
    }
    event.update(changes)
    return event


def test_event_ids_hash_the_same_in_python_and_duckdb() -> None:
    rng = random.Random(3)
    ids = [f"id-{rng.getrandbits(64)}" for _ in range(2000)] + ["", "é", "x" * 500]
    got = event_seqs(pa.array(ids)).to_pylist()
    assert got == [event_seq(i) for i in ids]
    base = 1 << 62
    con = duckdb.connect()
    con.register("ids", pa.table({"n": range(len(ids)), "id": ids}))
    in_duckdb = con.sql(
        f"SELECT (md5_number_lower(id) % {base} + {base})::BIGINT FROM ids ORDER BY n"
    ).fetchall()
    assert got == [row[0] for row in in_duckdb]
    assert all(2**62 <= s < 2**63 for s in got)


def test_a_clean_batch_is_read_whole_and_equals_the_per_event_path() -> None:
    schema = _schema()
    payloads = [json.dumps(_event(i)).encode() for i in range(50)]
    payloads.append(payloads[3])  # a repeat
    payloads.append(json.dumps(_event(60, event_at="2026-12-01T13:00:00+02:00")).encode())
    columnar = schema._parse_columnar(payloads, now=NOW)
    rows = schema._parse_rows(payloads, now=NOW)
    assert columnar is not None
    assert columnar.table.equals(rows.table)
    assert (columnar.repeated, columnar.refused) == (1, []) == (rows.repeated, rows.refused)
    stamp = columnar.table.column("event_at")[-1].as_py()
    assert stamp == datetime(2026, 12, 1, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event", "reason", "whole_batch_falls_back"),
    [
        (_event(1, customer_id=None), "missing field 'customer_id'", False),
        (_event(1, event_at="2026-12-01T10:00:00"), "has no zone", True),
        (_event(1, event_at=(NOW + timedelta(hours=1)).isoformat()), "in the future", False),
        (_event(1, amount="3"), "expected a number, got str", True),
        (_event(1, items=1.5), "expected an integer, got float", True),
        (_event(1, flag="yes"), "expected true or false", True),
        (_event(1, day="tomorrow"), "expected a date", True),
    ],
)
def test_a_bad_event_is_refused_with_its_reason_on_either_path(
    event: dict[str, object], reason: str, whole_batch_falls_back: bool
) -> None:
    schema = _schema()
    payloads = [json.dumps(_event(i + 10)).encode() for i in range(5)]
    payloads.insert(2, json.dumps(event).encode())
    parsed = schema.parse(payloads, now=NOW)
    assert [(i, reason in r) for i, r in parsed.refused] == [(2, True)]
    assert parsed.table.num_rows == 5
    assert (schema._parse_columnar(payloads, now=NOW) is None) is whole_batch_falls_back


def test_malformed_payloads_and_pretty_printed_json() -> None:
    schema = _schema()
    pretty = json.dumps(_event(1), indent=2).encode()  # line breaks between tokens
    payloads = [pretty, b"{oops", b"", b'"text"', json.dumps(_event(2)).encode()]
    parsed = schema.parse(payloads, now=NOW)
    assert parsed.table.column("tx_id").to_pylist() == ["t1", "t2"]
    assert [i for i, _ in parsed.refused] == [1, 2, 3]
    assert "malformed JSON" in parsed.refused[0][1]
    assert "expected a JSON object, got str" in parsed.refused[2][1]
    assert schema._parse_columnar([pretty, json.dumps(_event(2)).encode()], now=NOW) is not None


def test_without_an_id_column_the_id_is_the_hash_of_the_canonical_json() -> None:
    schema = _schema(id_column=None)
    a = {"customer_id": "c1", "event_at": NOW.isoformat(), "amount": 1.0}
    b = {"amount": 1.0, "event_at": NOW.isoformat(), "customer_id": "c1"}  # same, reordered
    parsed = schema.parse([json.dumps(a).encode(), json.dumps(b).encode()], now=NOW)
    assert parsed.table.num_rows == 1 and parsed.repeated == 1


def test_a_naive_source_timestamp_column_keeps_utc_wall_times() -> None:
    naive = pa.schema(
        [f if f.name != "event_at" else pa.field("event_at", pa.timestamp("us")) for f in SOURCE]
    )
    schema = _schema(source=naive)
    payloads = [json.dumps(_event(1, event_at="2026-12-01T12:00:00+01:00")).encode()]
    for parsed in (
        schema._parse_columnar(payloads, now=NOW),
        schema._parse_rows(payloads, now=NOW),
    ):
        assert parsed is not None
        assert parsed.table.column("event_at").to_pylist() == [datetime(2026, 12, 1, 11)]


def test_the_id_index_holds_what_was_added() -> None:
    rng = np.random.default_rng(5)
    index = SeqIndex()
    added = []
    for size in [1000, 10, 500, 3000, 1, 2000]:
        batch = rng.integers(2**62, 2**63 - 1, size, dtype=np.int64)
        index.add(batch)
        added.append(batch)
    everything = np.concatenate(added)
    assert len(index) == len(everything) and len(index.levels) <= 4
    assert index.contains(everything).all()
    others = rng.integers(2**62, 2**63 - 1, 5000, dtype=np.int64)
    assert not index.contains(np.setdiff1d(others, everything)).any()


def _part(start: int, count: int) -> pa.Table:
    return pa.table(
        {
            "x": list(range(start, start + count)),
            "__seq": [2**62 + i for i in range(start, start + count)],
        }
    )


def test_the_ledger_keeps_a_connection_per_thread_and_a_forked_child_opens_its_own(
    tmp_path: Path,
) -> None:
    log = StreamLog(tmp_path / "view")
    assert log.append(_part(0, 10)).new == 10
    with ThreadPoolExecutor(2) as pool:  # two threads at once: one writes at a time
        done = list(pool.map(lambda s: log.append(_part(s, 10)), [10, 20, 20]))
    assert sorted(d.new for d in done) == [0, 10, 10]
    assert log.counts()["events"] == 30

    pid = os.fork()
    if pid == 0:  # the child: its own connection, the parent's left untouched
        code = 0
        try:
            child = log.append(_part(25, 10))  # 25-29 held already (by the parent)
            log.close()  # its own connection only
            code = 0 if (child.new, child.repeated) == (5, 5) else 3
        except BaseException:
            code = 4
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert log.append(_part(35, 5)).new == 5  # the parent's connection still answers
    log.close()
    assert log.append(_part(0, 45)).new == 5  # reopened; the child's events are known
    assert log.counts() == {"events": 45, "parts": 6, "unflushed_parts": 6}
    with sqlite3.connect(log.path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    log.close()


@pytest.mark.parametrize("parts", [3, 20])  # one file at a time, and all at once
def test_a_new_writer_knows_every_id_in_the_parts(tmp_path: Path, parts: int) -> None:
    first = StreamLog(tmp_path / "view")
    for i in range(parts):
        assert first.append(_part(i * 10, 10)).new == 10
    first.close()
    second = StreamLog(tmp_path / "view")
    again = second.append(_part(5, parts * 10))  # all held but the last 5
    assert (again.new, again.repeated) == (5, parts * 10 - 5)
    assert len(second._index) == parts * 10 + 5
    second.close()

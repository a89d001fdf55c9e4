"""Event checks: the columnar path (whole batches) agrees with the per-event one, ids hash
the same in Python and DuckDB, and the id index finds what it holds."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from mlops_lab.features.stream_events import EventSchema, event_seq, event_seqs
from mlops_lab.features.stream_log import SeqIndex

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

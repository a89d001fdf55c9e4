"""A batch's online events computed with Arrow (views without a transform) equal what the
DuckDB projection makes, column for column; Arrow declines what it cannot write alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pytest

from mlops_lab.datasets import save_dataset
from mlops_lab.features.stream_apply import StreamWriter
from mlops_lab.features.stream_online_rows import arrow_events
from mlops_lab.workspace import Workspace

NOW = datetime.now(UTC).replace(microsecond=0)


def _writer(workspace: Workspace, *, two_keys: bool, naive: bool, created: bool) -> StreamWriter:
    stamps = [NOW - timedelta(days=3, seconds=i) for i in range(4)]
    history = pd.DataFrame(
        {
            "tx_id": [f"h{i}" for i in range(4)],
            "customer_id": [f"c{i}" for i in range(4)],
            "shop": [7, 8, 9, -10],
            "event_at": [s.replace(tzinfo=None) for s in stamps] if naive else stamps,
            "booked_at": stamps,
            "amount": [1.5, 2.0, 3.25, 4.0],
            "items": [1, 2, 3, 4],
        }
    )
    save_dataset(workspace, "tx", history)
    keys = ["customer_id", "shop"] if two_keys else ["customer_id"]
    workspace.features.register_entity("buyer", keys)
    options = {"created_timestamp": "booked_at"} if created else {}
    workspace.features.register_feature_view(
        "spend",
        entity="buyer",
        source="tx",
        timestamp="event_at",
        aggregations=[
            {"column": "amount", "functions": ["sum", "max"], "windows": ["1d"]},
            {"column": "items", "functions": ["count"], "windows": ["1d"]},
        ],
        **options,
    )
    return StreamWriter(workspace, "spend", id_column="tx_id")


def _events(n: int, customer: str = "c{}") -> list[bytes]:
    out = []
    for i in range(n):
        at = NOW - timedelta(hours=i % 30, microseconds=i)
        event = {
            "tx_id": f"e{i}",
            "customer_id": customer.format(i % 5),
            "shop": i % 3 - 1,
            "event_at": at.isoformat() if i % 2 else at.replace(tzinfo=None).isoformat() + "Z",
            "booked_at": (at + timedelta(seconds=5)).isoformat(),
            "amount": i * 0.5,
            "items": i,
        }
        out.append(json.dumps(event).encode())
    return out


def _duckdb(writer: StreamWriter, table: pa.Table) -> pa.Table:
    """The DuckDB path (ordered by key, time and __seq), as the Redis online store gets it."""
    return writer._online_events(table, ordered=True)


def _sorted(table: pa.Table, keys: list[str]) -> pa.Table:
    return table.sort_by([(k, "ascending") for k in [*keys, "event_timestamp", "__seq"]])


@pytest.mark.parametrize(
    ("two_keys", "naive", "created"),
    [(False, False, False), (True, True, False), (True, False, True)],
)
def test_arrow_and_duckdb_make_the_same_online_events(
    workspace: Workspace, two_keys: bool, naive: bool, created: bool
) -> None:
    writer = _writer(workspace, two_keys=two_keys, naive=naive, created=created)
    try:
        table = writer.parse(_events(60)).table
        writer.horizon = NOW - timedelta(hours=12)  # about half the events are older
        expected = _duckdb(writer, table)
        assert 0 < expected.num_rows < table.num_rows
        got = writer._online_events(table, ordered=False)
        definition = writer.view.definition
        direct = arrow_events(
            table,
            keys=writer.keys,
            aggregated=["amount", "items"],
            timestamp="event_at",
            created=definition.created_timestamp,
            after=writer.horizon,
        )
        assert direct is not None and direct.equals(got)  # the writer took the Arrow path
        assert got.schema.equals(expected.schema), (got.schema, expected.schema)
        assert _sorted(got, writer.keys).equals(expected)
    finally:
        writer.close()


@pytest.mark.parametrize("customer", ['c"{}', "c\\{}", "é{}", "c\n{}"])
def test_key_text_json_would_escape_is_left_to_duckdb_and_agrees(
    workspace: Workspace, customer: str
) -> None:
    writer = _writer(workspace, two_keys=False, naive=False, created=False)
    try:
        table = writer.parse(_events(20, customer)).table
        assert table.num_rows == 20
        assert (
            arrow_events(
                table,
                keys=writer.keys,
                aggregated=["amount", "items"],
                timestamp="event_at",
                created=None,
                after=writer.horizon,
            )
            is None
        )
        got = writer._online_events(table, ordered=False)
        assert _sorted(got, writer.keys).equals(_duckdb(writer, table))
        assert json.loads(got.column("__key")[0].as_py())[0].startswith(customer[:-2])
    finally:
        writer.close()

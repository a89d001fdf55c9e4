"""A reader's columnar index of a window view's events (online_index.py): whatever the
batches, their order, ties on event time, nulls and merges of runs, a lookup gives each
entity's events in (time, seq) order, nulls dropped per column, within the times asked."""

from __future__ import annotations

import itertools
import json
import math
import random
from typing import Any

import pyarrow as pa

from mlops_lab.features.online_index import EventRuns

HELD = ["amount", "label", "clicks"]


def _tail_batch(rng: random.Random, seq0: int, size: int) -> pa.Table:
    keys = [
        json.dumps([f"c{rng.randrange(8)}", rng.randrange(2)], separators=(",", ":"))
        for _ in range(size)
    ]
    table = {
        "k": keys,
        "us": [rng.randrange(1_000) * 1_000 for _ in range(size)],  # many ties
        "seq": list(range(seq0, seq0 + size)),
        "amount": [None if rng.random() < 0.2 else rng.random() for _ in range(size)],
        "label": [rng.choice([None, "a", "b"]) for _ in range(size)],
    }
    if rng.random() < 0.7:  # a column a batch lacks reads as null
        table["clicks"] = pa.array(
            [None if rng.random() < 0.3 else rng.randrange(5) for _ in range(size)], pa.int64()
        )
    return pa.table(table)


def _rows_batch(rng: random.Random, seq0: int, size: int) -> pa.Table:
    """Rows as the events table of online.duckdb gives them (key columns, __us, __seq)."""
    return pa.table(
        {
            "customer": [f"c{rng.randrange(8)}" for _ in range(size)],
            "shard": pa.array([rng.randrange(2) for _ in range(size)], pa.int64()),
            "__us": [rng.randrange(1_000) * 1_000 for _ in range(size)],
            "__seq": list(range(seq0, seq0 + size)),
            "amount": [None if rng.random() < 0.2 else rng.random() for _ in range(size)],
            "label": [rng.choice([None, "a", "b"]) for _ in range(size)],
            "clicks": pa.array(
                [None if rng.random() < 0.3 else rng.randrange(5) for _ in range(size)],
                pa.int64(),
            ),
        }
    )


def _expected(rows: list[tuple[int, int, dict[str, Any]]], since: int, until: int) -> dict:
    ordered = sorted((us, seq, values) for us, seq, values in rows if since <= us <= until)
    return {
        column: (
            [us for us, _, values in ordered if values.get(column) is not None],
            [values[column] for _, _, values in ordered if values.get(column) is not None],
        )
        for column in HELD
    }


def test_lookups_equal_each_entitys_events_in_time_then_seq_order_batch_after_batch() -> None:
    rng = random.Random(7)
    runs = EventRuns(HELD)
    seen: dict[tuple[Any, ...], list[tuple[int, int, dict[str, Any]]]] = {}
    all_keys = [(f"c{i}", s) for i in range(8) for s in range(2)] + [("nobody", 0)]
    for n in range(60):
        size = rng.choice([1, 3, 40, 200])
        if n % 3 == 0:
            batch = _rows_batch(rng, n * 1000, size)
            runs.add_rows(batch, ["customer", "shard"])
            for row in batch.to_pylist():
                key = (row["customer"], row["shard"])
                seen.setdefault(key, []).append((row["__us"], row["__seq"], row))
        else:
            batch = _tail_batch(rng, n * 1000, size)
            runs.add_tail(batch)
            for row in batch.to_pylist():
                key = tuple(json.loads(row["k"]))
                seen.setdefault(key, []).append((row["us"], row["seq"], row))
        since, until = sorted(rng.randrange(1_000_000) for _ in range(2))
        for bounds in [(None, None), (since, until)]:
            got = runs.read(all_keys, *bounds)
            for key, events in zip(all_keys, got, strict=True):
                if key not in seen:
                    assert events is None
                    continue
                lo = -math.inf if bounds[0] is None else bounds[0]
                hi = math.inf if bounds[1] is None else bounds[1]
                assert events == _expected(seen[key], lo, hi), (n, key, bounds)  # type: ignore[arg-type]
        # merged like an LSM tree: a handful of runs, each less than half the one before
        for run in runs.runs:  # each run in (entity, time, seq) order
            order = [(e, u, q) for e, u, q in zip(run.entity, run.us, run.seq, strict=True)]
            assert order == sorted(order)
        sizes = [len(r) for r in runs.runs]
        assert all(a > 2 * b for a, b in itertools.pairwise(sizes)), sizes
    assert len(runs) == sum(len(v) for v in seen.values())
    assert len(runs.runs) < 10


def test_values_keep_their_python_types_and_an_all_null_batch_takes_the_others_type() -> None:
    runs = EventRuns(["clicks", "flag"])
    runs.add_tail(pa.table({"k": ['["a"]'], "us": [1], "seq": [10], "clicks": [None]}))
    runs.add_tail(
        pa.table(
            {
                "k": ['["a"]', '["a"]'],
                "us": [2, 3],
                "seq": [11, 12],
                "clicks": pa.array([7, None], pa.int64()),
                "flag": [True, False],
            }
        )
    )
    (events,) = runs.read([("a",)])
    assert events == {"clicks": ([2], [7]), "flag": ([2, 3], [True, False])}
    assert type(events["clicks"][1][0]) is int
    assert type(events["flag"][1][0]) is bool
    assert runs.runs[0].values["clicks"].dtype.kind == "i"  # not floats, not objects


def test_a_batch_holding_other_types_than_before_keeps_each_value_as_it_was() -> None:
    runs = EventRuns(["v"])
    runs.add_tail(pa.table({"k": ['["a"]'], "us": [1], "seq": [1], "v": pa.array([3], pa.int64())}))
    runs.add_tail(pa.table({"k": ['["a"]'], "us": [2], "seq": [2], "v": [2.5]}))
    (events,) = runs.read([("a",)])
    assert events == {"v": ([1, 2], [3, 2.5])}
    assert [type(v) for v in events["v"][1]] == [int, float]

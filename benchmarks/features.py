"""Feature store costs against hand-written DuckDB SQL on the same data, in one run.

Run: .venv/bin/python benchmarks/features.py [--events 2000000 --customers 50000
     --entity-rows 200000] [--redis redis://127.0.0.1:6379/0]

Data (fixed seed): transaction events of customers over 90 days, and entity
rows (customer, timestamp) to build a training frame for. Rows:
Timed sides run alternately, --repeats times each, and the medians are shown.
- 7d/30d avg/max/min/sum/count of amount per customer as of every event:
  mlops-lab's view computation vs a hand-written range join (the fast way;
  a RANGE window frame is several times slower), with checksums;
- the point-in-time training frame vs a hand-written ASOF JOIN, checksums;
- the whole registration (table + statistics + Parquet artifact), no baseline;
- online lookups: p50/p99 of one entity and one 1000-entity batch, embedded
  store (and Redis when --redis is given).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from _table import print_table

from mlops_lab import init_workspace
from mlops_lab.datasets import save_dataset
from mlops_lab.features.compute import build_feature_table, memory_connection
from mlops_lab.features.definitions import Aggregation, Entity, FeatureViewDefinition
from mlops_lab.features.online import RedisOnlineStore
from mlops_lab.features.serving import OnlineFeatureReader, materialize

FUNCTIONS = ("avg", "max", "min", "sum", "count")
WINDOWS = ((7, "7d"), (30, "30d"))


def _data(events: int, customers: int, entity_rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(42)
    start = pd.Timestamp("2026-01-01", tz="UTC")
    seconds = rng.integers(0, 90 * 86400, events)
    tx = pd.DataFrame({
        "customer_id": rng.integers(0, customers, events).astype("int64"),
        "event_at": start + pd.to_timedelta(seconds, unit="s"),
        "amount": np.round(rng.gamma(2.0, 20.0, events), 2),
    })  # fmt: skip
    entity = pd.DataFrame({
        # some customers have only later events: their rows must be kept, with nulls
        "customer_id": rng.integers(0, customers + customers // 20, entity_rows).astype("int64"),
        "event_timestamp": start + pd.to_timedelta(rng.integers(0, 95 * 86400, entity_rows),
                                                   unit="s"),
    })  # fmt: skip
    return tx, entity


def _baseline_windows(con: duckdb.DuckDBPyConnection, path: str) -> None:
    aggs = ", ".join(
        f"{f}(b.amount) FILTER (WHERE b.ts > a.ts - INTERVAL {d} DAY) AS amount_{f}_{label}"
        for d, label in WINDOWS for f in FUNCTIONS
    )  # fmt: skip
    con.execute(f"CREATE OR REPLACE TEMP TABLE ev AS SELECT customer_id, event_at AS ts, amount "
                f"FROM read_parquet('{path}')")  # fmt: skip
    con.execute(
        "CREATE OR REPLACE TEMP TABLE baseline AS SELECT a.customer_id, a.ts AS event_timestamp, "
        f"{aggs} FROM (SELECT DISTINCT customer_id, ts FROM ev) a JOIN ev b "
        "ON a.customer_id = b.customer_id AND b.ts <= a.ts AND b.ts > a.ts - INTERVAL 30 DAY "
        "GROUP BY a.customer_id, a.ts"
    )


def _checksum(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> str:
    parts = ", ".join(f"round(sum(coalesce({c}, 0))::DOUBLE, 3)" for c in columns)
    row = con.execute(f"SELECT count(*), {parts} FROM {table}").fetchall()[0]
    return f"{row[0]}:" + ":".join(f"{v:.6g}" for v in row[1:])


def _timed(work) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _alternate(ours, base, repeats: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median times of each side, run alternately so neither gets only warm caches."""
    mine, theirs = [], []
    for _ in range(repeats):
        mine.append(_timed(ours))
        theirs.append(_timed(base))
    return statistics.median(mine), statistics.median(theirs)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(len(ordered) * 0.99) - 1] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--entity-rows", type=int, default=200_000)
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs per side (median kept)")
    parser.add_argument("--redis", help="also measure a Redis online store at this URL")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="mlops-lab-features-bench-"))
    rows: list[tuple[str, str, str, str, str]] = []
    try:
        tx, entity_df = _data(args.events, args.customers, args.entity_rows)
        ws = init_workspace(root / "ws")
        source = save_dataset(ws, "tx", tx)
        path = str(ws.artifacts.local_path(source.artifact_hash))
        entity = Entity(name="customer", join_keys=("customer_id",))
        definition = FeatureViewDefinition(
            name="spend", entity="customer", source="tx", timestamp="event_at",
            aggregations=(Aggregation(column="amount", functions=FUNCTIONS,
                                      windows=tuple(w for _, w in WINDOWS)),),
        )  # fmt: skip
        names = [f"amount_{f}_{label}" for _, label in WINDOWS for f in FUNCTIONS]

        con = memory_connection()
        ours, base = _alternate(
            lambda: build_feature_table(
                con, source_path=Path(path), definition=definition, entity=entity
            ),
            lambda: _baseline_windows(con, path),
            args.repeats,
        )
        same = _checksum(con, "feature_table", names) == _checksum(con, "baseline", names)
        rows.append(
            (
                "7d/30d window features",
                f"{ours:.2f} s",
                f"{base:.2f} s",
                f"{ours / base:.2f}x",
                f"range join by hand; checksums equal: {same}",
            )
        )
        con.close()

        ws.features.register_entity("customer", ["customer_id"])
        took = _timed(lambda: ws.features.register_feature_view(
            "spend", entity="customer", source="tx", timestamp="event_at",
            aggregations=[{"column": "amount", "functions": FUNCTIONS,
                           "windows": [w for _, w in WINDOWS]}],
        ))  # fmt: skip
        rows.append(("register view (table + stats + artifact)", f"{took:.2f} s", "-", "-", "-"))

        view = ws.features.get_feature_view("spend")
        refs = [f"spend:{n}" for n in names]
        frame_holder: list[pd.DataFrame] = []
        table = str(ws.artifacts.local_path(view.table_artifact))
        con = memory_connection()
        con.register("entity_df", entity_df)

        baseline_holder: list[pd.DataFrame] = []

        def asof() -> None:  # the same result: a DataFrame with every entity row, in order
            baseline_holder.append(
                con.sql(
                    "SELECT e.*, "
                    f"{', '.join('f.' + n for n in names)} FROM entity_df e "
                    f"ASOF LEFT JOIN read_parquet('{table}') f ON e.customer_id = f.customer_id "
                    "AND e.event_timestamp >= f.event_timestamp"
                ).df()
            )

        ours, base = _alternate(
            lambda: frame_holder.append(ws.features.get_training_frame(entity_df, refs)),
            asof,
            args.repeats,
        )
        con.register("pit", baseline_holder[-1])
        con.register("ours", frame_holder[-1])
        same = _checksum(con, "ours", names) == _checksum(con, "pit", names)
        kept = len(frame_holder[-1]) == len(entity_df)
        rows.append(
            (
                "training frame (point in time)",
                f"{ours:.2f} s",
                f"{base:.2f} s",
                f"{ours / base:.2f}x",
                f"ASOF JOIN by hand; checksums equal: {same}; all rows kept: {kept}",
            )
        )
        con.close()

        took = _timed(lambda: materialize(ws, "spend"))
        rows.append(("materialize (embedded)", f"{took:.2f} s", "-", "-", "-"))
        stores: list[tuple[str, object]] = [("embedded", None)]
        if args.redis:
            redis_store = RedisOnlineStore(args.redis)
            took = _timed(lambda: materialize(ws, "spend", store=redis_store))
            rows.append(("materialize (redis)", f"{took:.2f} s", "-", "-", "-"))
            stores.append(("redis", redis_store))
        rng = np.random.default_rng(1)
        for label, store in stores:
            reader = OnlineFeatureReader(ws, refs, store=store)  # type: ignore[arg-type]
            reader.get({"customer_id": 1})  # load the index
            single = []
            for key in rng.integers(0, args.customers, args.lookups):
                start = time.perf_counter()
                reader.get({"customer_id": int(key)})
                single.append(time.perf_counter() - start)
            batch = []
            for _ in range(50):
                keys = [{"customer_id": int(k)} for k in rng.integers(0, args.customers, 1000)]
                start = time.perf_counter()
                reader.get_many(keys)
                batch.append(time.perf_counter() - start)
            p50, p99 = _percentiles(single)
            b50, b99 = _percentiles(batch)
            rows.append((f"online lookup, 1 entity ({label})", f"p50 {p50:.3f} ms",
                         f"p99 {p99:.3f} ms", "-", f"{args.lookups} lookups"))  # fmt: skip
            rows.append((f"online lookup, 1000 entities ({label})", f"p50 {b50:.2f} ms",
                         f"p99 {b99:.2f} ms", "-", "50 batches"))  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print_table(("measure", "mlops-lab", "baseline", "ratio", "notes"), rows)


if __name__ == "__main__":
    main()

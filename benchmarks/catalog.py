"""Catalog and artifact store costs against hand-written baselines.

Run: .venv/bin/python benchmarks/catalog.py [--calls N] [--writers 8] [--rows N]

Prints two tables.

1. Everyday calls, one per call the way a notebook makes them, p50 and p90:
   registering one model version (metadata: its blob is stored beforehand),
   moving an alias, the catalog part of saving a dataset; next to a
   hand-written SQLite registry doing the same rows one call and one commit
   each (default journal and fsync settings, as a registry on SQLite runs),
   then the same with 8 writer processes at once (writes per second).
2. Bulk and artifact costs next to hand-written DuckDB / file baselines.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
from _sqlite_registry import SqliteRegistry
from _table import print_table

from mlops_lab import init_workspace, open_workspace
from mlops_lab.artifacts import dataframe_to_parquet
from mlops_lab.catalog import lease as leases
from mlops_lab.datasets import describe_columns, record_dataset_version
from mlops_lab.models.aliases import promote
from mlops_lab.models.registry import VersionSpec, register_versions


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="everyday calls per case")
    parser.add_argument("--writers", type=int, default=8, help="writer processes at once")
    parser.add_argument("--per-writer", type=int, default=50, help="iterations per writer")
    parser.add_argument("--rows", type=int, default=300, help="catalog writes per case")
    parser.add_argument("--blobs", type=int, default=300, help="small artifacts per case")
    parser.add_argument("--big-mib", type=int, default=64, help="size of the large file")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="mlops-lab-bench-"))
    try:
        everyday = _everyday(root / "everyday", args.calls)
        concurrent = _concurrent(root / "concurrent", args.writers, args.per_writer)
        rows = _run(root, args.rows, args.blobs, args.big_mib)
    finally:
        shutil.rmtree(root)
    print_table(
        (
            "everyday call (one per call)",
            "n",
            "mlops-lab p50",
            "p90",
            "SQLite p50",
            "p90",
            "p50 ratio",
        ),
        [
            (
                name,
                str(len(ours)),
                _ms(_pct(ours, 50)),
                _ms(_pct(ours, 90)),
                _ms(_pct(base, 50)),
                _ms(_pct(base, 90)),
                f"{_pct(ours, 50) / _pct(base, 50):.2f}x",
            )
            for name, ours, base in everyday
        ],
    )
    print()
    print_table(
        ("writers at once", "writes", "mlops-lab", "SQLite", "ratio"),
        [
            (
                f"{args.writers} processes: register + alias + dataset",
                str(n),
                f"{n / ours:.0f} writes/s",
                f"{n / base:.0f} writes/s",
                f"{base / ours:.2f}x",
            )
            for n, ours, base in concurrent
        ],
    )
    print()
    print_table(
        ("operation", "n", "mlops-lab", "baseline", "ratio", "baseline is"),
        [
            (
                name,
                str(n),
                f"{ours / n * 1e3:.3f} ms",
                f"{base / n * 1e3:.3f} ms",
                f"{ours / base:.2f}x",
                what,
            )
            for name, n, ours, base, what in rows
        ],
    )


def _pct(values: list[float], q: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, len(ordered) * q // 100)]


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def _each(calls: int, work: Callable[[int], object]) -> list[float]:
    times = []
    for index in range(calls):
        start = time.perf_counter()
        work(index)
        times.append(time.perf_counter() - start)
    return times


def _everyday(root: Path, calls: int) -> list[tuple[str, list[float], list[float]]]:
    """One model version, one alias move, one dataset save's catalog part per call."""
    root.mkdir(parents=True)
    ws = init_workspace(root / "ws")
    model_blob, model_size = ws.artifacts.write_blob([b"model bytes"])
    frame = pd.DataFrame({"x": [1, 2, 3]})
    data_blobs = [
        ws.artifacts.write_blob([dataframe_to_parquet(frame.assign(i=i))]) for i in range(calls)
    ]
    columns = describe_columns(frame)
    spec = VersionSpec(
        name="churn",
        flavor="skops",
        artifact_hash=model_blob,
        size=model_size,
        trusted=False,
        signature=None,
    )
    register_versions(ws, [spec])  # the first call of a process opens the catalog (~20 ms)
    ours_register = _each(calls, lambda i: register_versions(ws, [spec]))
    ours_alias = _each(
        calls, lambda i: promote(ws, "churn", 1 + i % calls, alias="champion", reason="benchmark")
    )
    ours_dataset = _each(
        calls,
        lambda i: record_dataset_version(
            ws, "customers", data_blobs[i][0], size=data_blobs[i][1], row_count=3, columns=columns
        ),
    )
    leases.release_all()

    registry = SqliteRegistry(root / "registry.sqlite")
    registry.create_version("churn", model_blob)
    base_register = _each(calls, lambda i: registry.create_version("churn", model_blob))
    base_alias = _each(
        calls, lambda i: registry.set_alias("churn", "champion", 1 + i % calls, "benchmark")
    )
    base_dataset = _each(
        calls, lambda i: registry.save_dataset("customers", data_blobs[i][0], 3, columns)
    )
    registry.close()
    return [
        ("register a model version", ours_register, base_register),
        ("move an alias", ours_alias, base_alias),
        ("save a dataset (catalog part)", ours_dataset, base_dataset),
    ]


def _concurrent(root: Path, writers: int, each: int) -> list[tuple[int, float, float]]:
    """Writes per second with ``writers`` processes registering, aliasing and saving at once."""
    root.mkdir(parents=True)
    ws = init_workspace(root / "ws")
    blob, size = ws.artifacts.write_blob([b"model bytes"])
    leases.release_all()
    ctx = multiprocessing.get_context("spawn")
    timings = []
    for target, location in (
        (_ours_writer, str(ws.root)),
        (_sqlite_writer, str(root / "registry.sqlite")),
    ):
        SqliteRegistry(root / "registry.sqlite").close()  # the schema, before the race
        with ctx.Pool(writers) as pool:
            start_at = time.time() + 2
            spent = pool.starmap(
                target, [(location, w, each, blob, size, start_at) for w in range(writers)]
            )
        timings.append(max(spent))
    return [(writers * each * 3, timings[0], timings[1])]


def _ours_writer(root: str, worker: int, each: int, blob: str, size: int, start_at: float) -> float:
    ws = open_workspace(root)
    spec = VersionSpec(
        name="churn", flavor="skops", artifact_hash=blob, size=size, trusted=False, signature=None
    )
    columns = [{"name": "x", "dtype": "int64"}]
    while time.time() < start_at:
        time.sleep(0.001)
    for index in range(each):
        version = register_versions(ws, [spec])[0].version
        promote(ws, "churn", version, alias=f"w{worker}", reason="benchmark")
        digest = hashlib.sha256(f"{worker}-{index}".encode()).hexdigest()
        record_dataset_version(ws, f"d{worker}", digest, size=1, row_count=1, columns=columns)
    leases.release_all()  # every write applied and checkpointed, inside the timing
    return time.time() - start_at


def _sqlite_writer(
    path: str, worker: int, each: int, blob: str, size: int, start_at: float
) -> float:
    registry = SqliteRegistry(Path(path))
    while time.time() < start_at:
        time.sleep(0.001)
    for index in range(each):
        version = registry.create_version("churn", blob)
        registry.set_alias("churn", f"w{worker}", version, "benchmark")
        digest = hashlib.sha256(f"{worker}-{index}".encode()).hexdigest()
        registry.save_dataset(f"d{worker}", digest, 1, [{"name": "x", "dtype": "int64"}])
    registry.close()
    return time.time() - start_at


def _run(
    root: Path, n_rows: int, n_blobs: int, big_mib: int
) -> list[tuple[str, int, float, float, str]]:
    ws = init_workspace(root / "ws")
    catalog = ws.catalog
    base_db = root / "baseline.duckdb"
    with duckdb.connect(str(base_db)) as con:
        con.execute("CREATE TABLE runs (id VARCHAR PRIMARY KEY, pipeline VARCHAR, status VARCHAR)")
        con.execute(
            "CREATE TABLE artifacts (hash VARCHAR PRIMARY KEY, size BIGINT, media_type VARCHAR)"
        )
    results = []

    # 1. One row per call: mlops-lab opens, locks, writes, closes.
    ours = _timed(
        lambda: [
            catalog.write(
                "INSERT INTO runs (id, pipeline, status) VALUES (?, 'p', 'ok')", [f"a{i}"]
            )
            for i in range(n_rows)
        ]
    )

    def open_per_call() -> None:
        for i in range(n_rows):
            with duckdb.connect(str(base_db)) as con:
                con.execute("INSERT INTO runs VALUES (?, 'p', 'ok')", [f"a{i}"])

    base = _timed(open_per_call)
    results.append(("write 1 row per call", n_rows, ours, base, "raw connect+insert+close"))

    def held_connection(prefix: str) -> Callable[[], None]:
        def work() -> None:
            with duckdb.connect(str(base_db)) as con:
                for i in range(n_rows):
                    con.execute("INSERT INTO runs VALUES (?, 'p', 'ok')", [f"{prefix}{i}"])

        return work

    base = _timed(held_connection("b"))
    results.append(("write 1 row per call", n_rows, ours, base, "one held connection"))

    # 2. Batched: one transaction for all rows.
    def batched(con: duckdb.DuckDBPyConnection) -> None:
        for i in range(n_rows):
            con.execute("INSERT INTO runs (id, pipeline, status) VALUES (?, 'p', 'ok')", [f"c{i}"])

    ours = _timed(lambda: catalog.transaction(batched))
    base = _timed(held_connection("d"))
    results.append(("write rows in one transaction", n_rows, ours, base, "one held connection"))

    # 3. Small artifacts.
    payloads = [os.urandom(1024) for _ in range(n_blobs)]
    ours = _timed(lambda: [ws.artifacts.put_bytes(p) for p in payloads])
    blob_dir = root / "baseline-blobs"

    def raw_put() -> None:
        with duckdb.connect(str(base_db)) as con:
            for payload in payloads:
                digest = hashlib.sha256(payload).hexdigest()
                target = blob_dir / digest[:2] / digest
                target.parent.mkdir(parents=True, exist_ok=True)
                temp = target.with_suffix(".tmp")
                temp.write_bytes(payload)
                os.replace(temp, target)
                con.execute(
                    "INSERT INTO artifacts VALUES (?, ?, 'application/octet-stream')",
                    [digest, len(payload)],
                )

    base = _timed(raw_put)
    results.append(("put 1 KiB artifact", n_blobs, ours, base, "sha256+tmp+rename, held conn"))

    digests = [hashlib.sha256(p).hexdigest() for p in payloads]
    ours = _timed(lambda: [ws.artifacts.get_bytes(d) for d in digests])
    base = _timed(lambda: [(blob_dir / d[:2] / d).read_bytes() for d in digests])
    results.append(("get 1 KiB artifact (verified)", n_blobs, ours, base, "read file, no check"))

    # 4. One large file, streamed.
    big = root / "big.bin"
    with big.open("wb") as handle:
        for _ in range(big_mib):
            handle.write(os.urandom(1 << 20))
    ours = _timed(lambda: ws.artifacts.put_file(big))

    def raw_big() -> None:
        hasher = hashlib.sha256()
        with big.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(chunk)
        shutil.copyfile(big, root / "big.copy")

    base = _timed(raw_big)
    results.append((f"put {big_mib} MiB file", 1, ours, base, "sha256 pass + copyfile"))
    return results


if __name__ == "__main__":
    main()

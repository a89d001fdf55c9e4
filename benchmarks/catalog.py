"""Catalog and artifact store costs against hand-written DuckDB / file baselines.

Run: .venv/bin/python benchmarks/catalog.py [--rows N]

Prints one table: each mlops-lab operation next to the baseline doing the
same work by hand, with the ratio. The baselines keep one DuckDB connection
open for the whole loop, which mlops-lab deliberately does not (it must let
kernels, the server, the CLI and pipeline stages share the file), so the
per-call rows show what that sharing costs and the batched row shows how to
avoid it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
from _table import print_table

from mlops_lab import init_workspace


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300, help="catalog writes per case")
    parser.add_argument("--blobs", type=int, default=300, help="small artifacts per case")
    parser.add_argument("--big-mib", type=int, default=64, help="size of the large file")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="mlops-lab-bench-"))
    try:
        rows = _run(root, args.rows, args.blobs, args.big_mib)
    finally:
        shutil.rmtree(root)
    print_table(
        ("operation", "n", "mlops-lab", "baseline", "ratio", "baseline is"),
        [
            (name, str(n), f"{ours / n * 1e3:.3f} ms", f"{base / n * 1e3:.3f} ms",
             f"{ours / base:.2f}x", what)
            for name, n, ours, base, what in rows
        ],
    )  # fmt: skip


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

"""Model and evaluation store costs, with baselines run side by side.

Run: .venv/bin/python benchmarks/models.py [--versions 2000 --models 50 --rows 200000]

Rows:
- register N versions across M models, metadata only (the blob is stored
  once): mlops-lab's batch API (one transaction), mlops-lab one call per
  version inside one catalog session, and a hand-written SQLite registry
  (one committed transaction per version, the usual registry shape). The
  issue's reference: a well-known registry on SQLite took 5.4 s for 2,000.
- the same with a small skops model per version (serialise + store + register);
- resolve ``name@alias``: cached (no catalog write since), after a write
  (the cache refills), and the SQLite baseline's indexed lookup;
- one page of the Models panel's list (50 models) and of one model's
  versions, with 10,000 versions present, and a search;
- drift on R rows x 25 columns (20 numeric, 5 categorical; shifts injected
  in 5 known columns): mlops-lab from scratch (profile + checks), with the
  reference profile reused, and a plain pandas + scipy loop computing the
  same statistics; every injected shift must be found, nothing else flagged.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from _table import print_table
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlops_lab import init_workspace
from mlops_lab.evaluation.drift import build_profile, compare_to_profile
from mlops_lab.models.aliases import promote
from mlops_lab.models.lookup import get_model_version
from mlops_lab.models.registry import (
    VersionSpec,
    insert_versions,
    prepare_version,
    register_versions,
)
from mlops_lab.pages.models import list_models_page, model_detail

SHIFTED = {
    "num3": "mean +0.05 sd",
    "num7": "mean +0.1 sd",
    "num11": "sd x1.1",
    "num15": "mean +0.2 sd",
    "cat2": "proportions (JS ~0.08)",
}


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    return statistics.median(_timed(fn) for _ in range(repeats)) * 1000


def _specs(n: int, models: int, digest: str) -> list[VersionSpec]:
    return [
        VersionSpec(
            name=f"model_{i % models:03d}",
            flavor="sklearn-skops",
            artifact_hash=digest,
            size=10,
            parameters={"C": i / 10, "max_depth": i % 7},
            description=f"version {i}",
            tags=["bench"],
            training_dataset=f"train@{i % 5 + 1}",
        )
        for i in range(n)
    ]


def _sqlite_registry(path: Path, specs: list[VersionSpec]) -> sqlite3.Connection:
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE models (name TEXT PRIMARY KEY, description TEXT);"
        "CREATE TABLE versions (name TEXT, version INTEGER, source TEXT, params TEXT, "
        "tags TEXT, description TEXT, created REAL, PRIMARY KEY (name, version));"
        "CREATE TABLE aliases (name TEXT, alias TEXT, version INTEGER, PRIMARY KEY (name, alias));"
    )
    for spec in specs:  # one committed transaction per version
        with con:
            con.execute("INSERT OR IGNORE INTO models VALUES (?, ?)", (spec.name, ""))
            (latest,) = con.execute(
                "SELECT coalesce(max(version), 0) FROM versions WHERE name = ?", (spec.name,)
            ).fetchone()
            con.execute(
                "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    spec.name,
                    latest + 1,
                    spec.artifact_hash,
                    str(spec.parameters),
                    str(spec.tags),
                    spec.description,
                    time.time(),
                ),
            )
    return con


def registry_rows(root: Path, versions: int, models: int) -> list[list[str]]:
    from sklearn.linear_model import LogisticRegression

    rows = []
    ws = init_workspace(root / "batch", name="bench")
    digest, _ = ws.artifacts.write_blob([b"model bytes"])
    batch = _timed(lambda: register_versions(ws, _specs(versions, models, digest)))
    ws2 = init_workspace(root / "session", name="bench")
    digest, _ = ws2.artifacts.write_blob([b"model bytes"])

    def per_call() -> None:
        with ws2.catalog.session():
            for spec in _specs(versions, models, digest):
                ws2.catalog.transaction(lambda con, s=spec: insert_versions(con, [s]))

    session = _timed(per_call)
    sqlite = _timed(
        lambda: _sqlite_registry(root / "registry.sqlite", _specs(versions, models, digest))
    )
    label = f"register {versions} versions / {models} models, metadata only"
    rows.append(
        [
            label,
            "mlops-lab batch (1 transaction)",
            f"{batch:.3f} s",
            f"{batch / versions * 1000:.3f} ms",
            f"{5.4 / batch:.0f}x vs 5.4 s",
        ]
    )
    per_version = f"{session / versions * 1000:.3f} ms"
    rows.append(
        [
            label,
            "mlops-lab 1 call/version, 1 session",
            f"{session:.3f} s",
            per_version,
            f"{5.4 / session:.1f}x vs 5.4 s",
        ]
    )
    rows.append(
        [
            label,
            "baseline: SQLite, 1 commit/version",
            f"{sqlite:.3f} s",
            f"{sqlite / versions * 1000:.3f} ms",
            "",
        ]
    )

    X = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) % 3})
    y = (X.a > 9).astype(int)
    fitted = [LogisticRegression(C=1 + i).fit(X, y) for i in range(10)]
    ws3 = init_workspace(root / "skops", name="bench")

    def with_models() -> None:
        specs = [
            prepare_version(
                ws3,
                f"model_{i % models:03d}",
                fitted[i % 10],
                X_sample=X,
                trusted=False,
                description="",
                tags=[],
            )
            for i in range(versions)
        ]
        register_versions(ws3, specs)

    skops = _timed(with_models)
    rows.append(
        [
            f"register {versions} versions, small skops model each",
            "mlops-lab batch",
            f"{skops:.3f} s",
            f"{skops / versions * 1000:.3f} ms",
            "",
        ]
    )

    promote(ws, "model_007", 3, alias="champion", reason="bench", by="bench")
    get_model_version(ws, "model_007@champion")
    cached = _median_ms(lambda: get_model_version(ws, "model_007@champion"), 2000)

    def after_write() -> None:
        ws.catalog.write("UPDATE models SET description = 'x' WHERE name = 'model_000'")
        get_model_version(ws, "model_007@champion")

    write_only = _median_ms(
        lambda: ws.catalog.write("UPDATE models SET description = 'x' WHERE name = 'model_000'"),
        20,
    )
    refill = _median_ms(after_write, 20) - write_only
    con = sqlite3.connect(root / "registry.sqlite")
    con.execute("INSERT INTO aliases VALUES ('model_007', 'champion', 3)")
    con.commit()
    query = (
        "SELECT v.* FROM aliases a JOIN versions v ON v.name = a.name AND v.version = a.version "
        "WHERE a.name = ? AND a.alias = ?"
    )
    lookup = _median_ms(lambda: con.execute(query, ("model_007", "champion")).fetchall(), 2000)
    rows.append(
        [
            "resolve name@alias",
            "mlops-lab, cached",
            f"{cached:.4f} ms",
            "",
            "goal < 0.5 ms (1.2 ms there)",
        ]
    )
    rows.append(
        [
            "resolve name@alias",
            "mlops-lab, first after a write",
            f"{refill:.2f} ms",
            "",
            "opens the catalog",
        ]
    )
    rows.append(
        [
            "resolve name@alias",
            "baseline: SQLite query, open connection",
            f"{lookup:.4f} ms",
            "",
            "",
        ]
    )

    big = init_workspace(root / "big", name="bench")
    digest, _ = big.artifacts.write_blob([b"model bytes"])
    register_versions(big, _specs(10_000, models, digest))
    page = _median_ms(lambda: list_models_page(big, limit=50), 15)
    search = _median_ms(lambda: list_models_page(big, query="model_04", limit=50), 15)
    versions_page = _median_ms(lambda: model_detail(big, "model_007", limit=50), 15)
    for what, ms in (
        ("models list page (50)", page),
        ("models search 'model_04'", search),
        ("one model's versions page (50)", versions_page),
    ):
        rows.append([f"{what}, 10,000 versions", "mlops-lab", f"{ms:.1f} ms", "", "goal < 50 ms"])
    return rows


def _drift_data(rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)

    def make(shift: bool) -> pd.DataFrame:
        data: dict[str, np.ndarray] = {}
        for i in range(20):
            x = rng.normal(10 + i, 1 + i / 10, rows)
            if shift and f"num{i}" in SHIFTED:
                sd = 1 + i / 10
                x = {
                    3: x + 0.05 * sd,
                    7: x + 0.1 * sd,
                    11: (x - 10 - i) * 1.1 + 10 + i,
                    15: x + 0.2 * sd,
                }[i]
            data[f"num{i}"] = x
        for j in range(5):
            p = [0.4, 0.3, 0.2, 0.1]
            if shift and j == 2:
                p = [0.32, 0.3, 0.24, 0.14]
            data[f"cat{j}"] = rng.choice(np.array(["a", "b", "c", "d"]), rows, p=p)
        return pd.DataFrame(data)

    return make(False), make(True)


def _baseline_loop(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, float]:
    """What one writes by hand: scipy per column, pandas for the categorical tables."""
    p_values = {}
    for column in reference.columns:
        if pd.api.types.is_numeric_dtype(reference[column]):
            ks = stats.ks_2samp(reference[column], current[column])
            stats.wasserstein_distance(reference[column], current[column])
            p_values[column] = ks.pvalue
        else:
            counts = (
                pd.concat(
                    [reference[column].value_counts(), current[column].value_counts()], axis=1
                )
                .fillna(0)
                .to_numpy()
                .T
            )
            result = stats.chi2_contingency(counts)
            jensenshannon(counts[0] / counts[0].sum(), counts[1] / counts[1].sum(), base=2)
            p_values[column] = result.pvalue
    return p_values


def drift_rows(rows: int, repeats: int) -> list[list[str]]:
    reference, current = _drift_data(rows)
    columns = list(reference.columns)
    profile = build_profile(reference, columns)
    ours_cold, ours_warm, loop = [], [], []
    for _ in range(repeats):  # alternate the sides
        ours_cold.append(
            _timed(lambda: compare_to_profile(build_profile(reference, columns), current))
        )
        ours_warm.append(_timed(lambda: compare_to_profile(profile, current)))
        loop.append(_timed(lambda: _baseline_loop(reference, current)))
    results = compare_to_profile(profile, current)
    flagged = {r.column for r in results if r.drifted}
    found = (
        f"found {len(flagged & set(SHIFTED))}/{len(SHIFTED)}, false {len(flagged - set(SHIFTED))}"
    )
    p_values = _baseline_loop(reference, current)
    naive = {c for c, p in p_values.items() if p < 0.05}
    naive_found = (
        f"p<0.05: found {len(naive & set(SHIFTED))}/{len(SHIFTED)}, "
        f"false {len(naive - set(SHIFTED))}"
    )
    label = f"drift {rows:,} rows x 25 columns"
    base = statistics.median(loop)
    return [
        [
            label,
            "mlops-lab, profile + checks",
            f"{statistics.median(ours_cold):.3f} s",
            f"{base / statistics.median(ours_cold):.1f}x faster",
            found,
        ],
        [
            label,
            "mlops-lab, stored profile reused",
            f"{statistics.median(ours_warm):.3f} s",
            f"{base / statistics.median(ours_warm):.1f}x faster",
            found,
        ],
        [label, "baseline: pandas + scipy loop", f"{base:.3f} s", "", naive_found],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=2000)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="mlops-bench-models-"))
    try:
        table = registry_rows(root, args.versions, args.models)
        table += drift_rows(args.rows, args.repeats)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print_table(["work", "side", "time", "per item / speed", "note"], table)


if __name__ == "__main__":
    main()

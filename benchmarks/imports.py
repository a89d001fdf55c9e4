"""What importing mlops_lab costs a fresh Python process, light entry points vs the full API.

Run: .venv/bin/python benchmarks/imports.py [--runs 7] [--baseline-source DIR]

Each row is a fresh `python -c ...` process (best and median of --runs), so
start-up is included. Rows:
- `python -c pass`: the interpreter alone, the floor;
- `import mlops_lab.pipelines.observe`: what every pipeline stage's kernel loads
  at start (the reads observer);
- `import mlops_lab`: the package's front door;
- `import mlops_lab.cli`: what `mlops-lab --help` loads;
- `mlops_lab.context`: the notebook API's first use (DuckDB, pandas, pyarrow):
  what the observer paid before the package's names were imported on first use.
`--baseline-source DIR` adds the observer row for another checkout (e.g. a
`git worktree` of an older commit) side by side.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _table import print_table

ROWS = [
    ("python -c pass", "pass"),
    ("import mlops_lab.pipelines.observe", "import mlops_lab.pipelines.observe"),
    ("import mlops_lab", "import mlops_lab"),
    ("import mlops_lab.cli", "import mlops_lab.cli"),
    ("mlops_lab.context (the notebook API)", "import mlops_lab; mlops_lab.context"),
]
HEAVY = ("duckdb", "pandas", "pyarrow", "sklearn", "plotly")


def _time(code: str, source: Path, runs: int) -> tuple[float, float, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, cwd=source, check=True)
        times.append(time.perf_counter() - start)
    probe = f"{code}\nimport sys; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        cwd=source,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return min(times), statistics.median(times), loaded[-1].split(",") if loaded else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline-source", type=Path, help="another checkout's root")
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[1]
    rows = []
    cases = [(label, code, here, "this checkout") for label, code in ROWS]
    if args.baseline_source:
        label, code = ROWS[1]
        cases.insert(2, (label, code, args.baseline_source.resolve(), "baseline"))
    for label, code, source, which in cases:
        best, median, loaded = _time(code, source, args.runs)
        rows.append(
            [
                label,
                which,
                f"{best * 1000:.0f}",
                f"{median * 1000:.0f}",
                ", ".join(m for m in loaded if m) or "-",
            ]
        )
    print_table(["process runs", "source", "best ms", "median ms", "heavy modules loaded"], rows)


if __name__ == "__main__":
    main()

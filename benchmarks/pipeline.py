"""Pipeline runner costs against raw papermill on the same notebooks, in one run.

Run: .venv/bin/python benchmarks/pipeline.py [--stages 10] [--stall-runs 40]

Prints one table. Rows:
- per-stage cost of a sequential pipeline of trivial stages vs the same number
  of raw `papermill.execute_notebook` calls (default settings);
- a rerun of an unchanged 5-stage pipeline (all cached: no kernel started),
  in-process and as a whole `mlops-lab run` command;
- two independent 3-second stages with --jobs 2 vs --jobs 1;
- kernel-shutdown stalls: notebook runs taking over 2 s longer than the
  median, counted over N runs for mlops-lab and for raw papermill.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill
from _table import print_table
from nbformat.v4 import new_code_cell, new_notebook

from mlops_lab import Workspace, init_workspace
from mlops_lab.pipelines import Runner, RunOptions, load_pipeline

STALL_MARGIN = 2.0  # seconds over the median that count as a shutdown stall


def _notebook(path: Path, body: str) -> None:
    notebook = new_notebook(
        cells=[new_code_cell("x = 1", metadata={"tags": ["parameters"]}), new_code_cell(body)]
    )
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)


def _pipeline(root: Path, name: str, stages: int, body: str, chain: bool) -> Workspace:
    lines = [f"  {name}:", "    stages:"]
    for index in range(stages):
        _notebook(root / f"{name}_{index}.ipynb", body.replace("INDEX", str(index)))
        needs = f", needs: [s{index - 1}]" if chain and index else ""
        lines.append(f"      - {{name: s{index}, notebook: {name}_{index}.ipynb{needs}}}")
    config = root / "mlops_lab.yaml"
    text = config.read_text()
    if "pipelines: {}" in text:
        text = text.replace("pipelines: {}", "pipelines:")
    config.write_text(text + "\n".join(lines) + "\n")
    return Workspace(root)


def _run(ws: Workspace, name: str, **options: object) -> tuple[float, list[float]]:
    """Wall time of the whole run, and each stage's wall time from start to committed outputs."""
    start = time.perf_counter()
    record = Runner(ws, load_pipeline(ws, name), RunOptions(**options)).run()  # type: ignore[arg-type]
    took = time.perf_counter() - start
    assert record.status == "succeeded", [(s.stage, s.error_value) for s in record.stages]
    return took, [
        (s.ended_at - s.started_at).total_seconds() if s.ended_at and s.started_at else 0.0
        for s in record.stages
    ]


def _raw(paths: list[Path], out: Path) -> list[float]:
    times = []
    for path in paths:
        start = time.perf_counter()
        papermill.execute_notebook(str(path), str(out), progress_bar=False, parameters={"x": 2})
        times.append(time.perf_counter() - start)
    return times


def _stalls(times: list[float]) -> int:
    median = statistics.median(times)
    return sum(1 for t in times if t > median + STALL_MARGIN)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=int, default=10)
    parser.add_argument("--stall-runs", type=int, default=40)
    args = parser.parse_args()
    logging.getLogger("papermill").setLevel(logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="mlops-lab-pipeline-bench-"))
    rows: list[tuple[str, str, str, str, str]] = []
    try:
        ws = init_workspace(root / "ws")
        trivial = _pipeline(ws.root, "trivial", args.stages, "y = x + INDEX", chain=True)
        took, stage_times = _run(trivial, "trivial", jobs=1)
        paths = [ws.root / f"trivial_{i}.ipynb" for i in range(args.stages)]
        raw = _raw(paths, root / "out.ipynb")
        ours, base = took / args.stages, sum(raw) / len(raw)
        rows.append(
            (
                "per stage, trivial notebook (mean)",
                f"{ours:.3f} s",
                f"{base:.3f} s",
                f"{ours / base:.2f}x",
                "raw papermill.execute_notebook",
            )
        )
        ours, base = statistics.median(stage_times), statistics.median(raw)
        rows.append(
            (
                "per stage, trivial notebook (median)",
                f"{ours:.3f} s",
                f"{base:.3f} s",
                f"{ours / base:.2f}x",
                "same runs; a stall moves only the mean",
            )
        )

        five = _pipeline(ws.root, "five", 5, "y = x * INDEX", chain=True)
        _run(five, "five")
        cached, _ = _run(five, "five")
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "mlops_lab", "--workspace", str(ws.root), "run", "five"],
            check=True,
            capture_output=True,
        )
        command = time.perf_counter() - start
        rows.append(
            (
                "rerun unchanged 5 stages (cached)",
                f"{cached:.3f} s",
                "-",
                "-",
                "in-process Runner.run",
            )
        )
        rows.append(
            (
                "rerun unchanged 5 stages (cached)",
                f"{command:.3f} s",
                "-",
                "-",
                "whole `mlops-lab run` process",
            )
        )

        wide = _pipeline(ws.root, "wide", 2, "import time\ntime.sleep(3)", chain=False)
        parallel, _ = _run(wide, "wide", jobs=2, force=True)
        sequential, _ = _run(wide, "wide", jobs=1, force=True)
        rows.append(
            (
                "two independent 3 s stages",
                f"{parallel:.2f} s",
                f"{sequential:.2f} s",
                f"{sequential / parallel:.2f}x faster",
                "--jobs 2 vs --jobs 1",
            )
        )

        runs = max(1, args.stall_runs // args.stages)
        ours_times: list[float] = []
        for _ in range(runs):
            _, durations = _run(trivial, "trivial", jobs=1, force=True)
            ours_times += durations
        raw_times = _raw(paths * runs, root / "out.ipynb")
        rows.append(
            (
                f"shutdown stalls over {len(ours_times)} notebook runs",
                str(_stalls(ours_times)),
                str(_stalls(raw_times)),
                "-",
                f"runs > median + {STALL_MARGIN:.0f} s, raw papermill",
            )
        )
        rows.append(
            (
                "  slowest single notebook run",
                f"{max(ours_times):.2f} s",
                f"{max(raw_times):.2f} s",
                "-",
                "same runs",
            )
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print_table(("measure", "mlops-lab", "baseline", "ratio", "baseline is"), rows)


if __name__ == "__main__":
    main()

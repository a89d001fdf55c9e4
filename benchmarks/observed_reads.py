"""The cost of observing a stage's reads, with and without the observer, in one run.

Run: .venv/bin/python benchmarks/observed_reads.py [--files 2000] [--runs 5]

Prints one table (median of --runs stage runs each way, each in a fresh kernel).
Rows, timed inside the kernel so kernel start-up noise stays out:
- opening and reading N small workspace files twice each;
- os.path.exists / pathlib.Path.is_file on the N files and on N absent ones;
- ordinary pandas work: read a 200k-row CSV, group, write the result;
then the parent's side: collecting the log and hashing what was read (after the
run) and checking a cached result's reads before reuse (stale_reason).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from _table import print_table
from nbformat.v4 import new_code_cell, new_notebook

from mlops_lab.pipelines.executor import StageJob, execute_stage
from mlops_lab.pipelines.reads import stale_reason

_WORK = {
    "open+read": "for name in names:\n    open(name).read()\n    with open(name) as f:\n"
    "        f.read()",
    "exists/is_file": "for name in names:\n    os.path.exists(name)\n"
    "    pathlib.Path(name).is_file()\n    os.path.exists(name + '.absent')",
    "pandas": "frame = pd.read_csv('big.csv')\n"
    "summary = frame.groupby('k').v.agg(['sum', 'mean'])\nsummary.to_csv('summary.csv')",
}


def _notebook(path: Path, files: int) -> None:
    cells = [
        new_code_cell(
            "import os, pathlib, time, json\nimport pandas as pd\n"
            f"names = [f'data/f{{i}}.txt' for i in range({files})]\ntimes = {{}}"
        )
    ]
    for label, body in _WORK.items():
        indented = "\n".join("    " + line for line in body.splitlines())
        cells.append(
            new_code_cell(
                f"start = time.perf_counter()\nif True:\n{indented}\n"
                f"times[{label!r}] = time.perf_counter() - start"
            )
        )
    cells.append(new_code_cell("print(json.dumps(times))"))
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, path)


def _run(root: Path, name: str, *, observe: bool) -> tuple[dict[str, float], float, dict | None]:
    folder = root / ".mlops_lab" / name
    job = StageJob(
        workspace_root=str(root),
        run_id=name,
        stage="bench",
        notebook="bench.ipynb",
        parameters={},
        output_path=str(folder / "executed.ipynb"),
        manifest_path=str(folder / "manifest.jsonl"),
        observe_reads=observe,
    )
    start = time.perf_counter()
    outcome = execute_stage(job)
    wall = time.perf_counter() - start
    if not outcome.ok:
        sys.exit(f"the benchmark notebook failed: {outcome.error_name}: {outcome.error_value}")
    executed = nbformat.read(folder / "executed.ipynb", as_version=4)
    times = json.loads(executed.cells[-1].outputs[0]["text"])
    return times, wall, outcome.reads


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        for i in range(args.files):
            (root / "data" / f"f{i}.txt").write_text(f"row {i}\n" * 20)
        with (root / "big.csv").open("w") as handle:
            handle.write("k,v\n")
            handle.writelines(f"{i % 97},{i * 0.5}\n" for i in range(200_000))
        _notebook(root / "bench.ipynb", args.files)
        results: dict[bool, list[tuple[dict[str, float], float]]] = {False: [], True: []}
        reads = None
        for index in range(args.runs):
            for observe in (False, True):  # interleaved: load changes hit both alike
                times, wall, found = _run(root, f"r{index}-{observe}", observe=observe)
                results[observe].append((times, wall))
                reads = found if observe else reads
        assert reads is not None
        checks = []
        for _ in range(args.runs):
            start = time.perf_counter()
            assert stale_reason(root, reads, "r0") is None
            checks.append(time.perf_counter() - start)

    def median(observe: bool, label: str) -> float:
        return statistics.median(t[label] for t, _ in results[observe])

    rows = []
    for label in _WORK:
        off, on = median(False, label), median(True, label)
        name = f"{label} ({args.files} files)" if label != "pandas" else "pandas 200k rows"
        rows.append(
            [name, f"{off * 1000:.1f}", f"{on * 1000:.1f}", f"{(on / off - 1) * 100:+.0f}%"]
        )
    off = statistics.median(w for _, w in results[False])
    on = statistics.median(w for _, w in results[True])
    rows.append(
        [
            "whole stage run (wall, incl. hashing)",
            f"{off * 1000:.0f}",
            f"{on * 1000:.0f}",
            f"{(on / off - 1) * 100:+.0f}%",
        ]
    )
    rows.append(
        [
            "cache check of the reads (stale_reason)",
            "-",
            f"{statistics.median(checks) * 1000:.1f}",
            "",
        ]
    )
    print(
        f"Observed reads: median of {args.runs} runs each, ms; {len(reads['files'])} files, "
        f"{len(reads['probes'])} probes recorded"
    )
    print_table(["work in the kernel", "without", "with observer", "overhead"], rows)


if __name__ == "__main__":
    main()

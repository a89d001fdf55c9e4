"""Determinism: the clean run, repeated in fresh kernels, gives the same outputs.

``repeat`` clean runs (default 2) are recorded as handoff runs; the first one
is *the* clean run (the other checks read it). The executed copies of the
later runs are compared with the first one's cell by cell, with the same
normaliser as the reproduction check, and each differing cell is given its
likely cause (:mod:`mlops_lab.handoff.causes`). The logged metrics are
compared too.

The runs are made two at a time (on a 2-core machine two clean runs took 5.8 s
together against 11.2 s one after the other: most of a short run is starting
the kernel and importing), unless the notebook's code may write files
(``to_csv``, ``savefig``, ``open(..., "w")``, shell lines...): two copies of it
would then read and overwrite each other's files, so they run one after the
other.
"""

from __future__ import annotations

import ast
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mlops_lab.environment import ENV_CAPTURE
from mlops_lab.errors import InvalidInputError
from mlops_lab.handoff import clean_run as dynamic
from mlops_lab.handoff.causes import likely_cause
from mlops_lab.handoff.findings import Finding
from mlops_lab.handoff.paths import call_name
from mlops_lab.handoff.reproduce import MAX_SHOWN, describe, differing_cells, executed_cells
from mlops_lab.handoff.static import CellCode, parse_cells
from mlops_lab.pipelines.executor import StageOutcome
from mlops_lab.pipelines.notebook import cells_of
from mlops_lab.pipelines.spec import PipelineSpec
from mlops_lab.workspace import Workspace

__all__ = [
    "DEFAULT_REPEAT",
    "MAX_REPEAT",
    "check_determinism",
    "check_repeat",
    "clean_runs",
    "writes_files",
]

DEFAULT_REPEAT = 2
MAX_REPEAT = 10
_NAMES = ("run1", "run2")


def check_repeat(repeat: int) -> int:
    """``repeat`` if it is a number of clean runs the check accepts."""
    if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= MAX_REPEAT:
        raise InvalidInputError(
            f"repeat must be a number of clean runs from 1 to {MAX_REPEAT} (2 checks that two "
            f"runs give the same outputs; 1 skips that check), got {repeat!r}."
        )
    return repeat


# Calls that write or move files (by their last name), and magics that may.
_WRITERS = {
    "to_parquet",
    "to_feather",
    "to_hdf",
    "to_sql",
    "to_netcdf",
    "to_orc",
    "to_stata",
    "to_file",
    "to_pickle",
    "to_excel",
    "savefig",
    "savez",
    "savez_compressed",
    "savetxt",
    "write_text",
    "write_bytes",
    "writelines",
    "mkdir",
    "makedirs",
    "rmdir",
    "rmtree",
    "unlink",
    "copyfile",
    "copytree",
    "save_model",
    "save_weights",
    "urlretrieve",
    "extractall",
    "touch",
}
# ... that write only when given somewhere to write (df.to_csv() returns a string).
_WRITERS_WITH_TARGET = {
    "to_csv",
    "to_json",
    "to_html",
    "to_latex",
    "to_markdown",
    "save",
    "dump",
    "download",
}
# ... and that write only as os.* or shutil.* (df.rename, list.remove, str.replace do not).
_FILE_MODULE_WRITERS = {"remove", "rename", "replace", "copy", "copy2", "move", "symlink"}
_OPEN_MODULES = {"io", "codecs", "gzip", "bz2", "lzma", "os", "tarfile", "zipfile"}
_SHELL_MAGICS = ("%%writefile", "%%bash", "%%sh", "%%script", "%sx", "%system")


def _writes(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    owner = (
        func.value.id
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
        else ""
    )
    if name == "open":
        # path.open(mode) on a Path; open(path, mode), io.open(path, mode)...
        method = isinstance(func, ast.Attribute) and owner not in _OPEN_MODULES
        position = 0 if method else 1
        mode = (
            node.args[position]
            if len(node.args) > position
            else next((k.value for k in node.keywords if k.arg == "mode"), None)
        )
        if not isinstance(mode, ast.Constant):
            return mode is not None  # a computed mode may write
        return any(c in str(mode.value) for c in "wax+")
    return (
        name in _WRITERS
        or (name in _WRITERS_WITH_TARGET and bool(node.args or node.keywords))
        or (name in _FILE_MODULE_WRITERS and owner in ("os", "shutil"))
    )


def writes_files(cells: list[CellCode]) -> str | None:
    """What in the code may write a file (a call or a magic), None if nothing does."""
    for cell in cells:
        for line in cell.source.splitlines():
            if line.lstrip().startswith(("!", *_SHELL_MAGICS)):
                return f"{line.strip()[:40]!r} in cell {cell.index + 1}"
        for node in ast.walk(cell.tree) if cell.tree is not None else ():
            if isinstance(node, ast.Call) and _writes(node):
                return f"{call_name(node)}() in cell {cell.index + 1}"
    return None


def clean_runs(
    workspace: Workspace, spec: PipelineSpec, *, repeat: int = DEFAULT_REPEAT, **options: Any
) -> list[tuple[dynamic.CleanRun, Finding]]:
    """The clean run ``repeat`` times (``options``: of
    :func:`~mlops_lab.handoff.clean_run.clean_run`); the first one is the clean run.

    Two at a time unless the notebook may write files (see the module's docstring);
    one after the other, the repeats run only after a first run that succeeded.
    """
    cells = parse_cells(cells_of(workspace.root / spec.stages[0].notebook))
    if repeat == 1 or writes_files(cells) is not None:
        runs = [dynamic.clean_run(workspace, spec, **options)]
        if runs[0][0].outcome.ok:
            runs += [dynamic.clean_run(workspace, spec, **options) for _ in range(repeat - 1)]
        return runs
    # clean_run sets and restores ENV_CAPTURE around each run: set it around all of them,
    # so that no run restores it under another.
    previous = os.environ.get(ENV_CAPTURE)
    os.environ[ENV_CAPTURE] = "1"
    try:
        workers = min(repeat, 2)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="clean-run") as pool:
            futures = [
                pool.submit(dynamic.clean_run, workspace, spec, **options) for _ in range(repeat)
            ]
            return [future.result() for future in futures]
    finally:
        if previous is None:
            os.environ.pop(ENV_CAPTURE, None)
        else:
            os.environ[ENV_CAPTURE] = previous


def _metric_rows(a: dict[str, float], b: dict[str, float], rel_tol: float) -> list[dict[str, Any]]:
    rows = []
    for name in sorted(set(a) | set(b)):
        x, y = a.get(name), b.get(name)
        if x is None or y is None or not dynamic._close(x, y, rel_tol):
            rows.append({"metric": name, "run1": x, "run2": y})
    return rows


def check_determinism(
    saved: list[dict[str, Any]],
    runs: list[tuple[dynamic.CleanRun, Finding]],
    *,
    rel_tol: float,
) -> Finding:
    """The ``determinism`` finding of ``runs`` (from :func:`clean_runs`, first one succeeded)."""
    first = runs[0][0]
    if len(runs) < 2:
        return Finding(
            check="determinism",
            status="warn",
            message="Not checked: the notebook was run once (repeat 1); run the check with "
            "--repeat 2 to see whether two clean runs give the same outputs.",
            details={"runs": [first.run_id]},
        )
    ids = [run.run_id for run, _ in runs]
    cells = parse_cells(saved)
    reference = executed_cells(first.executed)
    for number, (run, finding) in enumerate(runs[1:], start=2):
        if not run.outcome.ok and _did_not_finish(run.outcome):
            # A timeout or a dead kernel says more about the machine than about the code.
            return Finding(
                check="determinism",
                status="warn",
                cell=finding.cell,
                message=f"Not compared: clean run {number} did not finish ({finding.message}).",
                details={"runs": ids},
            )
        if not run.outcome.ok:
            return Finding(
                check="determinism",
                status="fail",
                cell=finding.cell,
                message=f"Clean run {number} raised an error although run 1 succeeded: "
                f"{finding.message}",
                details={"runs": ids},
            )
        compared, rows = differing_cells(
            saved, reference, executed_cells(run.executed), names=_NAMES, rel_tol=rel_tol
        )
        metrics = _metric_rows(first.metrics, run.metrics, rel_tol)
        if not rows and not metrics:
            continue
        for row in rows[:MAX_SHOWN]:
            row["cause"] = likely_cause(cells, row["cell"] - 1, row, _NAMES)
        parts = [describe(r, *_NAMES) for r in rows[:3]]
        parts += [f"metric {m['metric']} {m['run1']} -> {m['run2']}" for m in metrics[:3]]
        more = len(rows) + len(metrics) - len(parts)
        return Finding(
            check="determinism",
            status="fail",
            cell=rows[0]["cell"] - 1 if rows else None,
            message=f"Clean runs 1 and {number} differ in {len(rows)} of {compared} cell(s)"
            + (f" and {len(metrics)} metric(s)" if metrics else "")
            + f": {'; '.join(parts)}"
            + (f" (and {more} more)" if more > 0 else "")
            + ".",
            details={
                "runs": [ids[0], ids[number - 1]],
                "compared_cells": compared,
                "differing_cells": len(rows),
                "cells": rows[:MAX_SHOWN],
                "metrics": metrics,
                "rel_tol": rel_tol,
            },
        )
    return Finding(
        check="determinism",
        status="pass",
        message=f"{len(runs)} clean runs in fresh kernels give the same outputs.",
        details={"runs": ids, "rel_tol": rel_tol},
    )


def _did_not_finish(outcome: StageOutcome) -> bool:
    """Stopped from outside (a time limit, a dead kernel), not by an error the code raised."""
    return (
        outcome.timed_out
        or outcome.error_name in ("CellTimeout", "DeadKernelError")
        or (outcome.error_cell is None and outcome.error_name != "SystemExit")
    )

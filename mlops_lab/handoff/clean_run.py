"""The dynamic handoff checks: run the notebook top to bottom in a fresh kernel, then
compare what it produced with what was declared and with the scientist's last run.

The clean run is a real run (kind ``handoff``) with its executed notebook kept
(also when it fails or times out), but its outputs are *not* registered: a
check must not add dataset or model versions.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_lab.environment import ENV_CAPTURE, package_versions
from mlops_lab.handoff.findings import Finding
from mlops_lab.pipelines import bookkeeping as books
from mlops_lab.pipelines.cellmap import cell_number
from mlops_lab.pipelines.executor import StageJob, StageOutcome, execute_stage
from mlops_lab.pipelines.records import new_run_id
from mlops_lab.pipelines.spec import PipelineSpec
from mlops_lab.workspace import Workspace

__all__ = ["CleanRun", "check_environment", "check_outputs", "check_reproduction", "clean_run"]


@dataclass(frozen=True, kw_only=True)
class CleanRun:
    run_id: str
    stage: str
    outcome: StageOutcome
    executed: Path
    metrics: dict[str, float] = field(default_factory=dict)
    produced: dict[str, list[str]] = field(default_factory=dict)
    environment: dict[str, Any] | None = None
    reads: dict[str, Any] | None = None  # what the kernel read (mlops_lab.pipelines.reads)


def clean_run(
    workspace: Workspace,
    spec: PipelineSpec,
    *,
    timeout: float,
    cell_timeout: float | None = None,
    kernel: str | None = None,
    kernel_note: str | None = None,
) -> tuple[CleanRun, Finding]:
    """Execute the one-stage ``spec`` in a fresh kernel with its default parameters.

    ``timeout`` bounds the whole run (its kernel is killed then), ``cell_timeout``
    each cell; ``kernel``: the kernelspec to run it in (None: the notebook's), and
    ``kernel_note`` why, when it is not the notebook's own. The run record keeps them
    (its stage run's ``execution``).
    """
    stage = spec.stages[0]
    run_id = "h" + new_run_id()[1:]
    books.create_run(
        workspace.catalog,
        run_id=run_id,
        pipeline=spec,
        trigger="handoff",
        reason="handoff check",
        parameters={},
        git=books.git_state(workspace.root),
    )
    workspace.catalog.write("UPDATE runs SET kind = 'handoff' WHERE id = ?", [run_id])
    books.update_stage(workspace.catalog, run_id, stage.name, status="running")
    folder = workspace.state_dir / "handoffs" / run_id
    folder.mkdir(parents=True, exist_ok=True)
    job = StageJob(
        workspace_root=str(workspace.root),
        run_id=run_id,
        stage=stage.name,
        notebook=stage.notebook,
        source_hash=stage.source_hash,
        parameters={},
        output_path=str(folder / "executed.ipynb"),
        manifest_path=str(folder / "manifest.jsonl"),
        timeout=timeout,
        cell_timeout=cell_timeout,
        kernel_name=kernel,
        kernel_log=str(folder / "kernel.log"),
    )
    previous = os.environ.get(ENV_CAPTURE)
    os.environ[ENV_CAPTURE] = "1"  # the kernel inherits it: record the environment
    try:
        outcome = execute_stage(job)
    finally:
        if previous is None:
            os.environ.pop(ENV_CAPTURE, None)
        else:
            os.environ[ENV_CAPTURE] = previous
    books.update_stage(
        workspace.catalog,
        run_id,
        stage.name,
        execution={
            "kernel": outcome.kernel,
            "kernel_asked": kernel,
            "note": kernel_note,
            "timeout": timeout,
            "cell_timeout": cell_timeout,
        },
    )
    executed = Path(job.output_path)
    stored = None
    if executed.exists():
        data = executed.read_bytes()
        stored = workspace.artifacts.write_blob([data])
    run = CleanRun(
        run_id=run_id,
        stage=stage.name,
        outcome=outcome,
        executed=executed,
        reads=outcome.reads,
        **_summary(outcome.entries),
    )
    if outcome.ok:
        books.update_stage(
            workspace.catalog,
            run_id,
            stage.name,
            status="succeeded",
            duration_s=outcome.duration_s,
            cells_total=outcome.cells_total,
            cells_done=outcome.cells_total,
            outputs=run.produced,
            reads=outcome.reads,
        )
        if stored is not None:
            _attach_notebook(workspace, run_id, stage.name, stored)
        books.finish_run(workspace.catalog, run_id, "succeeded")
        finding = Finding(
            check="clean_run",
            status="pass",
            message=f"Ran top to bottom in a fresh kernel in "
            f"{outcome.duration_s:.1f} s ({outcome.cells_total} cells).",
            details={"run_id": run_id, "stage": stage.name, "kernel": outcome.kernel},
        )
        return run, finding
    books.record_stage_failure(
        workspace.catalog,
        run_id=run_id,
        stage=stage.name,
        status="failed",
        executed=stored,
        duration_s=outcome.duration_s,
        cells_total=outcome.cells_total,
        error_cell=cell_number(outcome.error_cell),
        error_name=outcome.error_name,
        error_value=outcome.error_value,
        traceback=outcome.traceback,
        reads=outcome.reads,
    )
    books.finish_run(workspace.catalog, run_id, "failed", error=outcome.error_value)
    return run, _failure(outcome, run_id=run_id, stage=stage.name, cell_timeout=cell_timeout)


def _failure(
    outcome: StageOutcome, *, run_id: str, stage: str, cell_timeout: float | None
) -> Finding:
    """The clean run's finding when it did not run top to bottom (its cell from 1)."""
    cell = outcome.error_cell
    where = f" in cell {cell + 1}" if cell is not None else ""
    timed_out = outcome.timed_out or outcome.error_name == "CellTimeout"
    if timed_out:
        message = f"Timed out: {outcome.error_value}; the partial executed copy is kept."
    elif outcome.not_run and outcome.error_value and "did not run" in outcome.error_value:
        message = f"Did not run top to bottom: {outcome.error_value}."
    else:
        message = f"Failed{where}: {outcome.error_name}: {outcome.error_value}"
    return Finding(
        check="clean_run",
        status="fail",
        cell=cell,
        message=message,
        details={
            "run_id": run_id,
            "stage": stage,
            "timed_out": timed_out,
            "executed_cell": outcome.executed_cell,
            "not_run": [i + 1 for i in outcome.not_run],
            "kernel": outcome.kernel,
            "cell_timeout": cell_timeout,
        },
    )


def _attach_notebook(
    workspace: Workspace, run_id: str, stage: str, stored: tuple[str, int]
) -> None:
    from mlops_lab.artifacts import register_artifact

    def write(con: Any) -> None:
        register_artifact(
            con, stored[0], size=stored[1], media_type="application/x-ipynb+json", run_id=run_id
        )
        con.execute(
            "UPDATE stage_runs SET executed_notebook = ?, ended_at = current_timestamp "
            "WHERE run_id = ? AND stage = ?",
            [stored[0], run_id, stage],
        )

    workspace.catalog.transaction(write)


def _summary(entries: list[dict[str, Any]]) -> dict[str, Any]:
    metrics: dict[str, float] = {}
    produced: dict[str, list[str]] = {"datasets": [], "models": [], "metrics": [], "artifacts": []}
    environment = None
    for entry in entries:
        kind = entry.get("type")
        if kind == "metric":
            metrics[entry["name"]] = entry["value"]  # the last value of a series
            produced["metrics"].append(entry["name"])
        elif kind in ("dataset", "model", "artifact"):
            produced[kind + "s"].append(entry["name"])
        elif kind == "environment":
            environment = entry["environment"]
    produced = {k: sorted(set(v)) for k, v in produced.items()}
    return {"metrics": metrics, "produced": produced, "environment": environment}


def check_outputs(run: CleanRun, declared: dict[str, tuple[str, ...]]) -> Finding:
    missing = [
        f"{kind[:-1]} {name}"
        for kind in ("datasets", "models", "metrics", "artifacts")
        for name in declared.get(kind, ())
        if name not in run.produced.get(kind, [])
    ]
    produced = {k: v for k, v in run.produced.items() if v}
    if missing:
        return Finding(
            check="outputs",
            status="fail",
            message=f"Declared but not produced by the clean run: {', '.join(missing)}.",
            details={"declared": declared, "produced": produced},
        )
    if not any(declared.values()):
        listed = "; ".join(f"{k}: {', '.join(v)}" for k, v in produced.items()) or "nothing"
        return Finding(
            check="outputs",
            status="pass" if produced else "warn",
            message=f"No stage declared outputs yet; the contract declares what the clean run "
            f"produced: {listed}."
            if produced
            else "The clean run produced no dataset, model, metric or artifact.",
            details={"declared": declared, "produced": produced},
        )
    return Finding(
        check="outputs",
        status="pass",
        message="Every declared output was produced.",
        details={"declared": declared, "produced": produced},
    )


def last_interactive_metrics(
    workspace: Workspace, notebook: str
) -> tuple[str | None, dict[str, float], dict[str, Any] | None]:
    """The scientist's last interactive run of ``notebook``: (run id, metrics, environment)."""
    rows = workspace.catalog.read(
        "SELECT id, notebook, environment FROM runs WHERE kind = 'interactive' AND notebook IS "
        "NOT NULL AND EXISTS (SELECT 1 FROM metrics m WHERE m.run_id = runs.id) "
        "ORDER BY started_at DESC"
    )
    name = Path(notebook).name
    for run_id, path, environment in rows:
        if path == notebook or (
            Path(path).name == name and Path(path).as_posix().endswith(notebook)
        ):
            metrics = dict(
                workspace.catalog.read(
                    "SELECT name, arg_max(value, logged_at) FROM metrics WHERE run_id = ? "
                    "GROUP BY name",
                    [run_id],
                )
            )
            env = json.loads(environment) if isinstance(environment, str) else environment
            return run_id, {k: float(v) for k, v in metrics.items()}, env
    return None, {}, None


def check_reproduction(
    run: CleanRun, interactive: tuple[str | None, dict[str, float], Any], *, rel_tol: float
) -> Finding:
    run_id, before, _ = interactive
    if run_id is None:
        return Finding(
            check="reproduction",
            status="warn",
            message="No interactive run of this notebook logged metrics to compare "
            "with: run it in JupyterLab with mlops_lab.context() logging them.",
        )
    rows, differ = [], []
    for name in sorted(set(before) | set(run.metrics)):
        a, b = before.get(name), run.metrics.get(name)
        same = a is not None and b is not None and _close(a, b, rel_tol)
        rows.append({"metric": name, "interactive": a, "clean": b, "same": same})
        if not same:
            differ.append(name)
    details = {"interactive_run": run_id, "metrics": rows, "rel_tol": rel_tol}
    if differ:
        return Finding(
            check="reproduction",
            status="fail",
            message=f"Metrics differ from interactive run {run_id}: "
            + ", ".join(
                f"{r['metric']} {r['interactive']} -> {r['clean']}" for r in rows if not r["same"]
            ),
            details=details,
        )
    return Finding(
        check="reproduction",
        status="pass",
        message=f"All {len(rows)} metric(s) reproduce interactive run {run_id}.",
        details=details,
    )


def _close(a: float, b: float, rel_tol: float) -> bool:
    if float(a).is_integer() and float(b).is_integer():
        return a == b  # counts are exact
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=0.0) or a == b


def check_environment(
    run: CleanRun, interactive_env: dict[str, Any] | None, imports: set[str]
) -> tuple[Finding, dict[str, Any]]:
    """The clean run's environment against the workspace's (and the scientist's, if known)."""
    import platform

    workspace_env: dict[str, Any] = {
        "python": platform.python_version(),
        "packages": package_versions(imports),
    }
    captured = run.environment or {}
    kernel_packages = {
        k: v for k, v in (captured.get("packages") or {}).items() if k in workspace_env["packages"]
    }
    environment = {
        "python": captured.get("python") or workspace_env["python"],
        "packages": {**workspace_env["packages"], **kernel_packages},
    }
    differences = []
    for label, other in (("the kernel", captured), ("the interactive run", interactive_env or {})):
        if other.get("python") and other["python"] != workspace_env["python"]:
            differences.append(
                f"Python {other['python']} in {label}, {workspace_env['python']} in the workspace"
            )
        for dist, version in workspace_env["packages"].items():
            seen = (other.get("packages") or {}).get(dist)
            if seen and seen != version:
                differences.append(f"{dist} {seen} in {label}, {version} in the workspace")
    details = {"environment": environment, "differences": differences}
    if differences:
        return Finding(
            check="environment",
            status="warn",
            message="Environment differs: " + "; ".join(differences),
            details=details,
        ), environment
    listed = ", ".join(f"{k} {v}" for k, v in sorted(environment["packages"].items()))
    return Finding(
        check="environment",
        status="pass",
        message=f"Python {environment['python']}; {listed or 'no third-party imports'}.",
        details=details,
    ), environment

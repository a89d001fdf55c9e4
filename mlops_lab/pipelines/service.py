"""Run-level operations shared by the CLI and the REST API."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb

from mlops_lab.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PipelineSpecError,
    RunNotFoundError,
)
from mlops_lab.metric_direction import change, higher_is_better
from mlops_lab.pipelines import bookkeeping as books
from mlops_lab.pipelines import liveness
from mlops_lab.pipelines.kernels import choose_kernel
from mlops_lab.pipelines.notebook import read_notebook
from mlops_lab.pipelines.parameters import apply_parameters
from mlops_lab.pipelines.records import RunRecord, get_run, new_run_id
from mlops_lab.pipelines.run_options import RunEvent, RunOptions
from mlops_lab.pipelines.runner import Runner
from mlops_lab.pipelines.spec import PipelineSpec, StageSpec, load_pipeline
from mlops_lab.pipelines.triggers import Decision, ci_decision, close_alerts, ct_decision
from mlops_lab.pipelines.verdict import examine
from mlops_lab.workspace import Workspace

__all__ = [
    "compare_runs",
    "decide",
    "executed_notebook",
    "launch_run",
    "notebook_path_problem",
    "notebook_pipeline",
    "open_executed_notebook",
    "request_cancel",
    "resolve_pipeline",
    "run_pipeline",
    "run_trigger",
]

NOTEBOOK_PREFIX = "notebook:"
OPEN_FOLDER = "mlops-lab-runs"
_CANCELLED_DEAD = "cancelled after its runner had stopped (killed?)"


def notebook_pipeline(
    workspace: Workspace,
    notebook: str,
    overrides: Mapping[str, Any] | None = None,
    *,
    kernel: str | None = None,
) -> PipelineSpec:
    """A one-stage pipeline running ``notebook`` (workspace-relative), for ad-hoc runs.

    ``kernel``: run it in this kernelspec (it must be installed) instead of the
    notebook's own.
    """
    path = (workspace.root / notebook).resolve()
    problem = notebook_path_problem(path, notebook, workspace.root)
    if problem:
        raise InvalidInputError(problem)
    if kernel:
        choose_kernel(path, kernel)  # not installed: a clear error before anything starts
    info = read_notebook(path)
    problems: list[str] = [info.parameters_problem] if info.parameters_problem else []
    parameters = apply_parameters(info, overrides or {}, notebook=notebook, problems=problems)
    if problems:
        raise PipelineSpecError(*problems)
    relative = str(path.relative_to(workspace.root))
    stage_name = re.sub(r"\W", "_", path.stem) or "notebook"
    stage = StageSpec(
        name=stage_name,
        notebook=relative,
        parameters=parameters,
        source_hash=info.source_hash,
        parameter_specs=info.parameters,
        kernel=kernel,
    )
    return PipelineSpec(name=NOTEBOOK_PREFIX + relative, description="", stages=(stage,))


def notebook_path_problem(path: Path, given: str | Path, root: Path) -> str | None:
    """Why ``path`` (resolved; ``given`` as the user wrote it) cannot be run, or None."""
    if not path.is_relative_to(root.resolve()):
        return f"{given} is outside the workspace {root}."
    if not path.exists():
        return f"{given} does not exist in the workspace {root}."
    if path.suffix != ".ipynb" or not path.is_file():
        return f"{given} is not a notebook (.ipynb file) in the workspace."
    return None


def resolve_pipeline(
    workspace: Workspace,
    *,
    pipeline: str | None = None,
    notebook: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    kernel: str | None = None,
) -> PipelineSpec:
    if pipeline and notebook:
        raise InvalidInputError("Give either a pipeline or a notebook, not both.")
    if kernel and not notebook:
        raise InvalidInputError(
            "--kernel goes with --notebook; a pipeline's stage names its kernel in "
            "mlops_lab.yaml ('kernel:')."
        )
    if notebook:
        return notebook_pipeline(workspace, notebook, overrides, kernel=kernel)
    if pipeline and pipeline.startswith(NOTEBOOK_PREFIX):
        return notebook_pipeline(workspace, pipeline.removeprefix(NOTEBOOK_PREFIX), overrides)
    return load_pipeline(workspace, pipeline, overrides=overrides)


def run_pipeline(
    workspace: Workspace,
    spec: PipelineSpec,
    options: RunOptions,
    *,
    on_event: Callable[[RunEvent], None] | None = None,
) -> RunRecord:
    """Run to the end in this process (blocking)."""
    return Runner(workspace, spec, options, on_event=on_event).run()


def run_trigger(
    workspace: Workspace,
    spec: PipelineSpec,
    trigger: str,
    options: RunOptions,
    *,
    on_event: Callable[[RunEvent], None] | None = None,
    decision: Decision | None = None,
) -> tuple[dict[str, Any], RunRecord | None]:
    """Decide (ci or ct) and run if needed; alerts that caused a successful run are closed.

    ``decision``: one already taken (by :func:`decide`)."""
    if decision is None:
        decision = decide(workspace, spec, trigger)
    if not decision.run:
        return decision.to_dict(), None
    opts = RunOptions(
        **{
            **options.__dict__,
            "trigger": trigger,
            "reason": decision.reason,
            "force_stages": decision.force_stages,
        }
    )
    record = run_pipeline(workspace, spec, opts, on_event=on_event)
    if record.status == "succeeded" and decision.alerts:
        close_alerts(workspace.catalog, decision.alerts, record.id, seen_before=decision.decided_at)
    return decision.to_dict(), record


def decide(workspace: Workspace, spec: PipelineSpec, trigger: str) -> Decision:
    """Whether ``trigger`` (ci or ct) runs ``spec`` now, which stages, and why; with the
    catalog's time before deciding (an alert raised again after it is not closed by the run)."""
    [(decided_at,)] = workspace.catalog.read("SELECT current_timestamp")
    decision = (ci_decision if trigger == "ci" else ct_decision)(workspace, spec)
    return replace(decision, decided_at=decided_at)


def launch_run(
    workspace: Workspace,
    *,
    pipeline: str | None = None,
    notebook: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    force: bool = False,
    only: str | None = None,
    from_stage: str | None = None,
    trigger: str = "api",
) -> str:
    """Validate and record a run, then carry it out in a background runner process."""
    spec = resolve_pipeline(workspace, pipeline=pipeline, notebook=notebook, overrides=parameters)
    # Validate the selection here so a bad request is a 4xx, not a failed run.
    Runner(workspace, spec, RunOptions(only=only, from_stage=from_stage))
    run_id = new_run_id()
    books.create_run(
        workspace.catalog,
        run_id=run_id,
        pipeline=spec,
        trigger=trigger,
        reason="",
        parameters=dict(parameters or {}),
        git=books.git_state(workspace.root),
    )
    command = [
        sys.executable,
        "-m",
        "mlops_lab",
        "--workspace",
        str(workspace.root),
        "run",
        spec.name,
        "--run-id",
        run_id,
    ]
    for key, value in (parameters or {}).items():
        command += ["-p", f"{key}={json.dumps(value)}"]
    if force:
        command.append("--force")
    if only:
        command += ["--only", only]
    if from_stage:
        command += ["--from", from_stage]
    log_dir = workspace.state_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{run_id}.log").open("wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=workspace.root,
        )
    # Until the runner claims the run, a crash of the child must still be noticed.
    books.record_runner(workspace.catalog, run_id, process.pid)
    return run_id


def request_cancel(workspace: Workspace, run_id: str) -> str:
    """Ask a running run to stop: "cancelling" while its runner stops it, or "cancelled"
    at once when its runner is gone (killed)."""
    catalog = workspace.catalog
    folder = liveness.runners_dir(catalog)

    def work(con: duckdb.DuckDBPyConnection) -> str:
        row = con.execute(
            "SELECT status, runner_host, runner_pid FROM runs WHERE id = ?", [run_id]
        ).fetchone()
        if row is None:
            raise RunNotFoundError(run_id)
        status, host, pid = row
        if status != "running":
            raise ConflictError(f"Run {run_id} is {status}; only a running run can be cancelled.")
        con.execute("UPDATE runs SET cancel_requested = true WHERE id = ?", [run_id])
        if liveness.runner_alive(folder, run_id, host, pid):
            return "cancelling"
        books.close_run(con, run_id, "cancelled", _CANCELLED_DEAD)
        return "cancelled"

    outcome = catalog.transaction(work)
    if outcome == "cancelled":
        liveness.forget_runner(catalog, run_id)
    return outcome


def _stage_record(workspace: Workspace, run_id: str, stage: str) -> Any:
    record = get_run(workspace.catalog, run_id)
    for item in record.stages:
        if item.stage == stage:
            return item
    known = ", ".join(s.stage for s in record.stages)
    raise NotFoundError(f"Run {run_id} has no stage {stage!r} (stages: {known}).")


def executed_notebook(workspace: Workspace, run_id: str, stage: str) -> bytes:
    """The executed notebook of a stage run (for a cached stage: the run it reused)."""
    item = _stage_record(workspace, run_id, stage)
    if not item.executed_notebook:
        raise NotFoundError(
            f"Stage {stage!r} of run {run_id} has no executed notebook (status {item.status})."
        )
    return workspace.artifacts.get_bytes(item.executed_notebook)


def open_executed_notebook(
    workspace: Workspace, run_id: str, stage: str, server_root: Path
) -> dict[str, Any]:
    """Write a read-only copy where JupyterLab can open it; return its path, the failing
    cell's index in that copy (``cell``, from 0, to scroll to) and its number in the saved
    notebook (``notebook_cell``, from 1).

    The copy stays in the workspace (``mlops-lab-runs/``, git-ignored, a read-only file):
    JupyterLab opens files under its server root only. Its metadata ``mlops_lab.executed``
    (run, stage, source notebook, status) marks it: the frontend opens it read-only, without
    a kernel, titled ``name.ipynb (run r..., executed)``."""
    item = _stage_record(workspace, run_id, stage)
    data = _marked_copy(executed_notebook(workspace, run_id, stage), item)
    folder = workspace.root / OPEN_FOLDER / run_id
    folder.mkdir(parents=True, exist_ok=True)
    ignore = workspace.root / OPEN_FOLDER / ".gitignore"
    if not ignore.exists():
        ignore.write_text(
            "# read-only copies of executed notebooks opened from the Runs panel\n*\n"
        )
    target = folder / f"{stage}.ipynb"
    if target.exists():
        target.chmod(stat.S_IRUSR | stat.S_IWUSR)
    target.write_bytes(data)
    target.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    try:
        relative = target.relative_to(server_root.resolve())
    except ValueError as exc:
        raise InvalidInputError(
            f"The workspace {workspace.root} is not under the server's folder {server_root}."
        ) from exc
    return {
        "path": relative.as_posix(),
        "cell": _failing_cell_of_copy(data) if item.status != "succeeded" else None,
        "notebook_cell": item.error_cell,
    }


def _marked_copy(data: bytes, item: Any) -> bytes:
    """The executed notebook with ``metadata.mlops_lab.executed`` saying what it records,
    every cell ``editable: false`` and ``deletable: false`` (nbformat's read-only marks)."""
    try:
        document = json.loads(data)
    except ValueError:
        return data
    if not isinstance(document, dict) or not isinstance(document.get("metadata"), dict):
        return data
    for cell in document.get("cells") or []:  # nbformat's own read-only marks, per cell
        if isinstance(cell, dict) and isinstance(cell.setdefault("metadata", {}), dict):
            cell["metadata"].update(editable=False, deletable=False)
    document["metadata"].setdefault("mlops_lab", {})["executed"] = {
        "run_id": item.run_id,
        "stage": item.stage,
        "notebook": item.notebook,
        "status": item.status,
    }
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _failing_cell_of_copy(data: bytes) -> int | None:
    """Index, in the executed copy, of the cell that raised or was running when it stopped
    (the copy holds papermill's banner and injected cells: not the saved notebook's index)."""
    try:
        cells = json.loads(data).get("cells")
    except (ValueError, AttributeError):
        return None
    return examine([], cells, finished=False).executed_cell if isinstance(cells, list) else None


def compare_runs(workspace: Workspace, a: str, b: str) -> dict[str, Any]:
    """Parameters and metrics that differ between two runs (per stage); each metric says
    which way it improves and whether going from ``a`` to ``b`` is ``better`` or ``worse``
    (:mod:`mlops_lab.metric_direction`)."""
    first, second = get_run(workspace.catalog, a), get_run(workspace.catalog, b)

    def params(run: RunRecord) -> dict[tuple[str, str], Any]:
        return {(s.stage, k): v for s in run.stages for k, v in s.parameters.items()}

    def metrics(run: RunRecord) -> dict[tuple[str, str], float]:
        return {(stage, k): v for stage, values in run.metrics.items() for k, v in values.items()}

    pa, pb = params(first), params(second)
    ma, mb = metrics(first), metrics(second)
    return {
        "a": a,
        "b": b,
        "parameters": [
            {"stage": s, "name": n, "a": pa.get((s, n)), "b": pb.get((s, n))}
            for s, n in sorted(pa.keys() | pb.keys())
            if pa.get((s, n)) != pb.get((s, n))
        ],
        "metrics": [
            {
                "stage": s,
                "name": n,
                "a": ma.get((s, n)),
                "b": mb.get((s, n)),
                "delta": (mb[(s, n)] - ma[(s, n)]) if (s, n) in ma and (s, n) in mb else None,
                "higher_is_better": higher_is_better(n),
                "change": change(n, ma.get((s, n)), mb.get((s, n))),
            }
            for s, n in sorted(ma.keys() | mb.keys())
            if ma.get((s, n)) != mb.get((s, n))
        ],
    }

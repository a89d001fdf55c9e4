"""How a stage whose notebook ran ends: what it saved is checked, then committed, or its
failure is recorded.

Each check runs only if the ones before it passed: the notebook saved every output the
stage declares; each saved dataset passes its data checks (:mod:`mlops_lab.datachecks`);
the stage's ``expect:`` assertions hold (:mod:`mlops_lab.pipelines.assertions`). Only then
are its outputs registered, in one transaction; otherwise nothing of the stage is, and
its executed notebook, error and check results are kept with the stage run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_lab.datachecks import check_entries, record_refused
from mlops_lab.errors import DataCheckError
from mlops_lab.pipelines import bookkeeping as books
from mlops_lab.pipelines.assertions import check_expectations, failure_message
from mlops_lab.pipelines.cellmap import cell_number
from mlops_lab.pipelines.executor import StageOutcome
from mlops_lab.pipelines.spec import StageSpec
from mlops_lab.workspace import Workspace

__all__ = ["StageResult", "finish_stage"]


@dataclass(frozen=True, kw_only=True)
class StageResult:
    """How the stage ended, as recorded in the catalog."""

    status: str  # succeeded, failed or cancelled
    message: str  # for the run's event: the duration, or the error
    outputs: dict[str, Any] | None = None  # what it committed (succeeded only)


def finish_stage(
    workspace: Workspace,
    stage: StageSpec,
    outcome: StageOutcome,
    *,
    run_id: str,
    executed_path: Path,
    checks: list[dict[str, Any]],
    rerun_because: str | None,
) -> StageResult:
    """Check what the stage saved and record it: its outputs, or its failure.

    ``executed_path``: papermill's executed copy (kept if it exists); ``checks``: the
    stage's check results so far (its lint); ``rerun_because``: why a cached result was not
    reused, kept with the observed reads.
    """
    executed = _store_executed(workspace, executed_path)
    missing = _missing_outputs(stage, outcome) if outcome.ok else []
    entries = outcome.entries
    refused: list[tuple[dict[str, Any], DataCheckError]] = []
    checks = list(checks)
    if outcome.ok and not missing:  # datasets checked before anything is committed
        entries, refused = check_entries(workspace, outcome.entries)
        if not refused and stage.expect:
            checks += check_expectations(workspace.catalog, stage.expect, entries)
    unmet = failure_message(checks)
    reads = _reads(outcome, rerun_because)
    if outcome.ok and not missing and not refused and not unmet:
        outputs = books.record_stage_success(
            workspace.catalog,
            run_id=run_id,
            stage=stage.name,
            entries=entries,
            executed=executed,
            duration_s=outcome.duration_s,
            cells_total=outcome.cells_total,
            reads=reads,
            checks=checks or None,
        )
        return StageResult(
            status="succeeded", message=f"{outcome.duration_s:.1f} s", outputs=outputs
        )
    status = "cancelled" if outcome.cancelled else "failed"
    error_name, error_value = outcome.error_name, outcome.error_value
    if missing:
        error_name = "MissingOutputError"
        error_value = f"declared outputs not saved by the notebook: {', '.join(missing)}"
    elif refused:  # nothing of the stage is registered; its checks are kept with the run
        record_refused(workspace, run_id, stage.name, entries)
        error_name = DataCheckError.__name__
        error_value = "\n".join(error.message for _, error in refused)
    elif outcome.ok:  # an assertion failed: nothing was committed
        error_name, error_value = "ExpectationError", f"expectation not met: {unmet}"
    books.record_stage_failure(
        workspace.catalog,
        run_id=run_id,
        stage=stage.name,
        status=status,
        executed=executed,
        duration_s=outcome.duration_s,
        cells_total=outcome.cells_total,
        error_cell=cell_number(outcome.error_cell),
        error_name=error_name,
        error_value=error_value,
        traceback=outcome.traceback,
        reads=reads,
        checks=checks or None,
    )
    where = f" in cell {cell_number(outcome.error_cell)}" if outcome.error_cell is not None else ""
    return StageResult(status=status, message=f"{error_name}{where}: {error_value}")


def _missing_outputs(stage: StageSpec, outcome: StageOutcome) -> list[str]:
    """Outputs the stage declares that its notebook did not save ("dataset x", ...)."""
    saved = {(e.get("type"), e.get("name")) for e in outcome.entries}
    return [
        f"{kind[:-1]} {name}"
        for kind in ("datasets", "artifacts", "models", "metrics")
        for name in stage.outputs.get(kind, ())
        if (kind[:-1], name) not in saved
    ]


def _reads(outcome: StageOutcome, rerun_because: str | None) -> dict[str, Any] | None:
    """The stage's observed reads, with why its cached result was not reused."""
    if outcome.reads is None:
        return None
    return {**outcome.reads, "rerun_because": rerun_because} if rerun_because else outcome.reads


def _store_executed(workspace: Workspace, path: Path) -> tuple[str, int] | None:
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return workspace.artifacts.write_blob(iter(lambda: handle.read(1 << 20), b""))

"""The pipeline runner: resolve the DAG, skip what is cached, run the rest in parallel.

A stage whose cache key has an earlier successful run, whose observed reads
still hold, is reused (status ``cached``; no kernel is started for it): see
:mod:`mlops_lab.pipelines.cache`.

A stage with ``lint: true`` is linted before it starts (:mod:`mlops_lab.pipelines.lint`);
its ``expect:`` assertions are checked after it succeeds and before its outputs are
committed (:mod:`mlops_lab.pipelines.assertions`). Either failing fails the stage, and the
results are kept with the stage run.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_lab.datachecks import check_entries, record_refused
from mlops_lab.datasets import get_dataset_version
from mlops_lab.errors import DataCheckError, InvalidInputError, MlopsLabError, NotFoundError
from mlops_lab.pipelines import bookkeeping as books
from mlops_lab.pipelines.assertions import check_expectations, failure_message
from mlops_lab.pipelines.cache import cache_key, reusable_run
from mlops_lab.pipelines.cellmap import cell_number
from mlops_lab.pipelines.entries import outputs_hash
from mlops_lab.pipelines.executor import (
    KernelRegistry,
    StageJob,
    StageOutcome,
    count_cells,
    execute_stage,
)
from mlops_lab.pipelines.kernels import choose_kernel
from mlops_lab.pipelines.lint import lint_settings, notebook_check
from mlops_lab.pipelines.records import RunRecord, get_run, new_run_id
from mlops_lab.pipelines.selection import not_selected_reason, select, with_ancestors
from mlops_lab.pipelines.spec import PipelineSpec, StageSpec
from mlops_lab.workspace import Workspace

__all__ = ["RunEvent", "RunOptions", "Runner", "cache_key"]

_DONE_OK = ("succeeded", "cached")


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    force: bool = False
    only: str | None = None
    from_stage: str | None = None
    trigger: str = "manual"
    reason: str = ""
    run_id: str | None = None  # a run already recorded (by the REST API) to carry out
    parameters: dict[str, Any] = field(default_factory=dict)  # the overrides, for the record
    force_stages: frozenset[str] = frozenset()  # run these even if cached (ci trigger)
    stage_runner: Callable[[StageJob], StageOutcome] | None = None  # e.g. a Dask submitter


@dataclass(frozen=True, kw_only=True)
class RunEvent:
    run_id: str
    stage: str | None
    status: str
    cells_done: int | None = None
    cells_total: int | None = None
    message: str = ""


class _StageError(Exception):
    """A stage cannot start (e.g. a declared input has no version)."""


class Runner:
    """Carry out one run of a pipeline; :meth:`run` blocks until it ends."""

    def __init__(
        self,
        workspace: Workspace,
        pipeline: PipelineSpec,
        options: RunOptions | None = None,
        *,
        on_event: Callable[[RunEvent], None] | None = None,
    ) -> None:
        self.workspace = workspace
        self.pipeline = pipeline
        self.options = options or RunOptions()
        if self.options.jobs < 1:
            raise InvalidInputError("--jobs must be at least 1.")
        self._on_event = on_event
        self._status: dict[str, str] = {s.name: "pending" for s in pipeline.stages}
        self._outputs_hash: dict[str, str] = {}
        self._outputs: dict[str, dict[str, Any]] = {}
        self._registry = KernelRegistry()
        self._lock = threading.Lock()
        self._progress_pending: dict[str, int] = {}  # cells done, not yet in the catalog
        self._rerun_because: dict[str, str] = {}  # why a cached result was not reused
        self._checks: dict[str, list[dict[str, Any]]] = {}  # a stage's lint, before it ran
        # a stage's `lint: true` uses ci.lint's rules (a bad setting: an error before the run)
        linted = any(s.lint for s in pipeline.stages)
        self._lint_settings = lint_settings(workspace) if linted else None
        self.run_id = self.options.run_id or new_run_id()
        self._scratch = workspace.state_dir / "runs" / self.run_id
        self._log_dir = workspace.state_dir / "logs" / self.run_id
        self._selected = self._selection()
        self._needed = with_ancestors(pipeline, self._selected)

    # -- selection and keys -----------------------------------------------------

    def _selection(self) -> set[str]:
        return select(self.pipeline, self.options.only, self.options.from_stage)

    def _input_hashes(self, stage: StageSpec) -> dict[str, str]:
        """Content hash of each declared input: the version an upstream stage produced in
        this run (fresh or cached), else the latest version in the catalog (an optional
        dataset without a version yet is left out)."""
        hashes: dict[str, str] = {}
        produced = self._upstream_outputs(stage)["datasets"]
        for name in stage.inputs.get("datasets", ()):
            if name in produced:
                hashes[f"dataset:{name}"] = produced[name]["hash"]
                continue
            try:
                hashes[f"dataset:{name}"] = get_dataset_version(self.workspace, name).artifact_hash
            except NotFoundError as exc:
                raise _StageError(
                    f"declared input dataset {name!r} has no version yet; add the stage that "
                    "saves it to this stage's 'needs', or save it first"
                ) from exc
        for name in stage.inputs.get("optional_datasets", ()):
            if name in produced:
                hashes[f"dataset:{name}"] = produced[name]["hash"]
                continue
            try:  # none yet: the key is the one without it
                hashes[f"dataset:{name}"] = get_dataset_version(self.workspace, name).artifact_hash
            except NotFoundError:
                continue
        for name in stage.inputs.get("feature_views", ()):
            hashes[f"feature_view:{name}"] = name
        return hashes

    def _key(self, stage: StageSpec) -> tuple[str, dict[str, str]]:
        inputs = self._input_hashes(stage)
        upstream = {need: self._outputs_hash[need] for need in stage.needs}
        return cache_key(stage, upstream, inputs), inputs

    # -- events -----------------------------------------------------------------

    def _emit(self, stage: str | None, status: str, **extra: Any) -> None:
        if stage is not None:
            with self._lock:
                self._status[stage] = status
        if self._on_event is not None:
            self._on_event(RunEvent(run_id=self.run_id, stage=stage, status=status, **extra))

    def _progress(self, stage: str, done: int, total: int) -> None:
        """Called by papermill's thread after each cell: never waits for the catalog."""
        self._emit(stage, "running", cells_done=done, cells_total=total)
        with self._lock:
            self._progress_pending[stage] = done

    def _heartbeat(self) -> bool:
        """Every half second: write cell progress, read the cancel flag (one transaction)."""
        with self._lock:
            pending, self._progress_pending = self._progress_pending, {}
        return books.heartbeat(self.workspace.catalog, self.run_id, pending)

    # -- the run ------------------------------------------------------------------

    def run(self) -> RunRecord:
        catalog = self.workspace.catalog
        books.interrupt_dead_runs(catalog)
        if self.options.run_id is None:
            books.create_run(
                catalog,
                run_id=self.run_id,
                pipeline=self.pipeline,
                trigger=self.options.trigger,
                reason=self.options.reason,
                parameters=self.options.parameters,
                git=books.git_state(self.workspace.root),
            )
        else:
            books.claim_run(catalog, self.run_id)
        self._emit(None, "running")
        for stage in self.pipeline.stages:
            if stage.name not in self._needed:  # --only / --from left it out, nothing needs it
                books.update_stage(catalog, self.run_id, stage.name, status="not_selected")
                self._emit(stage.name, "not_selected", message=self._why_not_selected())
        error: str | None = None
        cancelled = False
        try:
            cancelled = self._schedule()
        except KeyboardInterrupt:
            cancelled = True
            self._cancel_running()
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            failed = any(s == "failed" for s in self._status.values())
            status = "cancelled" if cancelled else "failed" if failed or error else "succeeded"
            books.finish_run(catalog, self.run_id, status, error)
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._emit(None, status)
        return get_run(catalog, self.run_id)

    def _schedule(self) -> bool:
        """Start stages as their needs finish; return True if the run was cancelled."""
        running: dict[Future[None], str] = {}
        last_beat = time.monotonic()
        with ThreadPoolExecutor(max_workers=self.options.jobs, thread_name_prefix="stage") as pool:
            while True:
                for stage in self._ready():
                    if len(running) >= self.options.jobs:
                        break  # stays pending (not queued) until a slot frees
                    future = self._start(stage, pool)
                    if future is not None:
                        running[future] = stage.name
                if not running:
                    if not self._ready():
                        return False
                    continue
                done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    future.result()  # a bug in the runner itself must not pass silently
                if running and time.monotonic() - last_beat >= 0.5:
                    last_beat = time.monotonic()
                    if self._heartbeat():
                        self._cancel_running()
                        wait(running)
                        return True

    def _ready(self) -> list[StageSpec]:
        with self._lock:
            status = dict(self._status)
        ready = []
        for stage in self.pipeline.stages:
            if status[stage.name] != "pending":
                continue
            needs = [status[n] for n in stage.needs]
            if any(n not in _DONE_OK and n not in ("pending", "running") for n in needs):
                self._skip(stage, "an upstream stage did not succeed")
                continue
            if all(n in _DONE_OK for n in needs):
                ready.append(stage)
        return ready

    def _why_not_selected(self) -> str:
        return not_selected_reason(self.options.only, self.options.from_stage)

    def _skip(self, stage: StageSpec, why: str) -> None:
        books.update_stage(self.workspace.catalog, self.run_id, stage.name, status="skipped")
        self._emit(stage.name, "skipped", message=why)

    def _start(self, stage: StageSpec, pool: ThreadPoolExecutor) -> Future[None] | None:
        catalog = self.workspace.catalog
        try:
            key, inputs = self._key(stage)
        except _StageError as exc:
            self._fail_before_start(stage, str(exc))
            return None
        selected = stage.name in self._selected
        forced = selected and (self.options.force or stage.name in self.options.force_stages)
        total = count_cells(self.workspace.root / stage.notebook, stage.parameters)
        valid, stale = reusable_run(self.workspace, key) if not forced else (None, None)
        try:  # a cached stage needs no kernel: a missing one fails only a stage that runs
            kernel, problem = choose_kernel(self.workspace.root / stage.notebook, stage.kernel), ""
        except MlopsLabError as exc:
            kernel, problem = None, exc.message
        execution = (
            None
            if kernel is None
            else {
                "kernel": kernel.name,
                "kernel_asked": kernel.asked,
                "note": kernel.note,
                "timeout": stage.timeout,
                "cell_timeout": stage.cell_timeout,
            }
        )
        outcome, cached = books.begin_stage(
            catalog,
            run_id=self.run_id,
            stage=stage.name,
            key=key,
            inputs=inputs,
            reuse=valid is not None,
            may_run=selected,
            cells_total=total,
            cached_run=valid,
            execution=execution,
        )
        if cached is not None:
            self._outputs_hash[stage.name] = cached.outputs_hash
            self._outputs[stage.name] = cached.outputs
            because = "" if selected else f"{self._why_not_selected()}, needed: "
            self._emit(stage.name, "cached", message=f"{because}from run {cached.run_id}")
            return None
        if outcome == "missing":
            self._fail_before_start(
                stage,
                "not selected by --only/--from and no cached result matches its current code, "
                "parameters and inputs" + (f" ({stale})" if stale else "") + "; run it first",
            )
            return None
        if kernel is None:
            self._fail_before_start(stage, problem)
            return None
        if stage.lint and not self._lint(stage):
            return None
        if stale:
            self._rerun_because[stage.name] = stale
        message = "; ".join(m for m in (stale, kernel.note) if m)
        self._emit(stage.name, "running", cells_done=0, cells_total=total, message=message)
        return pool.submit(self._execute, stage, kernel.name)

    def _lint(self, stage: StageSpec) -> bool:
        """Lint the stage's notebook (``lint: true``); False: it failed the stage."""
        assert self._lint_settings is not None
        check = notebook_check(self.workspace.root, stage.notebook, self._lint_settings)
        self._checks[stage.name] = [check]
        if check["status"] == "failed":
            self._fail_before_start(stage, check["message"], name="LintError")
            return False
        return True

    def _fail_before_start(
        self, stage: StageSpec, message: str, *, name: str = "StageNotStarted"
    ) -> None:
        books.record_stage_failure(
            self.workspace.catalog,
            run_id=self.run_id,
            stage=stage.name,
            status="failed",
            executed=None,
            duration_s=None,
            cells_total=None,
            error_cell=None,
            error_name=name,
            error_value=message,
            traceback=None,
            checks=self._checks.get(stage.name),
        )
        self._emit(stage.name, "failed", message=message)

    def _job(self, stage: StageSpec, kernel: str | None = None) -> StageJob:
        folder = self._scratch / stage.name
        folder.mkdir(parents=True, exist_ok=True)
        self._log_dir.mkdir(parents=True, exist_ok=True)
        return StageJob(
            workspace_root=str(self.workspace.root),
            run_id=self.run_id,
            stage=stage.name,
            notebook=stage.notebook,
            source_hash=stage.source_hash,
            parameters=stage.parameters,
            output_path=str(folder / "executed.ipynb"),
            manifest_path=str(folder / "manifest.jsonl"),
            timeout=stage.timeout,
            cell_timeout=stage.cell_timeout,
            kernel_name=kernel,
            upstream=self._upstream_outputs(stage),
            kernel_log=str(self._log_dir / f"{stage.name}.kernel.log"),
        )

    def _upstream_outputs(self, stage: StageSpec) -> dict[str, dict[str, Any]]:
        """Datasets, artifacts and models of every stage ``stage`` needs (nearest wins)."""
        ancestors: list[str] = []
        pending = list(stage.needs)
        while pending:
            name = pending.pop()
            if name not in ancestors:
                ancestors.append(name)
                pending.extend(self.pipeline.stage(name).needs)
        merged: dict[str, dict[str, Any]] = {"datasets": {}, "artifacts": {}, "models": {}}
        for name in reversed(ancestors):
            for kind in merged:
                merged[kind].update(self._outputs.get(name, {}).get(kind, {}))
        return merged

    def _execute(self, stage: StageSpec, kernel: str | None = None) -> None:
        job = self._job(stage, kernel)
        if self.options.stage_runner is not None:
            outcome = self.options.stage_runner(job)
        else:
            outcome = execute_stage(
                job,
                on_progress=lambda done, total: self._progress(stage.name, done, total),
                registry=self._registry,
            )
        executed = self._store_executed(Path(job.output_path))
        missing = _missing_outputs(stage, outcome) if outcome.ok else []
        entries = outcome.entries
        refused: list[tuple[dict[str, Any], DataCheckError]] = []
        checks = list(self._checks.get(stage.name, []))
        if outcome.ok and not missing:  # datasets checked before anything is committed
            entries, refused = check_entries(self.workspace, outcome.entries)
            if not refused and stage.expect:
                checks += check_expectations(self.workspace.catalog, stage.expect, entries)
        unmet = failure_message(checks)
        if outcome.ok and not missing and not refused and not unmet:
            outputs = books.record_stage_success(
                self.workspace.catalog,
                run_id=self.run_id,
                stage=stage.name,
                entries=entries,
                executed=executed,
                duration_s=outcome.duration_s,
                cells_total=outcome.cells_total,
                reads=self._reads(stage, outcome),
                checks=checks or None,
            )
            self._outputs_hash[stage.name] = outputs_hash(outputs)
            self._outputs[stage.name] = outputs
            self._emit(stage.name, "succeeded", message=f"{outcome.duration_s:.1f} s")
            return
        status = "cancelled" if outcome.cancelled else "failed"
        error_name, error_value = outcome.error_name, outcome.error_value
        if missing:
            error_name = "MissingOutputError"
            error_value = f"declared outputs not saved by the notebook: {', '.join(missing)}"
        elif refused:  # nothing of the stage is registered; its checks are kept with the run
            record_refused(self.workspace, self.run_id, stage.name, entries)
            error_name = DataCheckError.__name__
            error_value = "\n".join(error.message for _, error in refused)
        elif outcome.ok:  # an assertion failed: nothing was committed
            error_name, error_value = "ExpectationError", f"expectation not met: {unmet}"
        books.record_stage_failure(
            self.workspace.catalog,
            run_id=self.run_id,
            stage=stage.name,
            status=status,
            executed=executed,
            duration_s=outcome.duration_s,
            cells_total=outcome.cells_total,
            error_cell=cell_number(outcome.error_cell),
            error_name=error_name,
            error_value=error_value,
            traceback=outcome.traceback,
            reads=self._reads(stage, outcome),
            checks=checks or None,
        )
        where = (
            f" in cell {cell_number(outcome.error_cell)}" if outcome.error_cell is not None else ""
        )
        self._emit(stage.name, status, message=f"{error_name}{where}: {error_value}")

    def _reads(self, stage: StageSpec, outcome: StageOutcome) -> dict[str, Any] | None:
        """The stage's observed reads, with why its cached result was not reused."""
        if outcome.reads is None:
            return None
        because = self._rerun_because.get(stage.name)
        return {**outcome.reads, "rerun_because": because} if because else outcome.reads

    def _store_executed(self, path: Path) -> tuple[str, int] | None:
        if not path.exists():
            return None
        with path.open("rb") as handle:
            return self.workspace.artifacts.write_blob(iter(lambda: handle.read(1 << 20), b""))

    def _cancel_running(self) -> None:
        with self._lock:
            running = [name for name, status in self._status.items() if status == "running"]
        for name in running:
            self._registry.cancel(f"{self.run_id}/{name}")


def _missing_outputs(stage: StageSpec, outcome: StageOutcome) -> list[str]:
    """Outputs the stage declares that its notebook did not save ("dataset x", ...)."""
    saved = {(e.get("type"), e.get("name")) for e in outcome.entries}
    return [
        f"{kind[:-1]} {name}"
        for kind in ("datasets", "artifacts", "models", "metrics")
        for name in stage.outputs.get(kind, ())
        if (kind[:-1], name) not in saved
    ]

"""The pipeline runner: resolve the DAG, skip what is cached, run the rest in parallel.

A stage whose cache key (:mod:`mlops_lab.pipelines.stage_inputs`) has an earlier
successful run, whose observed reads still hold, is reused (status ``cached``; no kernel
is started for it): see :mod:`mlops_lab.pipelines.cache`.

A stage with ``lint: true`` is linted before it starts (:mod:`mlops_lab.pipelines.lint`);
its ``expect:`` assertions are checked after it succeeds and before its outputs are
committed (:mod:`mlops_lab.pipelines.stage_result`, with
:mod:`mlops_lab.pipelines.assertions`). Either failing fails the stage, and the results
are kept with the stage run.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from mlops_lab.errors import InvalidInputError, MlopsLabError
from mlops_lab.pipelines import bookkeeping as books
from mlops_lab.pipelines.cache import reusable_run
from mlops_lab.pipelines.entries import outputs_hash
from mlops_lab.pipelines.executor import KernelRegistry, count_cells, execute_stage
from mlops_lab.pipelines.kernels import choose_kernel
from mlops_lab.pipelines.lint import lint_settings, notebook_check
from mlops_lab.pipelines.records import RunRecord, get_run, new_run_id
from mlops_lab.pipelines.run_options import RunEvent, RunOptions
from mlops_lab.pipelines.selection import not_selected_reason, select, with_ancestors
from mlops_lab.pipelines.spec import PipelineSpec, StageSpec
from mlops_lab.pipelines.stage_inputs import (
    MissingInputError,
    stage_job,
    stage_key,
    upstream_outputs,
)
from mlops_lab.pipelines.stage_result import finish_stage
from mlops_lab.workspace import Workspace

__all__ = ["Runner"]

_DONE_OK = ("succeeded", "cached")


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

    # -- selection ----------------------------------------------------------------

    def _selection(self) -> set[str]:
        return select(self.pipeline, self.options.only, self.options.from_stage)

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
            key, inputs = stage_key(
                self.workspace,
                self.pipeline,
                stage,
                outputs=self._outputs,
                outputs_hash=self._outputs_hash,
            )
        except MissingInputError as exc:
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

    def _execute(self, stage: StageSpec, kernel: str | None = None) -> None:
        job = stage_job(
            self.workspace,
            stage,
            run_id=self.run_id,
            kernel=kernel,
            scratch=self._scratch,
            log_dir=self._log_dir,
            upstream=upstream_outputs(self.pipeline, stage, self._outputs),
        )
        if self.options.stage_runner is not None:
            outcome = self.options.stage_runner(job)
        else:
            outcome = execute_stage(
                job,
                on_progress=lambda done, total: self._progress(stage.name, done, total),
                registry=self._registry,
            )
        result = finish_stage(
            self.workspace,
            stage,
            outcome,
            run_id=self.run_id,
            executed_path=Path(job.output_path),
            checks=self._checks.get(stage.name, []),
            rerun_because=self._rerun_because.get(stage.name),
        )
        if result.outputs is not None:
            self._outputs_hash[stage.name] = outputs_hash(result.outputs)
            self._outputs[stage.name] = result.outputs
        self._emit(stage.name, result.status, message=result.message)

    def _cancel_running(self) -> None:
        with self._lock:
            running = [name for name, status in self._status.items() if status == "running"]
        for name in running:
            self._registry.cancel(f"{self.run_id}/{name}")

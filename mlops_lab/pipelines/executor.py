"""Execute one stage's notebook with papermill in a fresh kernel.

The kernel gets the stage's identity in its environment (so
``mlops_lab.context()`` knows the run, stage and manifest), starts in the
notebook's folder, and is shut down immediately after the last cell: a
graceful shutdown sometimes waits seconds for a kernel that does not exit.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from mlops_lab._stage_env import (
    ENV_MANIFEST,
    ENV_NOTEBOOK,
    ENV_PARAMETERS,
    ENV_RUN_ID,
    ENV_SOURCE_HASH,
    ENV_STAGE,
    ENV_UPSTREAM,
)
from mlops_lab.errors import MlopsLabError
from mlops_lab.pipelines.cellmap import by_execution_count
from mlops_lab.pipelines.deadline import Deadline
from mlops_lab.pipelines.kernels import choose_kernel
from mlops_lab.pipelines.reads import ENV_READS_LOG, collect_reads, observer_command, reads_log
from mlops_lab.pipelines.verdict import judge, read_cells
from mlops_lab.workspace import ENV_HOME

__all__ = [
    "CellProgress",
    "StageJob",
    "StageOutcome",
    "count_cells",
    "execute_stage",
]

CellProgress = Callable[[int, int], None]  # (cells done, cells total)


@dataclass(frozen=True, kw_only=True)
class StageJob:
    """Everything a worker needs to run a stage (plain data: it may cross to a Dask worker)."""

    workspace_root: str
    run_id: str
    stage: str
    notebook: str  # relative to the workspace root
    parameters: dict[str, Any]
    output_path: str  # where the executed notebook is written
    manifest_path: str  # where the context API records outputs
    timeout: float | None = None  # seconds for the whole run, from its first cell's start
    kernel_name: str | None = None  # None: the notebook's kernel (or the workspace's Python)
    cell_timeout: float | None = None  # seconds any one cell may take
    # Datasets and artifacts produced by the stages this one needs (transitively), so
    # load_dataset / load_artifact read exactly those, even when they came from the cache.
    upstream: dict[str, dict[str, Any]] = field(default_factory=dict)
    kernel_log: str | None = None  # where the kernel process's stdout and stderr go
    source_hash: str = ""  # the notebook's content hash, recorded by models it registers
    observe_reads: bool = True  # record what the kernel reads (mlops_lab.pipelines.reads)


@dataclass(frozen=True, kw_only=True)
class StageOutcome:
    ok: bool
    duration_s: float
    cells_total: int
    cancelled: bool = False
    timed_out: bool = False  # the whole run's deadline (StageJob.timeout) killed the kernel
    # The cell that raised, or was running when the run stopped: 0-based index among the
    # saved notebook's cells (shown from 1), and its index in the executed copy.
    error_cell: int | None = None
    executed_cell: int | None = None
    not_run: tuple[int, ...] = ()  # saved notebook indexes of code cells that never started
    kernel: str | None = None  # the kernelspec that ran it
    note: str | None = None  # e.g. the notebook's kernel is not installed: which one ran it
    error_name: str | None = None
    error_value: str | None = None
    traceback: str | None = None
    entries: list[dict[str, Any]] = field(default_factory=list)
    reads: dict[str, Any] | None = None  # what the kernel read (mlops_lab.pipelines.reads)


class KernelRegistry:
    """Kernels of running stages, so a cancel can stop them mid-cell."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kernels: dict[str, Any] = {}
        self.cancelled: set[str] = set()

    def add(self, key: str, manager: Any) -> None:
        with self._lock:
            self._kernels[key] = manager
            cancelled = key in self.cancelled
        if cancelled:  # the cancel came while the kernel was starting
            _kill(manager)

    def remove(self, key: str) -> None:
        with self._lock:
            self._kernels.pop(key, None)

    def cancel(self, key: str) -> None:
        with self._lock:
            self.cancelled.add(key)
            manager = self._kernels.get(key)
        if manager is not None:
            _kill(manager)


def _kill(manager: Any) -> None:
    # Killing the kernel makes papermill raise in the runner thread at once.
    with suppress(Exception):  # the kernel may already be gone
        manager.provisioner.process.kill()


def _kernel_manager_class(
    env: dict[str, str],
    key: str,
    registry: KernelRegistry | None,
    log: IO[bytes] | None,
    deadline: Deadline | None = None,
) -> type:
    from jupyter_client.manager import AsyncKernelManager

    class StageKernelManager(AsyncKernelManager):
        async def _async_pre_start_kernel(self, **kw: Any) -> Any:
            merged = dict(kw.pop("env", None) or os.environ)
            merged.update(env)
            kw["env"] = merged
            if log is not None:  # keep the kernel's own chatter out of the progress display
                kw["stdout"] = kw["stderr"] = log
            return await super()._async_pre_start_kernel(**kw)

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            return observer_command(super().format_kernel_cmd(extra_arguments), env)

        async def _async_post_start_kernel(self, **kw: Any) -> None:
            await super()._async_post_start_kernel(**kw)
            if registry is not None:
                registry.add(key, self)
            if deadline is not None:
                deadline.bind(lambda: _kill(self))

    return StageKernelManager


def count_cells(path: Path, parameters: dict[str, Any]) -> int:
    """Cells papermill will execute: the code cells, plus the cell it injects when given
    parameters (it injects none without)."""
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    return sum(1 for c in cells if c.get("cell_type") == "code") + (1 if parameters else 0)


def _reads(log: Path | None, root: Path, saved: list[Any], executed: Path) -> dict[str, Any] | None:
    """What the kernel read, each at the saved notebook's cell (from 1)."""
    if log is None:
        return None
    return collect_reads(log, root, by_execution_count(saved, read_cells(executed) or []))


def read_manifest(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# A kernel that dies before its first reply (e.g. a port taken between choosing it and
# binding it, on a busy machine) is started again: no cell has run, nothing is repeated.
KERNEL_START_ATTEMPTS = 3


def died_at_start(error: BaseException) -> bool:
    """Whether papermill's error says the kernel died before it ran anything."""
    return isinstance(error, RuntimeError) and "died before replying to kernel_info" in str(error)


def execute_stage(
    job: StageJob,
    *,
    on_progress: CellProgress | None = None,
    registry: KernelRegistry | None = None,
) -> StageOutcome:
    """Run the notebook; never raises for a notebook error (it is in the outcome)."""
    import papermill

    root = Path(job.workspace_root)
    source = root / job.notebook
    total = count_cells(source, job.parameters)
    env = {
        ENV_HOME: str(root),
        ENV_RUN_ID: job.run_id,
        ENV_STAGE: job.stage,
        ENV_PARAMETERS: json.dumps(job.parameters),
        ENV_MANIFEST: job.manifest_path,
        ENV_UPSTREAM: json.dumps(job.upstream),
        ENV_NOTEBOOK: job.notebook,
        ENV_SOURCE_HASH: job.source_hash,
    }
    log = reads_log(job.manifest_path) if job.observe_reads else None
    if log is not None:
        env[ENV_READS_LOG] = str(log)
    key = f"{job.run_id}/{job.stage}"
    done = 0

    def cell_done(**_: Any) -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done, total)

    Path(job.manifest_path).parent.mkdir(parents=True, exist_ok=True)
    Path(job.manifest_path).write_text("", encoding="utf-8")
    try:
        kernel = choose_kernel(source, job.kernel_name)
    except MlopsLabError as exc:
        return StageOutcome(
            ok=False,
            duration_s=0.0,
            cells_total=total,
            error_name=type(exc).__name__,
            error_value=exc.message,
        )
    saved = read_cells(source) or []  # as run: cell numbers are counted in this
    deadline = Deadline(job.timeout) if job.timeout else None
    kernel_log = Path(job.kernel_log).open("ab") if job.kernel_log else None  # noqa: SIM115
    start = time.perf_counter()
    error: BaseException | None = None
    try:
        for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
            try:
                papermill.execute_notebook(
                    str(source),
                    job.output_path,
                    parameters=job.parameters,
                    cwd=str(source.parent),
                    kernel_name=kernel.name,
                    language=kernel.language,  # a notebook saved without a kernelspec names none
                    progress_bar=False,
                    execution_timeout=job.cell_timeout,
                    kernel_manager_class=_kernel_manager_class(
                        env, key, registry, kernel_log, deadline
                    ),
                    shutdown_kernel="immediate",
                    on_cell_executed=cell_done,
                    on_cell_start=deadline.start if deadline is not None else None,
                )
                break
            except Exception as exc:  # the notebook raised, the kernel died, a timeout...
                error = exc
                cancelled = registry is not None and key in registry.cancelled
                if done or cancelled or not died_at_start(exc) or attempt == KERNEL_START_ATTEMPTS:
                    break
                error = None  # no cell ran: start a fresh kernel
                time.sleep(0.5 * attempt)
    finally:
        if deadline is not None:
            deadline.disarm()
        if registry is not None:
            registry.remove(key)
        if kernel_log is not None:
            kernel_log.close()
    cancelled = registry is not None and key in registry.cancelled
    fields = judge(
        saved,
        Path(job.output_path),
        error,
        timeout=job.timeout,
        cell_timeout=job.cell_timeout,
        timed_out=deadline is not None and deadline.fired,
        cancelled=cancelled,
    )
    return StageOutcome(
        duration_s=time.perf_counter() - start,
        cells_total=total,
        cancelled=cancelled,
        kernel=kernel.name,
        note=kernel.note,
        entries=read_manifest(Path(job.manifest_path)) if fields["ok"] else [],
        reads=_reads(log, root, saved, Path(job.output_path)),
        **fields,
    )

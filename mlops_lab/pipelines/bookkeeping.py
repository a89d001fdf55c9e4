"""The runner's writes to the catalog: each a short transaction of its own."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from mlops_lab.artifacts import register_artifact
from mlops_lab.catalog import Catalog
from mlops_lab.manifest import apply_entries
from mlops_lab.pipelines import liveness
from mlops_lab.pipelines.entries import outputs_hash
from mlops_lab.pipelines.spec import PipelineSpec

__all__ = [
    "CachedResult",
    "GitState",
    "begin_stage",
    "cache_candidates",
    "claim_run",
    "close_run",
    "create_run",
    "finish_run",
    "git_state",
    "heartbeat",
    "interrupt_dead_runs",
    "record_runner",
    "record_stage_failure",
    "record_stage_success",
    "update_stage",
]


@dataclass(frozen=True, kw_only=True)
class GitState:
    commit: str | None
    dirty: bool | None


@dataclass(frozen=True, kw_only=True)
class CachedResult:
    run_id: str
    outputs: dict[str, Any]
    outputs_hash: str
    executed_notebook: str | None
    reads: dict[str, Any] | None = None  # what the run read (mlops_lab.pipelines.reads)
    checks: list[dict[str, Any]] | None = None  # its checks' results (pipelines.assertions)


def git_state(root: Path) -> GitState:
    """HEAD and whether the work tree has changes, when ``root`` is in a git repository."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return GitState(commit=None, dirty=None)
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return GitState(commit=None, dirty=None)
    return GitState(commit=commit.stdout.strip(), dirty=bool(status.stdout.strip()))


def create_run(
    catalog: Catalog,
    *,
    run_id: str,
    pipeline: PipelineSpec,
    trigger: str,
    reason: str,
    parameters: dict[str, Any],
    git: GitState,
) -> None:
    """The run row and a pending row per stage, in one transaction."""
    # A one-notebook run ("notebook:<path>") names its notebook on the run too.
    notebook = pipeline.stages[0].notebook if pipeline.name.startswith("notebook:") else None

    def write(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(
            "INSERT INTO runs (id, pipeline, kind, trigger, reason, status, parameters, "
            "git_commit, git_dirty, notebook, runner_host, runner_pid) "
            "VALUES (?, ?, 'pipeline', ?, ?, 'running', ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                pipeline.name,
                trigger,
                reason,
                json.dumps(parameters),
                git.commit,
                git.dirty,
                notebook,
                socket.gethostname(),
                os.getpid(),
            ],
        )
        for position, stage in enumerate(pipeline.stages):
            con.execute(
                "INSERT INTO stage_runs (run_id, stage, position, needs, notebook, source_hash, "
                "parameters, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
                [
                    run_id,
                    stage.name,
                    position,
                    json.dumps(list(stage.needs)),
                    stage.notebook,
                    stage.source_hash,
                    json.dumps(stage.parameters),
                ],
            )

    liveness.record_runner(catalog, run_id, os.getpid())  # before the row names this process
    catalog.transaction(write)


def update_stage(catalog: Catalog, run_id: str, stage: str, **fields: Any) -> None:
    sets = ", ".join(f"{name} = ?" for name in fields)
    values = [json.dumps(v) if isinstance(v, dict | list) else v for v in fields.values()]
    catalog.write(
        f"UPDATE stage_runs SET {sets} WHERE run_id = ? AND stage = ?", [*values, run_id, stage]
    )


_CACHED_SQL = (
    "SELECT run_id, outputs, outputs_hash, executed_notebook, reads, checks FROM stage_runs "
    "WHERE cache_key = ? AND status = 'succeeded'"
)


def _cached(row: Any) -> CachedResult:
    run_id, outputs, digest, notebook, reads, checks = row
    return CachedResult(
        run_id=run_id,
        outputs=json.loads(outputs) if isinstance(outputs, str) else outputs,
        outputs_hash=digest,
        executed_notebook=notebook,
        reads=json.loads(reads) if isinstance(reads, str) else reads,
        checks=json.loads(checks) if isinstance(checks, str) else checks,
    )


def _find_cached(
    con: duckdb.DuckDBPyConnection, cache_key: str, run_id: str | None = None
) -> CachedResult | None:
    """The newest successful execution with this key (of run ``run_id`` if given), if any."""
    sql, params = _CACHED_SQL, [cache_key]
    if run_id is not None:
        sql, params = sql + " AND run_id = ?", [cache_key, run_id]
    row = con.execute(sql + " ORDER BY ended_at DESC LIMIT 1", params).fetchall()
    return _cached(row[0]) if row else None


def cache_candidates(catalog: Catalog, cache_key: str, *, limit: int = 20) -> list[CachedResult]:
    """Successful executions with this key, newest first, to check against their reads
    outside any transaction (hashing files takes time)."""
    rows = catalog.read(f"{_CACHED_SQL} ORDER BY ended_at DESC LIMIT ?", [cache_key, limit])
    return [_cached(row) for row in rows]


def begin_stage(
    catalog: Catalog,
    *,
    run_id: str,
    stage: str,
    key: str,
    inputs: dict[str, str],
    reuse: bool,
    may_run: bool,
    cells_total: int,
    cached_run: str | None = None,
    execution: dict[str, Any] | None = None,
) -> tuple[str, CachedResult | None]:
    """In one transaction: reuse a cached result, or mark the stage running.

    Returns ("cached", result), ("running", None), or ("missing", None) when the
    stage may not run (not selected) and nothing cached matches. ``cached_run``:
    reuse only that run's result (the one whose reads were checked). ``execution``
    (kernel, time limits, a note on the kernel) of a stage that runs is kept with its
    run (its own column, outside its cache key).
    """

    def write(con: duckdb.DuckDBPyConnection) -> tuple[str, CachedResult | None]:
        cached = _find_cached(con, key, cached_run) if reuse else None
        if cached is not None:
            con.execute(
                "UPDATE stage_runs SET status = 'cached', cache_key = ?, inputs = ?, "
                "cached_from = ?, outputs = ?, outputs_hash = ?, executed_notebook = ?, "
                "reads = ?, checks = ?, duration_s = 0, started_at = current_timestamp, "
                "ended_at = current_timestamp WHERE run_id = ? AND stage = ?",
                [
                    key,
                    json.dumps(inputs),
                    cached.run_id,
                    json.dumps(cached.outputs),
                    cached.outputs_hash,
                    cached.executed_notebook,
                    None if cached.reads is None else json.dumps(cached.reads),
                    None if cached.checks is None else json.dumps(cached.checks),
                    run_id,
                    stage,
                ],
            )
            return "cached", cached
        if not may_run:
            return "missing", None
        con.execute(
            "UPDATE stage_runs SET status = 'running', cache_key = ?, inputs = ?, "
            "execution = ?, started_at = current_timestamp, cells_total = ?, cells_done = 0 "
            "WHERE run_id = ? AND stage = ?",
            [
                key,
                json.dumps(inputs),
                None if execution is None else json.dumps(execution),
                cells_total,
                run_id,
                stage,
            ],
        )
        return "running", None

    return catalog.transaction(write)


def heartbeat(catalog: Catalog, run_id: str, cells_done: dict[str, int]) -> bool:
    """Write running stages' cell progress and read whether a cancel was asked for."""

    def sync(con: duckdb.DuckDBPyConnection) -> bool:
        for stage, cells in cells_done.items():
            con.execute(
                "UPDATE stage_runs SET cells_done = ? WHERE run_id = ? AND stage = ? "
                "AND status = 'running'",
                [cells, run_id, stage],
            )
        row = con.execute("SELECT cancel_requested FROM runs WHERE id = ?", [run_id]).fetchall()
        return bool(row and row[0][0])

    return catalog.transaction(sync)


def _store_executed(
    con: duckdb.DuckDBPyConnection, executed: tuple[str, int] | None, run_id: str
) -> str | None:
    if executed is None:
        return None
    register_artifact(
        con, executed[0], size=executed[1], media_type="application/x-ipynb+json", run_id=run_id
    )
    return executed[0]


def record_stage_success(
    catalog: Catalog,
    *,
    run_id: str,
    stage: str,
    entries: list[dict[str, Any]],
    executed: tuple[str, int] | None,
    duration_s: float,
    cells_total: int,
    reads: dict[str, Any] | None = None,
    checks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Register every output of the stage and mark it succeeded, in one transaction
    (``checks``: the results of its checks, all passed)."""

    def write(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        outputs, _ = apply_entries(con, run_id, stage, entries)
        notebook = _store_executed(con, executed, run_id)
        con.execute(
            "UPDATE stage_runs SET status = 'succeeded', ended_at = current_timestamp, "
            "duration_s = ?, cells_total = ?, cells_done = ?, executed_notebook = ?, "
            "outputs = ?, outputs_hash = ?, reads = ?, checks = ? WHERE run_id = ? AND stage = ?",
            [
                duration_s,
                cells_total,
                cells_total,
                notebook,
                json.dumps(outputs),
                outputs_hash(outputs),
                _json_or_null(reads),
                _json_or_null(checks),
                run_id,
                stage,
            ],
        )
        return outputs

    return catalog.transaction(write)


def record_stage_failure(
    catalog: Catalog,
    *,
    run_id: str,
    stage: str,
    status: str,
    executed: tuple[str, int] | None,
    duration_s: float | None,
    cells_total: int | None,
    error_cell: int | None,
    error_name: str | None,
    error_value: str | None,
    traceback: str | None,
    reads: dict[str, Any] | None = None,
    checks: list[dict[str, Any]] | None = None,
) -> None:
    """Mark the stage failed (or cancelled) with its error; only the executed notebook is kept
    (``checks``: the results of its checks, a failed one among them)."""

    def write(con: duckdb.DuckDBPyConnection) -> None:
        notebook = _store_executed(con, executed, run_id)
        con.execute(
            "UPDATE stage_runs SET status = ?, ended_at = current_timestamp, duration_s = ?, "
            "cells_total = ?, executed_notebook = ?, error_cell = ?, error_name = ?, "
            "error_value = ?, traceback = ?, reads = ?, checks = ? WHERE run_id = ? AND stage = ?",
            [
                status,
                duration_s,
                cells_total,
                notebook,
                error_cell,
                error_name,
                error_value,
                traceback,
                _json_or_null(reads),
                _json_or_null(checks),
                run_id,
                stage,
            ],
        )

    catalog.transaction(write)


def _json_or_null(value: dict[str, Any] | list[Any] | None) -> str | None:
    return None if value is None else json.dumps(value)


def finish_run(catalog: Catalog, run_id: str, status: str, error: str | None = None) -> None:
    catalog.transaction(lambda con: close_run(con, run_id, status, error))
    liveness.forget_runner(catalog, run_id)


def close_run(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, error: str | None = None
) -> None:
    """Record the run's end in the caller's transaction; stages never reached (a cancel, or
    a crash in the runner itself) become cancelled or skipped."""
    con.execute(
        "UPDATE runs SET status = ?, ended_at = current_timestamp, error = ? WHERE id = ?",
        [status, error, run_id],
    )
    con.execute(
        "UPDATE stage_runs SET status = ? WHERE run_id = ? AND status IN ('pending', 'running')",
        ["cancelled" if status == "cancelled" else "skipped", run_id],
    )


def interrupt_dead_runs(catalog: Catalog) -> list[str]:
    """Mark runs whose runner process is gone (killed) as interrupted; return their ids."""
    return liveness.settle_dead_runs(catalog)


def claim_run(catalog: Catalog, run_id: str) -> None:
    """Take over a run recorded by someone else (the REST API) as this process's."""
    record_runner(catalog, run_id, os.getpid())


def record_runner(catalog: Catalog, run_id: str, pid: int) -> None:
    """Name process ``pid`` of this host as the run's runner (its lease, then the catalog)."""
    liveness.record_runner(catalog, run_id, pid)
    catalog.write(
        "UPDATE runs SET runner_host = ?, runner_pid = ? WHERE id = ?",
        [socket.gethostname(), pid, run_id],
    )

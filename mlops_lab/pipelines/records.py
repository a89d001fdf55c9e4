"""Runs, stage runs and what they produced, in the catalog.

Run statuses: running, succeeded, failed, cancelled, interrupted (and
``interactive`` for runs recorded from a notebook outside any pipeline).
Stage statuses: pending, running, succeeded, cached, failed, skipped,
cancelled, interrupted, not_selected (left out by ``--only``/``--from`` and
needed by no selected stage).

A stage run's ``error_cell`` is the failing cell's number in the saved
notebook, from 1 (as JupyterLab counts); its ``execution`` says which kernel
ran it, with which time limits, and why when it was not the notebook's own.

What a stage produced is registered by :mod:`mlops_lab.manifest` (every kind of
output, each applied by its own package).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import duckdb

from mlops_lab.catalog import Catalog
from mlops_lab.errors import InvalidInputError, RunNotFoundError
from mlops_lab.pipelines import liveness
from mlops_lab.pipelines.verdict import strip_ansi

__all__ = [
    "RUN_KINDS",
    "RUN_STATUSES",
    "RunRecord",
    "StageRecord",
    "get_run",
    "list_runs",
    "new_run_id",
    "start_interactive_run",
]

T = TypeVar("T")

RUN_STATUSES = ("running", "succeeded", "failed", "cancelled", "interrupted", "interactive")
# pipeline: a pipeline or notebook run; interactive: recorded from a notebook; handoff: the
# clean run of a handoff check.
RUN_KINDS = ("pipeline", "interactive", "handoff")
FINAL_STAGE_STATUSES = (
    "succeeded",
    "cached",
    "failed",
    "skipped",
    "cancelled",
    "interrupted",
    "not_selected",
)

_RUN_COLUMNS = (
    "id, pipeline, kind, trigger, reason, status, parameters, git_commit, git_dirty, notebook, "
    "started_at, ended_at, error, runner_host, runner_pid, cancel_requested"
)
_STAGE_COLUMNS = (
    "run_id, stage, position, needs, notebook, source_hash, parameters, inputs, cache_key, status, "
    "cached_from, started_at, ended_at, duration_s, cells_total, cells_done, executed_notebook, "
    "outputs, "
    "outputs_hash, error_cell, error_name, error_value, traceback, reads, execution, checks"
)


@dataclass(frozen=True, kw_only=True)
class StageRecord:
    run_id: str
    stage: str
    position: int
    needs: list[str]
    notebook: str
    source_hash: str
    parameters: dict[str, Any]
    inputs: dict[str, Any] | None
    cache_key: str | None
    status: str
    cached_from: str | None
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: float | None
    cells_total: int | None
    cells_done: int | None
    executed_notebook: str | None
    outputs: dict[str, Any] | None
    outputs_hash: str | None
    error_cell: int | None  # the saved notebook's cell, from 1
    error_name: str | None
    error_value: str | None
    traceback: str | None
    # What the stage's kernel read: files with their hashes, probes, listings, network,
    # outside reads (mlops_lab.pipelines.reads); a cached stage: those of the run reused.
    reads: dict[str, Any] | None = None
    execution: dict[str, Any] | None = None  # kernel, kernel_asked, note, timeout, cell_timeout
    # The stage's checks (its ``expect:`` assertions, its ``lint:``), each a dict
    # {kind, name, status, expected, observed, message}: mlops_lab.pipelines.assertions.
    checks: list[dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        for key in ("started_at", "ended_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    id: str
    pipeline: str | None
    kind: str
    trigger: str
    reason: str
    status: str
    parameters: dict[str, Any]
    git_commit: str | None
    git_dirty: bool | None
    notebook: str | None
    started_at: datetime
    ended_at: datetime | None
    error: str | None
    runner_host: str | None
    runner_pid: int | None
    cancel_requested: bool
    stages: list[StageRecord] = field(default_factory=list)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def duration_s(self) -> float | None:
        end = self.ended_at or (datetime.now(UTC) if self.status == "running" else None)
        return (end - self.started_at).total_seconds() if end else None

    def to_dict(self, *, with_stages: bool = True) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("stages", "metrics")}
        data["started_at"] = self.started_at.isoformat()
        data["ended_at"] = self.ended_at.isoformat() if self.ended_at else None
        data["duration_s"] = self.duration_s
        if with_stages:
            data["stages"] = [s.to_dict() for s in self.stages]
            data["metrics"] = self.metrics
        return data


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _run(row: Sequence[Any]) -> RunRecord:
    (
        id_,
        pipeline,
        kind,
        trigger,
        reason,
        status,
        parameters,
        git_commit,
        git_dirty,
        notebook,
        started_at,
        ended_at,
        error,
        host,
        pid,
        cancel,
    ) = row
    return RunRecord(
        id=id_,
        pipeline=pipeline,
        kind=kind,
        trigger=trigger,
        reason=reason,
        status=status,
        parameters=_json(parameters) or {},
        git_commit=git_commit,
        git_dirty=git_dirty,
        notebook=notebook,
        started_at=started_at,
        ended_at=ended_at,
        error=error,
        runner_host=host,
        runner_pid=pid,
        cancel_requested=bool(cancel),
    )


def _stage(row: Sequence[Any]) -> StageRecord:
    names = [c.strip() for c in _STAGE_COLUMNS.split(",")]
    data = dict(zip(names, row, strict=True))
    for key in ("needs", "parameters", "inputs", "outputs", "reads", "execution", "checks"):
        data[key] = _json(data[key])
    for key in ("error_value", "traceback"):  # older records kept IPython's colour codes
        data[key] = strip_ansi(data[key])
    return StageRecord(**data)


def new_run_id() -> str:
    return f"r{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def start_interactive_run(catalog: Catalog, *, notebook: str | None) -> str:
    run_id = new_run_id()
    catalog.write(
        "INSERT INTO runs (id, pipeline, kind, trigger, reason, status, notebook, runner_host, "
        "runner_pid) VALUES (?, NULL, 'interactive', 'interactive', '', 'interactive', ?, ?, ?)",
        [run_id, notebook, socket.gethostname(), os.getpid()],
    )
    return run_id


# -- reading -------------------------------------------------------------------------


def list_runs(
    catalog: Catalog,
    *,
    pipeline: str | None = None,
    status: str | None = None,
    exclude_kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[RunRecord], int]:
    """One page of runs, newest first, and the total matching (``exclude_kind``: leave
    out runs of that kind, e.g. ``handoff`` clean runs).

    A run whose runner process is gone shows as ``interrupted`` (see
    :mod:`mlops_lab.pipelines.liveness`).
    """
    if status is not None and status not in RUN_STATUSES:
        raise InvalidInputError(
            f"Unknown run status {status!r} (one of {', '.join(RUN_STATUSES)})."
        )
    if exclude_kind is not None and exclude_kind not in RUN_KINDS:
        raise InvalidInputError(
            f"Unknown run kind {exclude_kind!r} (one of {', '.join(RUN_KINDS)})."
        )
    if not 1 <= limit <= 1000 or offset < 0:
        raise InvalidInputError("limit must be between 1 and 1000 and offset at least 0.")

    def read(
        con: duckdb.DuckDBPyConnection, shown_dead: frozenset[str]
    ) -> tuple[list[RunRecord], int]:
        where, params = [], []
        if pipeline is not None:
            where.append("pipeline = ?")
            params.append(pipeline)
        if exclude_kind is not None:
            where.append("kind <> ?")
            params.append(exclude_kind)
        if status is not None:
            where.append(f"{_status_sql(shown_dead)} = ?")
            params.extend([*sorted(shown_dead), status])
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = con.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs {clause} ORDER BY started_at DESC, id DESC "
            "LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        total = con.execute(f"SELECT count(*) FROM runs {clause}", params).fetchone()
        assert total is not None
        runs = [_run(r) for r in rows]
        if runs:
            stage_rows = con.execute(
                f"SELECT {_STAGE_COLUMNS} FROM stage_runs WHERE run_id IN "
                f"({', '.join('?' for _ in runs)}) ORDER BY position",
                [r.id for r in runs],
            ).fetchall()
            by_run: dict[str, list[StageRecord]] = {}
            for row in stage_rows:
                record = _stage(row)
                by_run.setdefault(record.run_id, []).append(record)
            runs = [_with(r, stages=by_run.get(r.id, [])) for r in runs]
            metrics = _metrics(con, runs)
            runs = [_shown(_with(r, metrics=metrics[r.id]), shown_dead) for r in runs]
        return runs, int(total[0])

    return _settled(catalog, read)


def _settled(catalog: Catalog, read: Callable[[duckdb.DuckDBPyConnection, frozenset[str]], T]) -> T:
    """``read(con, shown_dead)`` once running runs are checked for a live runner.

    Runs whose runner is gone are recorded interrupted first, then read again
    (rare: once per dead run). When the catalog cannot be written (a read-only
    workspace) they are only shown interrupted: ``shown_dead``.
    """
    folder = liveness.runners_dir(catalog)

    def first(con: duckdb.DuckDBPyConnection) -> tuple[list[str], T | None]:
        dead = liveness.dead_runs(con, folder)
        return dead, None if dead else read(con, frozenset())

    dead, result = catalog.transaction(first, write=False)
    if result is not None:
        return result
    shown = frozenset(dead) - set(liveness.settle_dead_runs(catalog, dead))
    return catalog.transaction(lambda con: read(con, shown), write=False)


def _status_sql(shown_dead: frozenset[str]) -> str:
    if not shown_dead:
        return "status"
    marks = ", ".join("?" for _ in shown_dead)
    return f"(CASE WHEN id IN ({marks}) AND status = 'running' THEN 'interrupted' ELSE status END)"


def _shown(run: RunRecord, shown_dead: frozenset[str]) -> RunRecord:
    """A dead run as it would be recorded, for a catalog that cannot be written."""
    if run.id not in shown_dead or run.status != "running":
        return run
    after = {"running": "interrupted", "pending": "skipped"}
    stages = [replace(s, status=after.get(s.status, s.status)) for s in run.stages]
    return _with(run, status="interrupted", error=liveness.INTERRUPTED_ERROR, stages=stages)


def _with(run: RunRecord, **changes: Any) -> RunRecord:
    data = dict(run.__dict__)
    data.update(changes)
    return RunRecord(**data)


def _metrics(
    con: duckdb.DuckDBPyConnection, runs: list[RunRecord]
) -> dict[str, dict[str, dict[str, float]]]:
    """Last value per run, stage and metric; a cached stage shows the metrics of the run it
    reused, so cached runs compare like any other."""
    sources: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for run in runs:
        for stage in run.stages:
            origin = (stage.cached_from or run.id, stage.stage)
            sources.setdefault(origin, []).append((run.id, stage.stage))
        if not run.stages:  # interactive runs: metrics under their own id
            sources.setdefault((run.id, ""), []).append((run.id, ""))
    found: dict[str, dict[str, dict[str, float]]] = {run.id: {} for run in runs}
    run_ids = sorted({origin for origin, _ in sources})
    if not run_ids:
        return found
    rows = con.execute(
        "SELECT run_id, stage, name, arg_max(value, coalesce(step, 0)) FROM metrics "
        f"WHERE run_id IN ({', '.join('?' for _ in run_ids)}) GROUP BY ALL ORDER BY ALL",
        run_ids,
    ).fetchall()
    for origin_run, stage, name, value in rows:
        targets = sources.get((origin_run, stage)) or sources.get((origin_run, ""), [])
        for run_id, _ in targets:
            found[run_id].setdefault(stage, {})[name] = value
    return found


def get_run(catalog: Catalog, run_id: str) -> RunRecord:
    """One run with its stage runs and metrics (last value per stage and name).

    A run whose runner process is gone shows as ``interrupted``.
    """

    def read(con: duckdb.DuckDBPyConnection, shown_dead: frozenset[str]) -> RunRecord:
        row = con.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", [run_id]).fetchone()
        if row is None:
            raise RunNotFoundError(run_id)
        stages = [
            _stage(r)
            for r in con.execute(
                f"SELECT {_STAGE_COLUMNS} FROM stage_runs WHERE run_id = ? ORDER BY position",
                [run_id],
            ).fetchall()
        ]
        record = _with(_run(row), stages=stages)
        return _shown(_with(record, metrics=_metrics(con, [record])[run_id]), shown_dead)

    return _settled(catalog, read)

"""Stored evaluations, comparisons, drift reports and A/B tests: reading them back.

Writing goes through the run's entries (:mod:`mlops_lab.evaluation.entries`);
this module owns the rows' shapes and the queries the panels and REST use.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import duckdb

from mlops_lab.alerts import ACTIVE, ALERT_COLUMNS
from mlops_lab.catalog import iso_utc
from mlops_lab.errors import NotFoundError
from mlops_lab.evaluation.report import drift_counts
from mlops_lab.workspace import Workspace

__all__ = [
    "ALERT_STATUSES",
    "Evaluation",
    "evaluation_from_row",
    "evaluation_id",
    "get_ab_test",
    "get_drift_report",
    "get_evaluation",
    "list_ab_tests",
    "list_alerts",
    "list_comparisons",
    "list_drift_reports",
    "list_evaluations",
]

_EVAL_COLUMNS = (
    "id, model, version, dataset, dataset_version, task, label, row_count, metrics, slices, "
    f"details_artifact, run_id, {iso_utc('created_at')}"
)


@dataclass(frozen=True, kw_only=True)
class Evaluation:
    """One model version on one dataset version: metrics overall and per slice, curves."""

    id: str | None  # None until the stage that computed it commits
    model: str
    version: int | None
    dataset: str
    dataset_version: int | None
    task: str
    label: str
    rows: int
    metrics: dict[str, float | None]
    slices: list[str]
    details: dict[str, Any] | None = None  # slice_metrics, confusion_matrix, curves, residuals
    run_id: str | None = None
    created_at: str | None = None

    def to_dict(self, *, with_details: bool = True) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "details"}
        if with_details:
            details = self.details or {}
            for key in ("slice_metrics", "confusion_matrix", "curves", "residuals"):
                data[key] = details.get(key)
        return data

    def plot(self, kind: str = "roc") -> Any:
        """A plotly figure: ``roc``, ``pr``, ``calibration``, ``confusion`` or ``residuals``."""
        from mlops_lab.evaluation.plots import evaluation_figure

        return evaluation_figure(self, kind)

    def _repr_html_(self) -> str:
        from mlops_lab.evaluation.plots import evaluation_html

        return evaluation_html(self)


def evaluation_id(
    model: str,
    version: int,
    dataset: str,
    dataset_version: int,
    task: str,
    label: str,
    slices: list[str],
) -> str:
    """Evaluations are idempotent per model version x dataset version (and label, slices)."""
    key = json.dumps([model, version, dataset, dataset_version, task, label, sorted(slices)])
    return "e" + hashlib.sha256(key.encode()).hexdigest()[:16]


def evaluation_from_row(row: tuple[Any, ...], details: dict[str, Any] | None = None) -> Evaluation:
    """An evaluation from its catalog row (as :func:`find_evaluation` reads it)."""
    (
        eid,
        model,
        version,
        dataset,
        dataset_version,
        task,
        label,
        rows,
        metrics,
        slices,
        _,
        run_id,
        created,
    ) = row
    return Evaluation(
        id=eid,
        model=model,
        version=version,
        dataset=dataset,
        dataset_version=dataset_version,
        task=task,
        label=label,
        rows=int(rows),
        metrics=json.loads(metrics),
        slices=json.loads(slices),
        details=details,
        run_id=run_id,
        created_at=created,
    )


def find_evaluation(con: duckdb.DuckDBPyConnection, eid: str) -> tuple[Any, ...] | None:
    rows = con.execute(f"SELECT {_EVAL_COLUMNS} FROM evaluations WHERE id = ?", [eid]).fetchall()
    return rows[0] if rows else None


def get_evaluation(workspace: Workspace, eid: str) -> Evaluation:
    """An evaluation with its details (curves, confusion matrix, slices)."""
    row = workspace.catalog.transaction(lambda con: find_evaluation(con, eid), write=False)
    if row is None:
        raise NotFoundError(f"No evaluation {eid!r}. List them with GET /evaluations?model=NAME.")
    details = json.loads(workspace.artifacts.get_bytes(row[10])) if row[10] else None
    return evaluation_from_row(row, details)


def list_evaluations(
    workspace: Workspace, *, model: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    where, params = ("WHERE model = ?", [model]) if model else ("", [])

    def read(con: duckdb.DuckDBPyConnection) -> tuple[list[dict[str, Any]], int]:
        total = con.execute(f"SELECT count(*) FROM evaluations {where}", params).fetchall()
        rows = con.execute(
            f"SELECT {_EVAL_COLUMNS} FROM evaluations {where} "
            "ORDER BY model, version DESC, created_at DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return [evaluation_from_row(r).to_dict(with_details=False) for r in rows], int(total[0][0])

    return workspace.catalog.transaction(read, write=False)


def _listing(
    workspace: Workspace, sql: str, params: list[Any], json_columns: tuple[str, ...]
) -> list[dict[str, Any]]:
    rows = workspace.catalog.read_dicts(sql, params)
    for row in rows:
        for column in json_columns:
            if isinstance(row.get(column), str):
                row[column] = json.loads(row[column])
    return rows


_TS = iso_utc("created_at", "created_at")


def list_comparisons(workspace: Workspace, *, model: str | None = None) -> list[dict[str, Any]]:
    where, params = ("WHERE model = ?", [model]) if model else ("", [])
    rows = _listing(
        workspace,
        f"SELECT id, model, baseline, candidate, dataset, dataset_version, metric, result, "
        f"decision, reason, run_id, {_TS} FROM comparisons {where} ORDER BY created_at DESC",
        params,
        ("result",),
    )
    for row in rows:
        row.update(row.pop("result"))
    return rows


_DRIFT = (
    "id, reference, current, model, columns_checked, drifted, drifted_share, verdict, "
    f"report_artifact, settings, alert_id, run_id, {_TS}"
)


def list_drift_reports(
    workspace: Workspace, *, limit: int = 20, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    rows = _listing(
        workspace,
        f"SELECT {_DRIFT} FROM drift_reports ORDER BY created_at DESC LIMIT ? OFFSET ?",
        [limit, offset],
        ("drifted", "settings"),
    )
    total = workspace.catalog.read_value("SELECT count(*) FROM drift_reports")
    return [_with_counts(r) for r in rows], int(total or 0)


def _with_counts(report: dict[str, Any]) -> dict[str, Any]:
    report["counts"] = drift_counts(
        report["drifted"], checked=report["columns_checked"], with_model=bool(report["model"])
    )
    return report


def get_drift_report(workspace: Workspace, report_id: str) -> dict[str, Any]:
    rows = _listing(
        workspace,
        f"SELECT {_DRIFT} FROM drift_reports WHERE id = ?",
        [report_id],
        ("drifted", "settings"),
    )
    if not rows:
        raise NotFoundError(f"No drift report {report_id!r}. List them with GET /drift.")
    report = _with_counts(rows[0])
    report["columns"] = json.loads(workspace.artifacts.get_bytes(report["report_artifact"]))
    return report


_AB = (
    "id, name, dataset, dataset_version, variant_column, outcome, kind, control, result, "
    f"run_id, {_TS}, coalesce(status, 'active') AS status, "
    f"{iso_utc('closed_at', 'closed_at')}, closed_by, close_reason"
)


def list_ab_tests(workspace: Workspace, *, status: str | None = None) -> list[dict[str, Any]]:
    """A/B tests, newest first: all, or those ``active`` or ``closed`` (archived)."""
    where, params = ("WHERE coalesce(status, 'active') = ?", [status]) if status else ("", [])
    rows = _listing(
        workspace,
        f"SELECT {_AB} FROM ab_tests {where} ORDER BY created_at DESC",
        params,
        ("result",),
    )
    for row in rows:
        row.update(row.pop("result"))
    return rows


def get_ab_test(workspace: Workspace, test_id: str) -> dict[str, Any]:
    found = _listing(workspace, f"SELECT {_AB} FROM ab_tests WHERE id = ?", [test_id], ("result",))
    if not found:
        raise NotFoundError(f"No A/B test {test_id!r}. List them with GET /ab-tests.")
    found[0].update(found[0].pop("result"))
    return found[0]


ALERT_STATUSES = ("open", "acknowledged", "active", "closed", "all")


def list_alerts(workspace: Workspace, *, status: str | None = "open") -> list[dict[str, Any]]:
    """Alerts, newest first: ``status`` open, acknowledged, closed, ``active`` (open or
    acknowledged) or None/``all``."""
    if status in (None, "all"):
        where, params = "", []
    elif status == "active":
        where, params = "WHERE status IN (?, ?)", list(ACTIVE)
    else:
        where, params = "WHERE status = ?", [status]
    return _listing(
        workspace,
        f"SELECT {ALERT_COLUMNS} FROM alerts {where} ORDER BY created_at DESC",
        params,
        ("data",),
    )

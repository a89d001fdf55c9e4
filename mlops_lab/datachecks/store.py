"""The ``dataset_checks`` table: each evaluation of a dataset version's checks, kept.

A version's checks are those of its latest evaluation (a re-check with
``mlops-lab datasets check`` adds one, the earlier ones stay). Rows with no version
belong to an output a stage produced but that was refused because a check failed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from mlops_lab.catalog import Catalog

__all__ = ["CheckedVersion", "insert_checks", "latest_checks", "runs_checks", "summaries"]

_COLUMNS = (
    "evaluation, position, dataset, version, artifact_hash, check_name, kind, column_name, "
    "passed, expected, observed, failing_rows, sample, message, run_id, stage, checked_at"
)


class _Executes(Protocol):
    def execute(self, sql: str, params: list[Any]) -> Any: ...


@dataclass(frozen=True, kw_only=True)
class CheckedVersion:
    """What one evaluation is about: which output of which run, checked when."""

    dataset: str
    version: int | None  # None: the output was refused (its stage failed on a check)
    artifact_hash: str
    checked_at: datetime
    run_id: str | None = None
    stage: str | None = None


def insert_checks(con: _Executes, about: CheckedVersion, results: Iterable[dict[str, Any]]) -> None:
    """Add one evaluation's rows (``CheckResult.to_dict()``) in the caller's transaction or
    journaled write."""
    evaluation = uuid.uuid4().hex
    for position, result in enumerate(results):
        con.execute(
            f"INSERT INTO dataset_checks ({_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                evaluation,
                position,
                about.dataset,
                about.version,
                about.artifact_hash,
                result["name"],
                result["kind"],
                result["column"],
                bool(result["passed"]),
                json.dumps(result["expected"]),
                json.dumps(result["observed"]),
                result["failing_rows"],
                json.dumps(result["sample"]),
                result["message"],
                about.run_id,
                about.stage,
                about.checked_at,
            ],
        )


def _row(row: tuple[Any, ...]) -> dict[str, Any]:
    (
        _evaluation,
        _position,
        dataset,
        version,
        digest,
        name,
        kind,
        column,
        passed,
        expected,
        observed,
        failing,
        sample,
        message,
        run_id,
        stage,
        checked_at,
    ) = row
    return {
        "dataset": dataset,
        "version": version,
        "artifact_hash": digest,
        "name": name,
        "kind": kind,
        "column": column,
        "passed": bool(passed),
        "expected": _json(expected),
        "observed": _json(observed),
        "failing_rows": failing,
        "sample": _json(sample) or [],
        "message": message,
        "run_id": run_id,
        "stage": stage,
        "checked_at": checked_at.isoformat() if checked_at else None,
    }


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


_LATEST = (
    "SELECT evaluation FROM dataset_checks WHERE dataset = ? AND version = ? "
    "ORDER BY checked_at DESC, evaluation LIMIT 1"
)


def latest_checks(catalog: Catalog, dataset: str, version: int) -> list[dict[str, Any]]:
    """The checks of the version's latest evaluation, in declaration order ([] if none)."""
    rows = catalog.read(
        f"SELECT {_COLUMNS} FROM dataset_checks WHERE evaluation = ({_LATEST}) ORDER BY position",
        [dataset, version],
    )
    return [_row(r) for r in rows]


def runs_checks(catalog: Catalog, run_id: str) -> list[dict[str, Any]]:
    """Every check evaluated on the outputs of run ``run_id`` (refused ones too), by stage."""
    rows = catalog.read(
        f"SELECT {_COLUMNS} FROM dataset_checks WHERE run_id = ? "
        "ORDER BY stage, dataset, checked_at, evaluation, position",
        [run_id],
    )
    return [_row(r) for r in rows]


def summaries(
    catalog: Catalog, versions: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], dict[str, Any]]:
    """Pass/fail counts of each version's latest evaluation; versions never checked are left
    out. One query for them all."""
    wanted = sorted(set(versions))
    if not wanted:
        return {}
    marks = ", ".join("(?, ?)" for _ in wanted)
    params = [p for pair in wanted for p in pair]
    rows = catalog.read(
        "WITH latest AS (SELECT dataset, version, arg_max(evaluation, checked_at) AS evaluation "
        f"FROM dataset_checks WHERE (dataset, version) IN ({marks}) GROUP BY dataset, version) "
        "SELECT c.dataset, c.version, count(*) FILTER (WHERE c.passed), "
        "count(*) FILTER (WHERE NOT c.passed), "
        "list(c.check_name ORDER BY c.position) FILTER (WHERE NOT c.passed), max(c.checked_at) "
        "FROM dataset_checks c JOIN latest l USING (evaluation) GROUP BY c.dataset, c.version",
        params,
    )
    return {
        (str(d), int(v)): {
            "status": "failed" if bad else "passed",
            "passed": int(ok),
            "failed": int(bad),
            "failing": list(names or []),
            "checked_at": at.isoformat() if at else None,
        }
        for d, v, ok, bad, names, at in rows
    }

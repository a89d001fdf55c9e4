"""Data checks: each new dataset version is checked against what ``mlops_lab.yaml`` declares.

The declaration (``datasets: NAME: checks: ...``) is parsed with the workspace file
(:mod:`mlops_lab.checkspec`); here it is evaluated in DuckDB over the version's Parquet
(:mod:`~mlops_lab.datachecks.evaluate`) and the results are stored with the version
(:mod:`~mlops_lab.datachecks.store`). Where versions are made:

- a pipeline stage's outputs: the runner evaluates them before it commits them; a failing
  check fails the stage (:class:`~mlops_lab.errors.DataCheckError`, naming the dataset, the
  check and sample rows) and nothing of the stage is registered, while the failed checks
  are kept with the run (no version);
- a notebook (``ctx.save_dataset``, ``mlops_lab.datasets.save_dataset``) and the stream
  ingestor's version cuts: the version is saved with its results, and a failing check is
  reported with a :class:`DataCheckWarning` (turn it into an error with
  ``warnings.simplefilter("error", DataCheckWarning)``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb

from mlops_lab.checkspec import DatasetChecks
from mlops_lab.datachecks.evaluate import SAMPLE_ROWS, CheckResult, evaluate_checks
from mlops_lab.datachecks.store import (
    CheckedVersion,
    insert_checks,
    latest_checks,
    runs_checks,
    summaries,
)
from mlops_lab.errors import DataCheckError, InvalidInputError

if TYPE_CHECKING:
    from mlops_lab.workspace import Workspace

__all__ = [
    "SAMPLE_ROWS",
    "CheckResult",
    "CheckedVersion",
    "DataCheckWarning",
    "check_entries",
    "checks_for_run",
    "declared_checks",
    "evaluate_version",
    "failure_error",
    "insert_checks",
    "record_checks",
    "record_refused",
    "summaries",
    "version_checks",
]


class DataCheckWarning(UserWarning):
    """A dataset version saved outside a pipeline breaks a check declared for it."""


def declared_checks(workspace: Workspace, dataset: str) -> DatasetChecks | None:
    """The checks ``mlops_lab.yaml`` declares for ``dataset`` (None: none)."""
    return workspace.config.datasets.get(dataset)


def evaluate_version(
    workspace: Workspace, dataset: str, artifact_hash: str, *, now: datetime | None = None
) -> list[dict[str, Any]] | None:
    """The declared checks of ``dataset`` evaluated on the Parquet blob ``artifact_hash``
    (each ``CheckResult.to_dict()``); None when the dataset declares no checks."""
    checks = declared_checks(workspace, dataset)
    if checks is None:
        return None
    try:
        source: Any = workspace.artifacts.verified_path(artifact_hash)
    except InvalidInputError:  # a remote artifact store: DuckDB reads the bytes instead
        source = workspace.artifacts.get_bytes(artifact_hash, check_catalog=False)
    return [r.to_dict() for r in evaluate_checks(checks, source, now=now)]


def failure_error(dataset: str, results: list[dict[str, Any]]) -> DataCheckError | None:
    """The error a version with failing checks raises (None if every check passed): it
    names the dataset, each failing check and its sample rows."""
    failed = [r for r in results if not r["passed"]]
    if not failed:
        return None
    lines = [
        f"Dataset {dataset!r} failed {len(failed)} of {len(results)} data check"
        f"{'s' if len(results) != 1 else ''} (mlops_lab.yaml datasets.{dataset}.checks):"
    ]
    for result in failed:
        lines.append(f"  {result['name']}: {result['message']}")
        for row in result["sample"]:
            lines.append(f"    row {row['row']}: {json.dumps(row['values'], default=str)}")
        more = (result["failing_rows"] or 0) - len(result["sample"])
        if more > 0:
            lines.append(f"    ... and {more} more row{'s' if more != 1 else ''}")
    return DataCheckError("\n".join(lines), dataset=dataset, failed=failed)


def check_entries(
    workspace: Workspace, entries: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], DataCheckError]]]:
    """A stage's manifest entries with each dataset's check results attached (``checks``),
    and the entries whose checks failed with their error. Evaluated outside any catalog
    transaction, before the entries are committed."""
    checked: list[dict[str, Any]] = []
    failures: list[tuple[dict[str, Any], DataCheckError]] = []
    for entry in entries:
        if entry.get("type") != "dataset":
            checked.append(entry)
            continue
        entry = {k: v for k, v in entry.items() if k != "checks"}  # only ours are trusted
        results = evaluate_version(workspace, str(entry["name"]), str(entry["hash"]))
        if results is not None:
            entry["checks"] = results
            error = failure_error(str(entry["name"]), results)
            if error is not None:
                failures.append((entry, error))
        checked.append(entry)
    return checked, failures


def record_checks(
    workspace: Workspace, about: CheckedVersion, results: list[dict[str, Any]]
) -> None:
    """Store one evaluation in a transaction of its own."""
    workspace.catalog.transaction(lambda con: insert_checks(con, about, results))


def record_refused(
    workspace: Workspace, run_id: str, stage: str, entries: list[dict[str, Any]]
) -> None:
    """Keep the checks of a stage's datasets when a failing one refused its outputs: with
    the run and stage, no version (none was registered)."""
    checked_at = datetime.now(UTC)

    def write(con: duckdb.DuckDBPyConnection) -> None:
        for entry in entries:
            if entry.get("type") == "dataset" and entry.get("checks") is not None:
                about = CheckedVersion(
                    dataset=str(entry["name"]),
                    version=None,
                    artifact_hash=str(entry["hash"]),
                    checked_at=checked_at,
                    run_id=run_id,
                    stage=stage,
                )
                insert_checks(con, about, entry["checks"])

    workspace.catalog.transaction(write)


def version_checks(workspace: Workspace, dataset: str, version: int) -> dict[str, Any]:
    """A version's stored checks (its latest evaluation) with a pass/fail summary.

    ``status``: ``passed``, ``failed``, or ``unchecked`` (never evaluated: no checks were
    declared when it was made).
    """
    checks = latest_checks(workspace.catalog, dataset, version)
    failed = sum(1 for c in checks if not c["passed"])
    declared = declared_checks(workspace, dataset)
    return {
        "dataset": dataset,
        "version": version,
        "status": "unchecked" if not checks else "failed" if failed else "passed",
        "passed": len(checks) - failed,
        "failed": failed,
        "checked_at": checks[0]["checked_at"] if checks else None,
        "declared": declared.to_dict() if declared is not None else None,
        "checks": checks,
    }


def checks_for_run(workspace: Workspace, run_id: str) -> list[dict[str, Any]]:
    """Each check evaluated on the datasets run ``run_id`` produced, refused ones included
    (``version`` None), ordered by stage and dataset: one test case each for CI reports.

    Each: ``stage``, ``dataset``, ``version``, ``name``, ``passed``, ``message``,
    ``failing_rows``, ``sample``, ``expected``, ``observed``, ``checked_at``.
    """
    return runs_checks(workspace.catalog, run_id)

"""What in the catalog uses a blob: named in corruption errors, with how to re-create it.

Blobs are shared by content, so one blob can be several things (a dataset
version and the run artifact that saved it). Looked up only when a read finds
a damaged blob, so the cost does not matter; a catalog that cannot answer
gives an empty list rather than hiding the corruption.
"""

from __future__ import annotations

from typing import Any

import duckdb

from mlops_lab.catalog import Catalog
from mlops_lab.errors import MlopsLabError

__all__ = ["Reference", "references"]

Reference = tuple[str, str, str]  # kind, name, how to re-create it

# kind, query naming each user of the hash (one parameter), how to re-create it
_USERS: tuple[tuple[str, str, str], ...] = (
    (
        "dataset",
        "SELECT name, version FROM dataset_versions WHERE artifact_hash = ?",
        "save the dataset again (or re-run the stage that produced it)",
    ),
    (
        "feature view table",
        "SELECT name, version FROM feature_view_versions WHERE table_artifact = ?",
        "`mlops-lab features rebuild {name} --version {version}`",
    ),
    (
        "model",
        "SELECT name, version FROM model_versions WHERE artifact_hash = ?",
        "register the model again from its training run",
    ),
    (
        "model bundle",
        "SELECT model, version FROM model_bundles WHERE artifact_hash = ?",
        "package the model version again (`mlops-lab package {name}/{version}`)",
    ),
    (
        "evaluation report",
        "SELECT id, NULL FROM evaluations WHERE details_artifact = ?",
        "evaluate the model again",
    ),
    (
        "drift report",
        "SELECT id, NULL FROM drift_reports WHERE report_artifact = ?",
        "check drift again",
    ),
    (
        "handoff report",
        "SELECT id, NULL FROM handoffs WHERE report_artifact = ?",
        "check the notebook again",
    ),
    (
        "drift profile",
        "SELECT dataset_hash, NULL FROM drift_profiles WHERE profile_artifact = ?",
        "check drift again",
    ),
    (
        "executed notebook",
        "SELECT run_id || ' stage ' || stage, NULL FROM stage_runs WHERE executed_notebook = ?",
        "re-run the stage (`mlops-lab run --force`)",
    ),
    (
        "run artifact",
        "SELECT run_id || ' ' || stage || ' ' || name, NULL FROM run_artifacts "
        "WHERE artifact_hash = ?",
        "re-run the stage that saved it",
    ),
)
_LIMIT = 5


def references(catalog: Catalog, digest: str) -> list[Reference]:
    """Every catalog object that uses the blob ``digest`` (up to a few per kind)."""

    def read(con: duckdb.DuckDBPyConnection) -> list[Reference]:
        found: list[Reference] = []
        for kind, sql, how in _USERS:
            try:
                rows: list[Any] = con.execute(f"{sql} LIMIT {_LIMIT}", [digest]).fetchall()
            except duckdb.Error:  # a table an older catalog lacks
                continue
            for name, version in rows:
                shown = f"{name!r} v{version}" if version is not None else str(name)
                found.append((kind, shown, how.format(name=name, version=version)))
        return found

    try:
        return catalog.transaction(read, write=False)
    except (MlopsLabError, duckdb.Error, OSError):
        return []

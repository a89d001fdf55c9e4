"""Workspace status: what ``mlops-lab status`` and ``GET /mlops-lab/api/status`` show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from mlops_lab._version import __version__
from mlops_lab.workspace import Workspace

__all__ = ["COUNTED", "WorkspaceStatus", "workspace_status"]

# The registries counted by the status, in display order (catalog table names).
COUNTED = ("datasets", "feature_views", "models", "evaluations", "runs", "artifacts")


@dataclass(frozen=True, kw_only=True)
class WorkspaceStatus:
    version: str
    workspace_path: str
    workspace_name: str
    catalog_path: str
    schema_version: int
    counts: dict[str, int]
    artifacts_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "workspace": {"path": self.workspace_path, "name": self.workspace_name},
            "catalog": {"path": self.catalog_path, "schema_version": self.schema_version},
            "counts": dict(self.counts),
            "artifacts_bytes": self.artifacts_bytes,
        }


def workspace_status(workspace: Workspace) -> WorkspaceStatus:
    """Counts of everything registered in the workspace, read in one transaction."""

    def read(con: duckdb.DuckDBPyConnection) -> tuple[int, dict[str, int], int]:
        counts_sql = ", ".join(f"(SELECT count(*) FROM {table})" for table in COUNTED)
        row = con.execute(
            f"SELECT (SELECT max(version) FROM schema_version), {counts_sql}, "
            "(SELECT coalesce(sum(size), 0) FROM artifacts)"
        ).fetchone()
        assert row is not None
        version, *counts, size = row
        return int(version), dict(zip(COUNTED, map(int, counts), strict=True)), int(size)

    schema_version, counts, size = workspace.catalog.transaction(read, write=False)
    return WorkspaceStatus(
        version=__version__,
        workspace_path=str(workspace.root),
        workspace_name=workspace.name,
        catalog_path=str(workspace.catalog_path),
        schema_version=schema_version,
        counts=counts,
        artifacts_bytes=size,
    )

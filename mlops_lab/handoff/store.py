"""Stored handoffs, with their status now: ready, failing, or stale (the code changed)."""

from __future__ import annotations

import json
from typing import Any

from mlops_lab.catalog import iso_utc
from mlops_lab.errors import NotFoundError
from mlops_lab.pipelines.notebook import read_notebook
from mlops_lab.workspace import Workspace

__all__ = ["get_handoff", "handoff_report", "list_handoffs"]

_COLUMNS = (
    "id, notebook, notebook_hash, pipeline, stage, status, contract, findings, report_artifact, "
    f"check_run, created_by, {iso_utc('created_at', 'created_at')}"
)


def _current(workspace: Workspace, row: dict[str, Any]) -> dict[str, Any]:
    for key in ("contract", "findings"):
        if isinstance(row[key], str):
            row[key] = json.loads(row[key])
    try:
        now = read_notebook(workspace.root / row["notebook"]).source_hash
    except Exception:
        now = None
    row["stale"] = now != row["notebook_hash"]
    row["checked_status"] = row["status"]
    if row["stale"]:
        row["status"] = "stale"
    counts = {s: sum(f["status"] == s for f in row["findings"]) for s in ("pass", "warn", "fail")}
    row["counts"] = counts
    return row


def list_handoffs(workspace: Workspace) -> list[dict[str, Any]]:
    """The latest handoff of each notebook, newest first."""
    rows = workspace.catalog.read_dicts(
        f"SELECT {_COLUMNS} FROM handoffs QUALIFY row_number() OVER "
        "(PARTITION BY notebook ORDER BY created_at DESC) = 1 ORDER BY created_at DESC"
    )
    return [_current(workspace, row) for row in rows]


def get_handoff(workspace: Workspace, handoff_id: str) -> dict[str, Any]:
    rows = workspace.catalog.read_dicts(
        f"SELECT {_COLUMNS} FROM handoffs WHERE id = ?", [handoff_id]
    )
    if not rows:
        raise NotFoundError(f"No handoff {handoff_id!r}. List them with `mlops-lab handoffs list`.")
    return _current(workspace, rows[0])


def handoff_report(workspace: Workspace, handoff_id: str) -> str:
    found = get_handoff(workspace, handoff_id)
    return workspace.artifacts.get_bytes(found["report_artifact"]).decode()

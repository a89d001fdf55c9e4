"""Files and figures a run saved (``ctx.save_artifact``, ``ctx.log_figure``), registered at
the run's commit (see :mod:`mlops_lab.manifest`)."""

from __future__ import annotations

from typing import Any

import duckdb

from mlops_lab.artifacts.records import register_artifact
from mlops_lab.lineage import add_edge
from mlops_lab.manifest import CommitState, register

__all__: list[str] = []


@register("artifact")
def _artifact(con: duckdb.DuckDBPyConnection, state: CommitState, entry: dict[str, Any]) -> None:
    """One saved file or figure (``entry["kind"]``: ``artifact`` or ``figure``)."""
    register_artifact(
        con, entry["hash"], size=entry["size"], media_type=entry["media_type"], run_id=state.run_id
    )
    con.execute(
        "INSERT OR REPLACE INTO run_artifacts (run_id, stage, name, kind, artifact_hash) "
        "VALUES (?, ?, ?, ?, ?)",
        [state.run_id, state.stage, entry["name"], entry["kind"], entry["hash"]],
    )
    state.outputs["artifacts"][entry["name"]] = {
        "hash": entry["hash"],
        "kind": entry["kind"],
        "media_type": entry["media_type"],
    }
    add_edge(con, "stage_run", f"{state.run_id}/{state.stage}", "artifact", entry["hash"])

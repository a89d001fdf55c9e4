"""What a run records about itself (metrics, parameters, environment, inputs), and the
hash of what a stage produced.

The kinds here are applied at the stage's commit like every other kind of output
(see :mod:`mlops_lab.manifest`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import duckdb

from mlops_lab.lineage import add_edge
from mlops_lab.manifest import CommitState, register

__all__ = ["outputs_hash"]


def outputs_hash(outputs: dict[str, Any]) -> str:
    """Hash of what downstream stages can consume: dataset, artifact and model contents."""
    content = {
        kind: {name: item["hash"] for name, item in sorted(outputs.get(kind, {}).items())}
        for kind in ("datasets", "artifacts", "models")
        if kind != "models" or outputs.get(kind)  # hashes from before models stay valid
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@register("metric")
def _metric(con: duckdb.DuckDBPyConnection, state: CommitState, entry: dict[str, Any]) -> None:
    con.execute(
        "INSERT INTO metrics (run_id, stage, name, step, value) VALUES (?, ?, ?, ?, ?)",
        [state.run_id, state.stage, entry["name"], entry.get("step"), entry["value"]],
    )
    state.outputs["metrics"][entry["name"]] = entry["value"]


@register("params")
def _params(con: duckdb.DuckDBPyConnection, state: CommitState, entry: dict[str, Any]) -> None:
    for name, value in entry["values"].items():
        con.execute(
            "INSERT OR REPLACE INTO params (run_id, stage, name, value) VALUES (?, ?, ?, ?)",
            [state.run_id, state.stage, name, json.dumps(value)],
        )
        state.outputs["params"][name] = value


@register("environment")
def _environment(con: duckdb.DuckDBPyConnection, state: CommitState, entry: dict[str, Any]) -> None:
    con.execute(
        "UPDATE runs SET environment = ? WHERE id = ?",
        [json.dumps(entry["environment"]), state.run_id],
    )


@register("input")
def _input(con: duckdb.DuckDBPyConnection, state: CommitState, entry: dict[str, Any]) -> None:
    stage_id = f"{state.run_id}/{state.stage}"
    add_edge(con, "dataset_version", f"{entry['name']}@{entry['version']}", "stage_run", stage_id)

"""What a stage records (manifest entries), registered in the catalog in one transaction.

Core entry types (metric, params, dataset, artifact, environment, input) are
applied here; the model and evaluation stores add theirs (``APPLIERS`` in
``mlops_lab.models.entries`` and ``mlops_lab.evaluation.entries``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from mlops_lab.artifacts import register_artifact
from mlops_lab.catalog import Catalog
from mlops_lab.datasets import DatasetVersion, register_dataset_version
from mlops_lab.errors import InvalidInputError
from mlops_lab.lineage import add_edge, record_feature_use

__all__ = [
    "Applier",
    "CommitState",
    "apply_entries",
    "apply_to_state",
    "commit_entries",
    "commit_state",
    "outputs_hash",
]


def outputs_hash(outputs: dict[str, Any]) -> str:
    """Hash of what downstream stages can consume: dataset, artifact and model contents."""
    content = {
        kind: {name: item["hash"] for name, item in sorted(outputs.get(kind, {}).items())}
        for kind in ("datasets", "artifacts", "models")
        if kind != "models" or outputs.get(kind)  # hashes from before models stay valid
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def apply_entries(
    con: duckdb.DuckDBPyConnection, run_id: str, stage: str, entries: Iterable[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, DatasetVersion]]:
    """Register a stage's recorded outputs in the caller's transaction.

    Returns the outputs summary (stored on the stage run) and the dataset
    versions created, by name.
    """
    outputs: dict[str, Any] = {"datasets": {}, "artifacts": {}, "metrics": {}, "params": {}}
    versions: dict[str, DatasetVersion] = {}
    state = CommitState(run_id=run_id, stage=stage, outputs=outputs, datasets=versions)
    apply_to_state(con, state, entries)
    return outputs, versions


def apply_to_state(
    con: duckdb.DuckDBPyConnection, state: CommitState, entries: Iterable[dict[str, Any]]
) -> None:
    run_id, stage, outputs, versions = state.run_id, state.stage, state.outputs, state.datasets
    stage_id = f"{run_id}/{stage}"
    appliers = _domain_appliers()
    for entry in entries:
        kind = entry.get("type")
        if kind in appliers:
            appliers[kind](con, state, entry)
        elif kind == "metric":
            con.execute(
                "INSERT INTO metrics (run_id, stage, name, step, value) VALUES (?, ?, ?, ?, ?)",
                [run_id, stage, entry["name"], entry.get("step"), entry["value"]],
            )
            outputs["metrics"][entry["name"]] = entry["value"]
        elif kind == "params":
            for name, value in entry["values"].items():
                con.execute(
                    "INSERT OR REPLACE INTO params (run_id, stage, name, value) "
                    "VALUES (?, ?, ?, ?)",
                    [run_id, stage, name, json.dumps(value)],
                )
                outputs["params"][name] = value
        elif kind == "dataset":
            register_artifact(
                con, entry["hash"], size=entry["size"], media_type="application/vnd.apache.parquet",
                run_id=run_id,
            )  # fmt: skip
            version = register_dataset_version(
                con, name=entry["name"], artifact_hash=entry["hash"], row_count=entry["row_count"],
                columns=entry["columns"], run_id=run_id, stage=stage,
            )  # fmt: skip
            versions[entry["name"]] = version
            outputs["datasets"][entry["name"]] = {"version": version.version, "hash": entry["hash"]}
            add_edge(
                con, "stage_run", stage_id, "dataset_version", f"{entry['name']}@{version.version}"
            )
            record_feature_use(
                con, entry.get("features") or {}, f"{entry['name']}@{version.version}"
            )
        elif kind == "artifact":
            register_artifact(
                con,
                entry["hash"],
                size=entry["size"],
                media_type=entry["media_type"],
                run_id=run_id,
            )
            con.execute(
                "INSERT OR REPLACE INTO run_artifacts (run_id, stage, name, kind, artifact_hash) "
                "VALUES (?, ?, ?, ?, ?)",
                [run_id, stage, entry["name"], entry["kind"], entry["hash"]],
            )
            outputs["artifacts"][entry["name"]] = {
                "hash": entry["hash"], "kind": entry["kind"], "media_type": entry["media_type"],
            }  # fmt: skip
            add_edge(con, "stage_run", stage_id, "artifact", entry["hash"])
        elif kind == "environment":
            con.execute(
                "UPDATE runs SET environment = ? WHERE id = ?",
                [json.dumps(entry["environment"]), run_id],
            )
        elif kind == "input":
            add_edge(
                con, "dataset_version", f"{entry['name']}@{entry['version']}", "stage_run", stage_id
            )
        else:
            raise InvalidInputError(f"Unknown manifest entry type {kind!r} in stage {stage!r}.")


@dataclass(kw_only=True)
class CommitState:
    """What a stage's commit has registered so far, for entries that refer back to it
    (a model registered and evaluated in the same stage)."""

    run_id: str
    stage: str
    outputs: dict[str, Any]
    datasets: dict[str, DatasetVersion]
    models: dict[str, int] = field(default_factory=dict)
    created: list[Any] = field(default_factory=list)  # what the appliers made, in order

    def dataset_version(self, name: str, version: int | None) -> int:
        """A recorded version, or the one this commit just created (``None``)."""
        if version is not None:
            return version
        if name not in self.datasets:
            raise InvalidInputError(f"Dataset {name!r} was not saved in this stage.")
        return int(self.datasets[name].version or 0)

    def model_version(self, name: str, version: int | None) -> int:
        if version is not None:
            return version
        if name not in self.models:
            raise InvalidInputError(f"Model {name!r} was not registered in this stage.")
        return self.models[name]


Applier = Callable[[duckdb.DuckDBPyConnection, CommitState, dict[str, Any]], None]


def _domain_appliers() -> dict[str, Applier]:
    """Entry types the model and evaluation stores record (imported late: they import us)."""
    from mlops_lab.evaluation.entries import APPLIERS as evaluation_appliers
    from mlops_lab.models.entries import APPLIERS as model_appliers

    return {**model_appliers, **evaluation_appliers}


def commit_entries(
    catalog: Catalog, run_id: str, stage: str, entries: list[dict[str, Any]]
) -> dict[str, DatasetVersion]:
    """Register entries at once (interactive runs); returns dataset versions by name."""
    return commit_state(catalog, run_id, stage, entries).datasets


def commit_state(
    catalog: Catalog, run_id: str, stage: str, entries: list[dict[str, Any]]
) -> CommitState:
    """Register entries at once; the state says what was created."""

    def work(con: duckdb.DuckDBPyConnection) -> CommitState:
        empty: dict[str, Any] = {"datasets": {}, "artifacts": {}, "metrics": {}, "params": {}}
        state = CommitState(run_id=run_id, stage=stage, outputs=empty, datasets={})
        apply_to_state(con, state, entries)
        return state

    return catalog.transaction(work)

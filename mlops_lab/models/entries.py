"""How a run's model-store entries are committed (see :mod:`mlops_lab.manifest`).

In a pipeline stage, ``register_model`` and ``promote`` (and a ``compare`` gate that
promotes) record an entry in the stage's manifest; the runner applies them in the
stage's commit transaction, so a failed stage registers nothing. Interactive runs
apply them at once.
"""

from __future__ import annotations

from typing import Any

import duckdb

from mlops_lab.artifacts import register_artifact
from mlops_lab.manifest import CommitState, register
from mlops_lab.models.aliases import apply_promotion
from mlops_lab.models.registry import VersionSpec, insert_versions

__all__: list[str] = []


@register("model")
def _model(con: duckdb.DuckDBPyConnection, state: CommitState, entry: dict[str, Any]) -> None:
    training = entry.get("training_dataset")
    training_ref = None
    if training:
        version = state.dataset_version(training["name"], training.get("version"))
        training_ref = f"{training['name']}@{version}"
    media_type = f"application/x-{entry['flavor']}"
    register_artifact(
        con, entry["hash"], size=entry["size"], media_type=media_type, run_id=state.run_id
    )
    spec = VersionSpec(
        name=entry["name"],
        flavor=entry["flavor"],
        artifact_hash=entry["hash"],
        size=entry["size"],
        trusted=entry["trusted"],
        signature=entry.get("signature"),
        run_id=state.run_id,
        stage=state.stage,
        training_dataset=training_ref,
        feature_views=entry.get("feature_views"),
        parameters=entry.get("parameters") or {},
        description=entry.get("description", ""),
        tags=entry.get("tags") or [],
        notebook=entry.get("notebook"),
        notebook_hash=entry.get("notebook_hash"),
    )
    created = insert_versions(con, [spec])[0]
    state.models[created.name] = int(created.version or 0)
    state.outputs.setdefault("models", {})[created.name] = {
        "version": created.version,
        "hash": created.artifact_hash,
    }
    state.created.append(created)


@register("promotion")
def _promotion(con: duckdb.DuckDBPyConnection, state: CommitState, entry: dict[str, Any]) -> None:
    version = state.model_version(entry["name"], entry.get("version"))
    moved = apply_promotion(
        con,
        entry["name"],
        version,
        alias=entry["alias"],
        reason=entry["reason"],
        by=entry["by"],
    )
    state.created.append(moved)

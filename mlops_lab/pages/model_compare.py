"""Model versions side by side, and a real input row for trying a version.

``compare_versions`` lines two or more versions up: metrics only on the dataset versions
every one of them was evaluated on, parameters, signature and lineage, each row marked
when the versions differ. ``version_example`` picks a row of a version's training data
and shapes it as the quick-prediction request: the entity's join keys, and every input
from that row (raw features override online ones, so the answer is the model's on that
very row; leaving one out reads it from the online store).
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

from mlops_lab.datasets import load_dataset
from mlops_lab.errors import InvalidInputError
from mlops_lab.features.queries import get_entity
from mlops_lab.metric_direction import higher_is_better
from mlops_lab.models.lookup import get_model_version
from mlops_lab.models.version import ModelVersion
from mlops_lab.workspace import Workspace

__all__ = ["MAX_COMPARED", "compare_versions", "version_example"]

# Versions compared at once, at most (a side-by-side table wider than this is unreadable).
MAX_COMPARED = 8

_LINEAGE = ("training_dataset", "feature_views", "notebook", "notebook_hash", "run_id", "stage")


def compare_versions(workspace: Workspace, name: str, versions: list[int]) -> dict[str, Any]:
    """Versions of model ``name`` side by side; every list of values follows ``versions``."""
    chosen = list(dict.fromkeys(versions))
    if not 2 <= len(chosen) <= MAX_COMPARED:
        raise InvalidInputError(
            f"Compare between 2 and {MAX_COMPARED} different versions, got {len(chosen)}."
        )
    found = [get_model_version(workspace, f"{name}/{v}") for v in chosen]
    return {
        "name": name,
        "versions": [_summary(v) for v in found],
        "datasets": _shared_metrics(workspace, name, chosen),
        "parameters": _rows({k: v.parameters for k, v in zip(chosen, found, strict=True)}),
        "signature": _rows({k: _inputs(v) for k, v in zip(chosen, found, strict=True)}),
        "lineage": [
            _row(field, [_jsonable(getattr(v, field)) for v in found]) for field in _LINEAGE
        ],
    }


def _summary(version: ModelVersion) -> dict[str, Any]:
    output = (version.signature or {}).get("output")
    return {
        "version": version.version,
        "created_at": version.created_at.isoformat(),
        "flavor": version.flavor,
        "aliases": list(version.aliases),
        "output": output.get("kind") if isinstance(output, dict) else output,
    }


def _inputs(version: ModelVersion) -> dict[str, Any]:
    inputs = (version.signature or {}).get("inputs", [])
    return {column["name"]: column.get("dtype") for column in inputs}


def _row(name: str, values: list[Any]) -> dict[str, Any]:
    keys = {json.dumps(v, sort_keys=True, default=str) for v in values}
    return {"name": name, "values": values, "differs": len(keys) > 1}


def _rows(by_version: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per key any version has (missing values are null), sorted by name."""
    names = sorted({key for values in by_version.values() for key in values})
    return [
        _row(key, [_jsonable(values.get(key)) for values in by_version.values()]) for key in names
    ]


def _shared_metrics(workspace: Workspace, name: str, versions: list[int]) -> list[dict[str, Any]]:
    """Per dataset version every compared version was evaluated on: each metric's values
    (the latest evaluation of each version), its direction and which version is best."""
    rows = workspace.catalog.read(
        "SELECT dataset, dataset_version, version, arg_max(metrics, created_at), "
        "arg_max(id, created_at) FROM evaluations WHERE model = ? GROUP BY ALL",
        [name],
    )
    by_dataset: dict[tuple[str, int], dict[int, tuple[dict[str, Any], str]]] = {}
    for dataset, dataset_version, version, metrics, evaluation in rows:
        if int(version) in versions:
            by_dataset.setdefault((dataset, int(dataset_version)), {})[int(version)] = (
                json.loads(metrics),
                evaluation,
            )
    shared = []
    for (dataset, dataset_version), evaluated in sorted(by_dataset.items()):
        if len(evaluated) < len(versions):
            continue
        names = sorted({m for metrics, _ in evaluated.values() for m in metrics})
        metrics = []
        for metric in names:
            values = [evaluated[v][0].get(metric) for v in versions]
            metrics.append(
                {
                    "name": metric,
                    "values": values,
                    "higher_is_better": higher_is_better(metric),
                    "best": _best(values, higher_is_better(metric)),
                }
            )
        shared.append(
            {
                "dataset": dataset,
                "dataset_version": dataset_version,
                "evaluations": [evaluated[v][1] for v in versions],
                "metrics": metrics,
            }
        )
    return shared


def _best(values: list[Any], higher: bool) -> int | None:
    """The index of the best value, None when no number or all are equal."""
    numbers = [(v, i) for i, v in enumerate(values) if isinstance(v, int | float)]
    if len({v for v, _ in numbers}) < 2:
        return None
    return (max(numbers) if higher else min(numbers))[1]


def version_example(workspace: Workspace, name: str, version: int) -> dict[str, Any]:
    """A row of the version's training data as a prediction request.

    The first row whose inputs are all present is taken (else the first row). ``entity``
    holds the join keys of the entities whose features the online store serves; ``features``
    the signature's other inputs, from the row. The caller edits the request freely.
    """
    found = get_model_version(workspace, f"{name}/{version}")
    if not found.training_dataset:
        raise InvalidInputError(
            f"{name}/{version} has no training dataset recorded, so there is no row to try: "
            "register it with training_dataset=... (save_training_frame records it)."
        )
    dataset, _, pinned = found.training_dataset.partition("@")
    frame = load_dataset(workspace, dataset, int(pinned) if pinned else None)
    online = _online_features(workspace, found)
    keys = _join_keys(workspace, online)
    inputs = list(_inputs(found)) or [c for c in frame.columns if c not in keys]
    given = [c for c in inputs if c in frame.columns]
    if frame.empty:
        raise InvalidInputError(f"The training dataset {found.training_dataset} has no rows.")
    wanted = [c for c in [*keys, *given] if c in frame.columns]
    complete = frame[wanted].notna().all(axis=1) if wanted else frame.index == frame.index[0]
    position = int(complete.to_numpy().argmax()) if complete.any() else 0
    row = frame.iloc[position]
    return {
        "dataset": found.training_dataset,
        "row": position,
        "entity": {k: _jsonable(row[k]) for k in keys if k in frame.columns},
        "features": {c: _jsonable(row[c]) for c in given},
        "online": sorted(online["views"]),
    }


def _online_features(workspace: Workspace, found: ModelVersion) -> dict[str, set[str]]:
    rows = workspace.catalog.read(
        "SELECT view, feature FROM feature_consumers WHERE consumer_kind = 'model' "
        "AND consumer_id = ?",
        [f"{found.name}/{found.version}"],
    )
    return {"views": {v for v, _ in rows}, "features": {f for _, f in rows}}


def _join_keys(workspace: Workspace, online: dict[str, set[str]]) -> list[str]:
    keys: list[str] = []
    for view in sorted(online["views"]):
        entity = workspace.features.get_feature_view(view).definition.entity
        keys += [k for k in get_entity(workspace, entity).join_keys if k not in keys]
    return keys


def _jsonable(value: Any) -> Any:
    """A JSON value: numpy scalars as Python ones, times as ISO text, NaN as null."""
    if hasattr(value, "item") and not isinstance(value, list | dict | str):
        try:
            value = value.item()
        except (ValueError, TypeError):
            value = str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value

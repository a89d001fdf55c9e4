"""Served requests with their outcomes, as training data for the next run (CT on new data).

The model server logs, for every answered request, the feature values it
used (:mod:`mlops_lab.serving.predlog`): the request's own values and the
online ones, windows computed as of the request time. Those values are the
point-in-time features of that request, so once its outcome has arrived the
request is a training row as it stands, with nothing to recompute.

- :func:`served_training_rows` joins the logged requests of a model with a
  dataset of outcomes: by ``request_id`` when the outcomes carry one, else by
  the entity keys (each request of the entity gets the entity's outcome). One
  row per request id: a request logged twice counts once.
- :func:`collect_served_outcomes` appends the rows not collected before to a
  dataset (``served_outcomes`` by default): each version holds every request
  collected so far, once. It is a dataset of its own, not a version of the
  training frame, so a rerun of the stage that builds the frame from the
  source data keeps them: that stage appends them
  (:func:`mlops_lab.features.served.append_served_rows`) and logs what it
  added under the parameter ``served_rows``; the demo's features stage does.
- :func:`new_training_data` reads that record back for a run: which training
  frame version it produced, and which served requests were new in it.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from mlops_lab.datasets import (
    get_dataset_version,
    list_dataset_versions,
    load_dataset,
    save_dataset,
    validate_name,
)
from mlops_lab.errors import InvalidInputError, NotFoundError
from mlops_lab.features.served import SERVED_COLUMNS, SERVED_PARAM
from mlops_lab.models.lookup import get_model_version
from mlops_lab.serving.predlog import read_predictions
from mlops_lab.workspace import Workspace

__all__ = ["collect_served_outcomes", "new_training_data", "served_training_rows"]


def served_training_rows(
    workspace: Workspace,
    model: str,
    *,
    outcomes: str | pd.DataFrame,
    label: str,
    since: float | None = None,
) -> pd.DataFrame:
    """The requests served for ``model`` (every version of its name) that have an outcome.

    Columns: ``request_id``, ``served_at`` (the time the features were computed
    as of: the request time), ``model_version``, the entity keys, the features
    as served (an empty window stays null) and ``label``. ``outcomes`` is a
    dataset name (its latest version) or a frame; ``since`` (unix seconds)
    limits the log read.
    """
    name = get_model_version(workspace, model).name
    arrived = load_dataset(workspace, outcomes) if isinstance(outcomes, str) else outcomes
    if label not in arrived.columns:
        raise InvalidInputError(
            f"The outcomes have no column {label!r} (they have {', '.join(map(str, arrived))})."
        )
    logged = read_predictions(workspace.state_dir / "predictions", since=since)
    logged = logged[logged.model == name].drop_duplicates("request_id", keep="first")
    if logged.empty:
        return pd.DataFrame(columns=[*SERVED_COLUMNS, label])
    entities = pd.DataFrame([json.loads(e) for e in logged.entity])
    features = pd.DataFrame([json.loads(f) for f in logged.features]).astype(float)
    served_at = logged.features_at.fillna(logged.logged_at)
    rows = pd.concat(
        [
            pd.DataFrame(
                {
                    "request_id": logged.request_id.to_numpy(),
                    "served_at": served_at.to_numpy(),
                    "model_version": logged.version.to_numpy(),
                }
            ),
            entities.reset_index(drop=True),
            features.drop(columns=[c for c in features if c in entities]).reset_index(drop=True),
        ],
        axis=1,
    )
    if "request_id" in arrived.columns:  # outcomes that name the request they answer
        keys = ["request_id"]
    else:
        keys = [k for k in entities.columns if k in arrived.columns]
        if not keys:
            raise InvalidInputError(
                "The outcomes share no entity key with the served requests "
                f"({', '.join(map(str, entities.columns))}) and name no request_id."
            )
    known = arrived[[*keys, label]].drop_duplicates(keys, keep="last")
    joined = rows.merge(known, on=keys, how="inner", suffixes=("", "_outcome"))
    return joined.sort_values(["served_at", "request_id"], ignore_index=True)


def collect_served_outcomes(
    workspace: Workspace,
    model: str,
    *,
    outcomes: str | pd.DataFrame,
    label: str,
    into: str = "served_outcomes",
    since: float | None = None,
) -> dict[str, Any]:
    """Append the served requests with outcomes not yet in dataset ``into`` to it.

    The new version holds the previous one's rows and the new requests (one row
    per request id). Returns what was added: ``dataset``, ``version`` (None
    when nothing was new: no version is made), ``rows`` (in the version),
    ``new_rows`` and their ``request_ids``, ``from`` and ``to`` (their request
    times, ISO 8601).
    """
    validate_name(into)
    rows = served_training_rows(workspace, model, outcomes=outcomes, label=label, since=since)
    try:
        before = load_dataset(workspace, into)
    except NotFoundError:
        before = rows.iloc[0:0]
    if "request_id" not in before.columns:
        raise InvalidInputError(
            f"Dataset {into!r} exists and is not a collection of served requests (no "
            "request_id column); collect into another name."
        )
    new = rows[~rows.request_id.isin(set(before.request_id))]
    summary: dict[str, Any] = {
        "dataset": into,
        "version": None,
        "rows": len(before),
        "new_rows": len(new),
        "request_ids": new.request_id.tolist(),
        "from": _iso(new.served_at.min()) if len(new) else None,
        "to": _iso(new.served_at.max()) if len(new) else None,
    }
    if new.empty:
        return summary
    combined = pd.concat([before, new], ignore_index=True) if len(before) else new
    saved = save_dataset(workspace, into, combined.reset_index(drop=True))
    summary.update(version=saved.version, rows=saved.row_count)
    return summary


def new_training_data(workspace: Workspace, run_id: str) -> dict[str, Any] | None:
    """What was new in the training data of run ``run_id``; None when it appended no
    served rows.

    ``{"dataset", "version", "rows"}`` name the training frame the run produced
    (its version and row count), ``previous`` the version of it before (None for
    the first), ``served`` the collection read (``dataset``, ``version``,
    ``rows`` appended, ``from``/``to`` request times, columns that were
    missing from the served rows and ``filled`` or left null) and ``new`` the
    requests in it that the previous run with served rows had not seen
    (``rows``, ``request_ids``, ``from``, ``to``).
    """
    found = workspace.catalog.read(
        "SELECT stage, value FROM params WHERE run_id = ? AND name = ?", [run_id, SERVED_PARAM]
    )
    if not found:
        return None
    record: dict[str, Any] = json.loads(found[0][1])
    frame = _produced(workspace, run_id, record["dataset"])
    served = record["served"]
    new = _new_requests(workspace, run_id, served)
    previous = None
    if frame is not None and (frame["version"] or 0) > 1:
        earlier = get_dataset_version(workspace, record["dataset"], frame["version"] - 1)
        previous = {"version": earlier.version, "rows": earlier.row_count}
    return {
        "run_id": run_id,
        "stage": found[0][0],
        "dataset": record["dataset"],
        "version": frame["version"] if frame else None,
        "rows": frame["rows"] if frame else record.get("rows"),
        "previous": previous,
        "served": served,
        "new": new,
    }


def _produced(workspace: Workspace, run_id: str, name: str) -> dict[str, Any] | None:
    """The version of ``name`` a stage of the run saved (from the stage's outputs)."""
    for (outputs,) in workspace.catalog.read(
        "SELECT outputs FROM stage_runs WHERE run_id = ? AND outputs IS NOT NULL", [run_id]
    ):
        made = (json.loads(outputs) or {}).get("datasets", {}).get(name)
        if made:
            version = get_dataset_version(workspace, name, made["version"])
            return {"version": version.version, "rows": version.row_count}
    return None


def _new_requests(workspace: Workspace, run_id: str, served: dict[str, Any]) -> dict[str, Any]:
    """The requests of the collection this run read that no earlier run had read."""
    name, version = served["dataset"], served["version"]
    earlier = workspace.catalog.read(
        "SELECT p.value FROM params p JOIN runs r ON r.id = p.run_id WHERE p.name = ? "
        "AND p.run_id <> ? AND r.started_at < (SELECT started_at FROM runs WHERE id = ?) "
        "ORDER BY r.started_at DESC LIMIT 1",
        [SERVED_PARAM, run_id, run_id],
    )
    rows = load_dataset(workspace, name, version)
    seen: set[str] = set()
    if earlier:
        before = json.loads(earlier[0][0])["served"]
        if before["dataset"] == name and before["version"] in {
            v.version for v in list_dataset_versions(workspace, name)
        }:
            seen = set(load_dataset(workspace, name, before["version"]).request_id)
    new = rows[~rows.request_id.isin(seen)]
    return {
        "rows": len(new),
        "request_ids": new.request_id.tolist(),
        "from": _iso(new.served_at.min()) if len(new) else None,
        "to": _iso(new.served_at.max()) if len(new) else None,
    }


def _iso(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).isoformat()

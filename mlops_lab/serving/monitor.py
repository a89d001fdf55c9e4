"""The monitoring loop: logged predictions against the training data, and live metrics.

``monitor("churn@champion")``:
1. reads the predictions the servers logged (the model's, in the window),
2. checks drift of the features they used against the version's training
   dataset, with the predictions themselves (prediction drift),
3. where outcomes have arrived (a dataset of entity keys and the label),
   joins them by entity and evaluates the model on the served rows,
4. opens an alert for the pipeline that trained the model when drift or a
   metric crosses its threshold; ``mlops-lab ct`` then retrains, and the new
   version only replaces the champion through the evaluate stage's gate;
5. checks online/offline consistency of every feature view the predictions
   read online (:mod:`mlops_lab.serving.consistency`; a mismatch opens an alert).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pandas as pd

from mlops_lab.errors import InvalidInputError, NotFoundError
from mlops_lab.models.lookup import get_model_version
from mlops_lab.serving.predlog import read_predictions
from mlops_lab.workspace import Workspace

__all__ = ["monitor"]


def _pipeline_of(workspace: Workspace, run_id: str | None) -> str | None:
    if not run_id:
        return None
    value = workspace.catalog.read_value("SELECT pipeline FROM runs WHERE id = ?", [run_id])
    return str(value) if value else None


def _thresholds(given: dict[str, dict[str, float]] | None) -> dict[str, dict[str, float]]:
    """Explicit thresholds; else none when the project definition states the rules (its
    objective and guardrails judge the live model), else ROC AUC at least 0.7."""
    from mlops_lab.run_context import context

    if given:
        return given
    return {} if context().workspace.config.project else {"roc_auc": {"min": 0.7}}


def monitor(
    workspace: Workspace,
    model: str,
    *,
    since_hours: float = 24.0,
    outcomes: str | None = None,
    label: str | None = None,
    thresholds: dict[str, dict[str, float]] | None = None,
    pipeline: str | None = None,
    max_drifted_share: float | None = None,
    min_rows: int = 50,
) -> dict[str, Any]:
    from mlops_lab.evaluation import check_drift  # loads scipy: on first use

    version = get_model_version(workspace, model)
    logged = read_predictions(
        workspace.state_dir / "predictions", since=time.time() - since_hours * 3600
    )
    logged = logged[logged.model == version.name] if len(logged) else logged
    if len(logged) < min_rows:
        raise InvalidInputError(
            f"Only {len(logged)} logged prediction(s) of {version.name} in the last "
            f"{since_hours:g} h; need {min_rows} to judge drift."
        )
    if not version.training_dataset:
        raise NotFoundError(f"{version.name}/{version.version} records no training dataset.")
    features = pd.DataFrame([json.loads(f) for f in logged.features])
    columns = [
        c
        for c in features.columns
        if c in {i["name"] for i in (version.signature or {}).get("inputs", [])}
    ]
    pipeline = pipeline or _pipeline_of(workspace, version.run_id)
    report = check_drift(
        version.training_dataset,
        features[columns],
        columns=columns,
        model=f"{version.name}/{version.version}",
        pipeline=pipeline,
        max_drifted_share=max_drifted_share,
    )
    result: dict[str, Any] = {
        "model": f"{version.name}/{version.version}",
        "predictions": len(logged),
        "drift": {
            "id": report.id,
            "verdict": report.verdict,
            "drifted": report.drifted,
            "alert_id": report.alert_id,
        },
        "pipeline": pipeline,
        "evaluation": None,
        "consistency": _consistency(workspace, logged, since_hours, pipeline),
    }
    if outcomes:
        if not label:
            raise InvalidInputError("Say which column of the outcomes is the label (--label).")
        result["evaluation"] = _live_metrics(
            workspace, version, logged, features, columns, outcomes, label, thresholds, pipeline
        )
    return result


def _consistency(
    workspace: Workspace, logged: pd.DataFrame, since_hours: float, pipeline: str | None
) -> dict[str, Any]:
    """Online/offline consistency of every view the logged predictions read online."""
    from datetime import UTC, datetime, timedelta

    from mlops_lab.serving.consistency import check_consistency

    views: set[str] = set()
    for served in logged.get("online", pd.Series(dtype=object)).dropna():
        views |= {key.split("@", 1)[0] for key in json.loads(served)}
    since = datetime.now(UTC) - timedelta(hours=since_hours)
    out = {}
    for view in sorted(views):
        report = check_consistency(workspace, view, since=since, alert_pipeline=pipeline)
        out[view] = {
            k: report.get(k) for k in ("id", "rows_checked", "mismatches", "verdict", "alert")
        }
    return out


def _live_metrics(
    workspace: Workspace,
    version: Any,
    logged: pd.DataFrame,
    features: pd.DataFrame,
    columns: list[str],
    outcomes: str,
    label: str,
    thresholds: dict[str, dict[str, float]] | None,
    pipeline: str | None,
) -> dict[str, Any] | None:
    from mlops_lab.evaluation import ab_test, evaluate
    from mlops_lab.run_context import context

    arrived = context().load_dataset(outcomes)
    if label not in arrived.columns:
        raise InvalidInputError(f"The outcomes have no column {label!r}.")
    entities = pd.DataFrame([json.loads(e) for e in logged.entity])
    keys = [k for k in entities.columns if k in arrived.columns]
    if not keys:
        raise InvalidInputError(
            "The outcomes share no entity key with the predictions "
            f"({', '.join(map(str, entities.columns))})."
        )
    served = pd.concat(
        [
            entities.reset_index(drop=True),
            features[columns].reset_index(drop=True),
            logged[["variant", "version"]].reset_index(drop=True),
        ],
        axis=1,
    ).drop_duplicates(keys, keep="last")
    joined = served.merge(arrived[[*keys, label]], on=keys, how="inner")
    if joined.empty:
        return None
    evaluation = evaluate(
        f"{version.name}/{version.version}",
        joined[[*columns, label]],
        label=label,
        thresholds=_thresholds(thresholds),
        pipeline=pipeline,
    )
    result: dict[str, Any] = {
        "id": evaluation.id,
        "rows": evaluation.rows,
        "metrics": evaluation.metrics,
        "ab_test": None,
    }
    if joined.variant.nunique() > 1:  # a canary ran: compare the variants' outcomes
        test = ab_test(
            joined[["variant", label]].assign(**{label: joined[label].astype(float)}),
            variant="variant",
            outcome=label,
            control="champion",
            name=f"{version.name}: {label} by serving variant",
        )
        result["ab_test"] = {"id": test["id"], "comparisons": test["comparisons"]}
    return result

"""Scoring models from a notebook or a pipeline stage: ``evaluate`` and ``compare``.

Both compute in the kernel (vectorised numpy and scikit-learn over the data)
and record the result in the current run (:func:`mlops_lab.context`): at once
in a notebook, at the stage's commit in a pipeline. Drift and A/B tests are in
:mod:`mlops_lab.evaluation.monitoring`.

Models are ``"churn"``, ``"churn/3"`` or ``"churn@champion"``; data is a
dataset name (``"holdout"``, ``"holdout@2"``) or a frame loaded with
``ctx.load_dataset`` (other frames are saved as a dataset first).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import secrets
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlops_lab.errors import InvalidInputError, NotFoundError
from mlops_lab.evaluation import metrics as _metrics
from mlops_lab.evaluation.compare import paired_bootstrap
from mlops_lab.evaluation.inputs import (
    check_columns,
    data_input,
    model_input,
    scores_of,
    task_for,
)
from mlops_lab.evaluation.store import Evaluation, evaluation_id, get_evaluation
from mlops_lab.run_context import context

if TYPE_CHECKING:
    pass

__all__ = ["compare", "evaluate"]


def evaluate(
    model: str,
    data: str | pd.DataFrame,
    *,
    label: str,
    task: str | None = None,
    slices: list[str] | tuple[str, ...] = (),
    thresholds: dict[str, dict[str, float]] | None = None,
    pipeline: str | None = None,
) -> Evaluation:
    """Metrics of ``model`` on ``data``, overall and per value of each ``slices`` column.

    Idempotent: the same model version on the same dataset version (label,
    task, slices) returns the stored evaluation. ``thresholds`` such as
    ``{"roc_auc": {"min": 0.7}}`` open an alert asking ``pipeline`` (default:
    this run's) to retrain when crossed.
    """
    ctx = context()
    loaded, name, version = model_input(model)
    task = task_for(loaded, task)
    source = data_input(ctx, data, f"{name}_evaluation")
    slices = list(slices)
    check_columns(source.frame, [label], "Label")
    check_columns(source.frame, slices, "Slice")
    if version is not None and source.version is not None:
        eid = evaluation_id(name, version, source.name, source.version, task, label, slices)
        with contextlib.suppress(NotFoundError):  # stored already: the same answer
            return get_evaluation(ctx.workspace, eid)
    frame = source.frame
    X = frame.drop(columns=[label])
    y = frame[label].to_numpy()
    if task == "classification":
        predicted = np.asarray(loaded.predict(X))
        proba = np.asarray(loaded.predict_proba(X))
        classes = list(getattr(loaded.model, "classes_", np.unique(y)))

        def compute(mask: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
            return _metrics.classification(y[mask], predicted[mask], proba[mask], classes)
    else:
        predicted = np.asarray(loaded.predict(X), dtype=float)
        if not pd.api.types.is_numeric_dtype(frame[label]):
            raise InvalidInputError(f"Label {label!r} is not numeric: this is not a regression.")

        def compute(mask: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
            return _metrics.regression(y[mask], predicted[mask])

    scores, details = compute(np.ones(len(frame), dtype=bool))
    details["slice_metrics"] = _metrics.sliced(frame, slices, lambda m: compute(m)[0])
    blob = json.dumps(details).encode()
    digest, size = ctx.workspace.artifacts.write_blob([blob])
    entry = {
        "type": "evaluation",
        "model": name,
        "version": version,
        "dataset": source.ref,
        "task": task,
        "label": label,
        "slices": slices,
        "rows": len(frame),
        "metrics": scores,
        "details_hash": digest,
        "details_size": size,
        "thresholds": thresholds or {},
        "pipeline": pipeline,
    }
    created = ctx.commit_or_defer(entry)
    if isinstance(created, Evaluation):
        return Evaluation(**{**created.__dict__, "details": details})
    return Evaluation(
        id=None,
        model=name,
        version=version,
        dataset=source.name,
        dataset_version=source.version,
        task=task,
        label=label,
        rows=len(frame),
        metrics=scores,
        slices=slices,
        details=details,
        run_id=ctx.run_id,
    )


def compare(
    model: str,
    data: str | pd.DataFrame,
    *,
    label: str,
    baseline: str = "champion",
    candidate: str = "challenger",
    metric: str = "roc_auc",
    min_improvement: float = 0.0,
    n_boot: int = 1000,
    confidence: float = 0.95,
    promote_to: str | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Gate ``candidate`` against ``baseline`` (aliases or version numbers of ``model``).

    Passes when the lower end of the paired-bootstrap interval of the
    improvement reaches ``min_improvement``; with ``promote_to="champion"``
    a passing candidate is promoted in the same commit. The decision and its
    numbers are stored either way.
    """
    ctx = context()

    def ref(which: str) -> str:
        return f"{model}/{which}" if str(which).isdigit() else f"{model}@{which}"

    base, name, base_version = model_input(ref(baseline) if baseline != model else model)
    cand, _, cand_version = model_input(ref(candidate) if candidate != model else model)
    task = task_for(cand, None)
    source = data_input(ctx, data, f"{name}_evaluation")
    check_columns(source.frame, [label], "Label")
    X = source.frame.drop(columns=[label])
    y = source.frame[label].to_numpy()
    if task == "classification":
        positive = list(cand.model.classes_)[-1]
        y = (y == positive).astype(int)
    result = paired_bootstrap(
        y,
        scores_of(base, X, task),
        scores_of(cand, X, task),
        metric=metric,
        n_boot=n_boot,
        confidence=confidence,
        seed=seed,
    )
    passed = result["ci_low"] >= min_improvement
    reason = (
        f"{metric} improvement {result['difference']:+.4f}, {confidence:.0%} CI "
        f"[{result['ci_low']:+.4f}, {result['ci_high']:+.4f}] "
        f"{'>=' if passed else '<'} {min_improvement}"
    )
    cid, by = f"c{secrets.token_hex(6)}", getpass.getuser()
    entry: dict[str, Any] = {
        "type": "comparison",
        "id": cid,
        "model": name,
        "baseline": base_version,
        "candidate": cand_version,
        "dataset": source.ref,
        "metric": metric,
        "result": result,
        "min_improvement": min_improvement,
        "decision": "promote" if passed else "hold",
        "reason": reason,
        "promote_to": promote_to,
        "by": by,
    }
    entries = [entry]
    if passed and promote_to:  # the alias moves in the same commit (see models.entries)
        entries.append(
            {
                "type": "promotion",
                "name": name,
                "version": cand_version,
                "alias": promote_to,
                "reason": f"gate {cid}: {reason}",
                "by": by,
            }
        )
    created = ctx.commit_or_defer(*entries, all_created=True)
    if created is None:
        return {**entry, "id": None}
    return {**created[0], "promoted": created[1] if len(created) > 1 else None}

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
from mlops_lab.evaluation.compare import METRICS, paired_bootstrap
from mlops_lab.evaluation.inputs import (
    check_columns,
    data_input,
    model_input,
    scores_of,
    task_for,
)
from mlops_lab.evaluation.store import Evaluation, evaluation_id, get_evaluation
from mlops_lab.models import get_model_version
from mlops_lab.project import GateRule, rule_checks
from mlops_lab.run_context import context

if TYPE_CHECKING:
    from mlops_lab.run_context import RunContext

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
    """Metrics of ``model`` on ``data``, overall and per value of each ``slices`` column
    (and of each column a guardrail of the project definition is sliced by).

    Idempotent: the same model version on the same dataset version (label,
    task, slices) returns the stored evaluation. ``thresholds`` such as
    ``{"roc_auc": {"min": 0.7}}`` open an alert asking ``pipeline`` (default:
    this run's) to retrain when crossed. Evaluating the live model (the champion) also
    judges the project definition's objective and guardrails: each one broken opens an
    alert naming its rule (``thresholds`` win for the metrics they name).
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
    project = ctx.workspace.config.project
    guarded = [r.slice for r in project.guardrails if r.slice] if project else []
    extra = [c for c in dict.fromkeys(guarded) if c in frame.columns and c not in slices]
    # The guardrails' slices are measured (and kept in the details) even when not asked for.
    scores, details = _measure(loaded, frame, label, task, slices + extra)
    checks = _live_checks(
        ctx, name, version, scores, details["slice_metrics"], thresholds, source.ref
    )
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
        "project_checks": checks,
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


def _measure(
    loaded: Any, frame: pd.DataFrame, label: str, task: str, slices: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(overall metrics, details with ``slice_metrics`` per value of each slice column)."""
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
    return scores, details


def _is_live(ctx: RunContext, name: str, version: int | None) -> bool:
    """Whether ``name/version`` is the champion now (the version the project lives by)."""
    if version is None:
        return False
    try:
        return get_model_version(ctx.workspace, f"{name}@champion").version == version
    except NotFoundError:
        return False


def _live_checks(
    ctx: RunContext,
    name: str,
    version: int | None,
    scores: dict[str, Any],
    slice_metrics: list[dict[str, Any]],
    thresholds: dict[str, dict[str, float]] | None,
    dataset: dict[str, Any],
) -> list[dict[str, Any]]:
    """The project's objective and guardrails judged on the live model's evaluation (empty
    for another version, or without a project); a metric given in ``thresholds`` is
    judged by those instead."""
    project = ctx.workspace.config.project
    if project is None or not _is_live(ctx, name, version):
        return []
    rules = tuple(r for r in project.rules if r.metric not in (thresholds or {}))
    where = f"{dataset.get('name')}" + (f"@{dataset['version']}" if dataset.get("version") else "")
    return rule_checks(rules, scores, slice_metrics, subject=f"{name}/{version} on {where}")


def compare(
    model: str,
    data: str | pd.DataFrame,
    *,
    label: str,
    baseline: str = "champion",
    candidate: str = "challenger",
    metric: str | None = None,
    min_improvement: float | None = None,
    non_inferiority: float | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    promote_to: str | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Gate ``candidate`` against ``baseline`` (aliases or version numbers of ``model``).

    The rule (:class:`mlops_lab.project.GateRule`) is ``min_improvement`` or
    ``non_inferiority`` when given, else the project definition's ``gate:``, else a
    minimum improvement of 0: with a minimum improvement, the lower end of the
    paired-bootstrap interval of the improvement must reach it and the improvement must be
    above zero (an identical model is "no better": the champion is kept); with a
    non-inferiority margin, the lower end must stay above minus the margin. ``metric``
    defaults to the project's objective metric (else ROC AUC). The candidate must also
    meet the project's objective and every guardrail (per slice) on ``data``, whatever its
    improvement. With ``promote_to="champion"`` a passing candidate is promoted in the same
    commit. The decision, its rule and every check are stored either way.
    """
    ctx = context()
    project = ctx.workspace.config.project

    def ref(which: str) -> str:
        return f"{model}/{which}" if str(which).isdigit() else f"{model}@{which}"

    if min_improvement is not None and non_inferiority is not None:
        raise InvalidInputError("Give min_improvement or non_inferiority, not both.")
    if min_improvement is not None or non_inferiority is not None:
        rule = GateRule(min_improvement=min_improvement, non_inferiority=non_inferiority)
        rule_from = "arguments"
    elif project is not None:
        rule, rule_from = project.gate, "project.gate"
    else:
        rule, rule_from = GateRule(), "default"
    if metric is None:
        objective = project.objective.metric if project else None
        metric = objective if objective in METRICS else "roc_auc"
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
    checks = _candidate_checks(project, cand, source.frame, label, task, cand_version, source.ref)
    better = rule.passes(result["difference"], result["ci_low"])
    broken = [c for c in checks if c["met"] is not True]
    passed = better and not broken
    reason = _gate_reason(metric, result, confidence, rule, better, broken)
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
        "min_improvement": rule.threshold,
        "rule": {**rule.to_dict(), "from": rule_from, "text": rule.text()},
        "checks": checks,
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


def _candidate_checks(
    project: Any,
    cand: Any,
    frame: pd.DataFrame,
    label: str,
    task: str,
    version: int | None,
    dataset: dict[str, Any],
) -> list[dict[str, Any]]:
    """The project's objective and guardrails judged on the candidate over the gate's data."""
    if project is None:
        return []
    slices = [c for c in dict.fromkeys(r.slice for r in project.guardrails if r.slice)]
    present = [c for c in slices if c in frame.columns]
    scores, details = _measure(cand, frame, label, task, present)
    where = f"{dataset.get('name')}" + (f"@{dataset['version']}" if dataset.get("version") else "")
    subject = f"{cand.version.name}/{version} on {where}"
    checks = rule_checks(project.rules, scores, details["slice_metrics"], subject=subject)
    for check in checks:
        if check["slice"] and check["slice"] not in frame.columns:
            check["why_unjudged"] = f"the gate's data has no column {check['slice']!r}"
    return checks


def _gate_reason(
    metric: str,
    result: dict[str, Any],
    confidence: float,
    rule: GateRule,
    better: bool,
    broken: list[dict[str, Any]],
) -> str:
    numbers = (
        f"{metric} improvement {result['difference']:+.4f}, {confidence:.0%} CI "
        f"[{result['ci_low']:+.4f}, {result['ci_high']:+.4f}]; rule: {rule.text()}"
    )
    parts = []
    if not better:
        no_better = rule.non_inferiority is None and result["difference"] <= 0
        parts.append(
            f"no better: kept the champion ({numbers})"
            if no_better
            else f"not enough: kept the champion ({numbers})"
        )
    else:
        parts.append(f"passes the gate ({numbers})")
    for check in broken:
        if check["met"] is None:
            parts.append(f"{check['rule']} ({check['text']}) not judged: {check['why_unjudged']}")
        elif check["breaches"]:
            where = ", ".join(
                f"{check['slice']}={b['slice_value']}: {b['value']:.4g}" for b in check["breaches"]
            )
            parts.append(f"breaks {check['rule']} ({check['text']}): {where}")
        else:
            parts.append(f"breaks {check['rule']} ({check['text']}): {check['value']:.4g}")
    if broken and better:
        parts[0] = parts[0].replace("passes the gate", "improves but is held")
    return "; ".join(parts)

"""The evaluation store from a notebook or a pipeline stage.

``mlops_lab.evaluate``, ``compare``, ``check_drift`` and ``ab_test`` compute in
the kernel (vectorised numpy and scikit-learn over the data) and record the
result in the current run (:func:`mlops_lab.context`): at once in a notebook,
at the stage's commit in a pipeline.

Models are ``"churn"``, ``"churn/3"`` or ``"churn@champion"``; data is a
dataset name (``"holdout"``, ``"holdout@2"``) or a frame loaded with
``ctx.load_dataset`` (other frames are saved as a dataset first).
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlops_lab.errors import ArtifactCorruptError, InvalidInputError, NotFoundError
from mlops_lab.evaluation import metrics as _metrics
from mlops_lab.evaluation.abtest import ab_results
from mlops_lab.evaluation.compare import paired_bootstrap
from mlops_lab.evaluation.drift import ColumnRule, Profile, build_profile, compare_to_profile
from mlops_lab.evaluation.report import DriftReport
from mlops_lab.evaluation.store import Evaluation, evaluation_id, get_evaluation
from mlops_lab.models.signature import task_of
from mlops_lab.models.tracking import load_model
from mlops_lab.run_context import context, loaded_from

if TYPE_CHECKING:
    from mlops_lab.models.lookup import LoadedModel
    from mlops_lab.run_context import RunContext

__all__ = ["ab_test", "check_drift", "compare", "evaluate"]


@dataclass(frozen=True, kw_only=True)
class _Data:
    frame: pd.DataFrame
    name: str
    version: int | None  # None: saved in this stage, numbered at its commit
    hash: str

    @property
    def ref(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}


def _data(ctx: RunContext, data: Any, fallback: str) -> _Data:
    if isinstance(data, str):
        name, _, version = data.partition("@")
        if version and not version.isdigit():
            raise InvalidInputError(f"Invalid dataset reference {data!r}: use 'name' or 'name@3'.")
        frame = ctx.load_dataset(name, int(version) if version else None)
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        raise InvalidInputError(f"Pass a dataset name or a DataFrame, got {type(data).__name__}.")
    origin = loaded_from(frame)
    if origin is None:  # not a dataset version as loaded: save it, so it has a name
        saved = ctx.save_dataset(fallback, frame)
        origin = {"name": saved.name, "version": saved.version, "hash": saved.artifact_hash}
    return _Data(frame=frame, name=origin["name"], version=origin["version"], hash=origin["hash"])


def _model(ref: str) -> tuple[LoadedModel, str, int | None]:
    loaded = load_model(ref)
    return loaded, loaded.version.name, loaded.version.version


def _task(loaded: LoadedModel, task: str | None) -> str:
    from sklearn.base import is_classifier, is_regressor

    kind = task_of(loaded.version.signature)
    if kind is None:
        kind = "classification" if is_classifier(loaded.model) else (
            "regression" if is_regressor(loaded.model) else None)  # fmt: skip
    if task is None:
        if kind is None:
            raise InvalidInputError("Say task='classification' or task='regression'.")
        return kind
    if task not in ("classification", "regression"):
        raise InvalidInputError(f"task is 'classification' or 'regression', got {task!r}.")
    if kind is not None and kind != task:
        raise InvalidInputError(
            f"Model {loaded.version.name}/{loaded.version.version} is a {kind} model; "
            f"evaluate it with task={kind!r}."
        )
    if task == "classification" and not hasattr(loaded.model, "predict_proba"):
        raise InvalidInputError("A classifier needs predict_proba for ROC, PR and log loss.")
    return task


def _check_columns(frame: pd.DataFrame, wanted: list[str], what: str) -> None:
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"{what} column(s) {', '.join(map(repr, missing))} not in the data "
            f"(columns: {', '.join(map(str, frame.columns))})."
        )


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
    loaded, name, version = _model(model)
    task = _task(loaded, task)
    source = _data(ctx, data, f"{name}_evaluation")
    slices = list(slices)
    _check_columns(source.frame, [label], "Label")
    _check_columns(source.frame, slices, "Slice")
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
        "type": "evaluation", "model": name, "version": version, "dataset": source.ref,
        "task": task, "label": label, "slices": slices, "rows": len(frame),
        "metrics": scores, "details_hash": digest, "details_size": size,
        "thresholds": thresholds or {}, "pipeline": pipeline,
    }  # fmt: skip
    created = ctx.commit_or_defer(entry)
    if isinstance(created, Evaluation):
        return Evaluation(**{**created.__dict__, "details": details})
    return Evaluation(
        id=None, model=name, version=version, dataset=source.name,
        dataset_version=source.version, task=task, label=label, rows=len(frame),
        metrics=scores, slices=slices, details=details, run_id=ctx.run_id,
    )  # fmt: skip


def _scores(loaded: LoadedModel, X: pd.DataFrame, task: str) -> np.ndarray:
    if task == "classification":
        proba = np.asarray(loaded.predict_proba(X))
        if proba.shape[1] != 2:
            raise InvalidInputError("compare() supports binary classifiers and regressors.")
        return proba[:, 1]
    return np.asarray(loaded.predict(X), dtype=float)


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

    base, name, base_version = _model(ref(baseline) if baseline != model else model)
    cand, _, cand_version = _model(ref(candidate) if candidate != model else model)
    task = _task(cand, None)
    source = _data(ctx, data, f"{name}_evaluation")
    _check_columns(source.frame, [label], "Label")
    X = source.frame.drop(columns=[label])
    y = source.frame[label].to_numpy()
    if task == "classification":
        positive = list(cand.model.classes_)[-1]
        y = (y == positive).astype(int)
    result = paired_bootstrap(y, _scores(base, X, task), _scores(cand, X, task), metric=metric,
                              n_boot=n_boot, confidence=confidence, seed=seed)  # fmt: skip
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


# By workspace too: a profile computed for one workspace is still recorded in the next one.
_profiles: dict[tuple[str, str, str], Profile] = {}


def _profile(
    ctx: RunContext, source: _Data, columns: list[str]
) -> tuple[Profile, dict[str, Any] | None]:
    """The reference profile: from this process, the catalog, or computed (and recorded)."""
    kinds = [(c, str(source.frame[c].dtype)) for c in columns]
    columns_key = hashlib.sha256(json.dumps(kinds).encode()).hexdigest()[:16]
    key = (str(ctx.workspace.root), source.hash, columns_key)
    if key in _profiles:
        return _profiles[key], None
    stored = ctx.workspace.catalog.read_value(
        "SELECT profile_artifact FROM drift_profiles WHERE dataset_hash = ? AND columns_key = ?",
        [source.hash, columns_key],
    )
    if stored:
        try:
            profile = Profile.from_bytes(ctx.workspace.artifacts.get_bytes(stored))
        except ArtifactCorruptError:
            pass  # a cache: computed again below (writing the same bytes repairs the blob)
        else:
            _profiles[key] = profile
            return profile, None
    profile = build_profile(source.frame, columns)
    digest, size = ctx.workspace.artifacts.write_blob([profile.to_bytes()])
    _profiles[key] = profile
    return profile, {"hash": digest, "size": size, "dataset_hash": source.hash,
                     "columns_key": columns_key}  # fmt: skip


def check_drift(
    reference: str | pd.DataFrame,
    current: str | pd.DataFrame,
    *,
    columns: list[str] | None = None,
    rules: dict[str, ColumnRule | dict[str, Any]] | None = None,
    model: str | None = None,
    max_drifted_share: float = 0.2,
    pipeline: str | None = None,
) -> DriftReport:
    """Per-column drift of ``current`` from ``reference`` (see :mod:`.drift` for the rule).

    ``columns`` defaults to every shared non-datetime column. With ``model``,
    its predictions on both are compared too (prediction drift). When more
    than ``max_drifted_share`` of the columns drifted, or the predictions
    did, an alert asks ``pipeline`` (default: this run's) to retrain.
    """
    ctx = context()
    ref = _data(ctx, reference, "drift_reference")
    cur = _data(ctx, current, "drift_current")
    if columns is None:
        columns = [c for c in ref.frame.columns if c in cur.frame.columns
                   and not pd.api.types.is_datetime64_any_dtype(ref.frame[c])]  # fmt: skip
    _check_columns(ref.frame, columns, "Reference")
    _check_columns(cur.frame, columns, "Current")
    parsed = {k: ColumnRule.parse(v) for k, v in (rules or {}).items()}
    unknown = set(parsed) - set(columns) - {"prediction"}
    if unknown:
        raise InvalidInputError(f"Rules name columns not checked: {', '.join(sorted(unknown))}.")
    profile, recorded = _profile(ctx, ref, columns)
    current_frame = cur.frame
    model_ref: dict[str, Any] | None = None
    if model is not None:
        loaded, name, version = _model(model)
        task = _task(loaded, None)
        predictions = pd.DataFrame({"prediction": _scores(loaded, ref.frame, task)})
        extra = build_profile(predictions, ["prediction"])
        profile = Profile(rows=profile.rows, numeric={**profile.numeric, **extra.numeric},
                          categorical=profile.categorical)  # fmt: skip
        current_frame = current_frame.assign(prediction=_scores(loaded, cur.frame, task))
        model_ref = {"name": name, "version": version}
    results = compare_to_profile(profile, current_frame, parsed)
    report = DriftReport.from_results(
        results, reference=ref.ref, current=cur.ref, model=model_ref,
        max_drifted_share=max_drifted_share,
    )  # fmt: skip
    blob = json.dumps([r.to_dict() for r in results]).encode()
    digest, size = ctx.workspace.artifacts.write_blob([blob])
    entry = {
        "type": "drift_report", "reference": ref.ref, "current": cur.ref, "model": model_ref,
        "columns_checked": len(results), "drifted": report.drifted,
        "drifted_share": report.drifted_share, "verdict": report.verdict,
        "report_hash": digest, "report_size": size, "profile": recorded,
        "settings": {"max_drifted_share": max_drifted_share,
                     "rules": {k: v.__dict__ for k, v in parsed.items()},
                     "correction": "benjamini-hochberg"},
        "alert": report.alert_reason, "pipeline": pipeline,
    }  # fmt: skip
    created = ctx.commit_or_defer(entry)
    if isinstance(created, dict):
        return report.stored(created)
    return report


def ab_test(
    data: str | pd.DataFrame,
    *,
    variant: str,
    outcome: str,
    kind: str | None = None,
    control: str | None = None,
    confidence: float = 0.95,
    name: str | None = None,
) -> dict[str, Any]:
    """Each variant against ``control`` (default: the first in sorted order), stored."""
    ctx = context()
    source = _data(ctx, data, "ab_outcomes")
    result = ab_results(source.frame, variant=variant, outcome=outcome, kind=kind,
                        control=control, confidence=confidence)  # fmt: skip
    entry = {"type": "ab_test", "name": name or f"{outcome} by {variant}",
             "dataset": source.ref, "variant_column": variant, "outcome": outcome,
             "result": result}  # fmt: skip
    created = ctx.commit_or_defer(entry)
    return created if isinstance(created, dict) else {**entry, **result, "id": None}

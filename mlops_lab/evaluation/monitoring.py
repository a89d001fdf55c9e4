"""Drift checks and A/B tests from a notebook or a pipeline stage: ``check_drift``, ``ab_test``.

Computed in the kernel and recorded in the current run (:func:`mlops_lab.context`):
at once in a notebook, at the stage's commit in a pipeline. A reference
dataset's profile is computed once and kept (in this process and in the
catalog). Scoring models (``evaluate``, ``compare``) is in
:mod:`mlops_lab.evaluation.tracking`.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlops_lab.errors import ArtifactCorruptError, InvalidInputError
from mlops_lab.evaluation.abtest import ab_results
from mlops_lab.evaluation.drift import (
    PROFILE_FORMAT,
    ColumnRule,
    Profile,
    build_profile,
    compare_to_profile,
)
from mlops_lab.evaluation.inputs import (
    DataInput,
    check_columns,
    data_input,
    model_input,
    scores_of,
    task_for,
)
from mlops_lab.evaluation.report import DriftReport
from mlops_lab.run_context import context

if TYPE_CHECKING:
    from mlops_lab.run_context import RunContext

__all__ = ["ab_test", "check_drift"]


# By workspace too: a profile computed for one workspace is still recorded in the next one.
_profiles: dict[tuple[str, str, str], Profile] = {}


def _profile(
    ctx: RunContext, source: DataInput, columns: list[str]
) -> tuple[Profile, dict[str, Any] | None]:
    """The reference profile: from this process, the catalog, or computed (and recorded)."""
    kinds = [(c, str(source.frame[c].dtype)) for c in columns]
    keyed = json.dumps(kinds if PROFILE_FORMAT == 1 else [PROFILE_FORMAT, *kinds])
    columns_key = hashlib.sha256(keyed.encode()).hexdigest()[:16]
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
    return profile, {
        "hash": digest,
        "size": size,
        "dataset_hash": source.hash,
        "columns_key": columns_key,
    }


def check_drift(
    reference: str | pd.DataFrame,
    current: str | pd.DataFrame,
    *,
    columns: list[str] | None = None,
    rules: dict[str, ColumnRule | dict[str, Any]] | None = None,
    model: str | None = None,
    max_drifted_share: float | None = None,
    pipeline: str | None = None,
) -> DriftReport:
    """Per-column drift of ``current`` from ``reference`` (see :mod:`.drift` for the rule).

    ``columns`` defaults to every shared non-datetime column. With ``model``,
    its predictions on both are compared too (prediction drift). When more
    than ``max_drifted_share`` of the columns drifted, or the predictions
    did, an alert asks ``pipeline`` (default: this run's) to retrain.
    ``max_drifted_share`` defaults to the project definition's
    ``drift: {max_drifted_share: ...}`` (``project.drift``), else 0.2.
    """
    ctx = context()
    project = ctx.workspace.config.project
    rule = "argument"
    if max_drifted_share is None:
        if project is not None and project.max_drifted_share is not None:
            max_drifted_share, rule = project.max_drifted_share, "project.drift.max_drifted_share"
        else:
            max_drifted_share, rule = 0.2, "default"
    ref = data_input(ctx, reference, "drift_reference")
    cur = data_input(ctx, current, "drift_current")
    if columns is None:
        columns = [
            c
            for c in ref.frame.columns
            if c in cur.frame.columns and not pd.api.types.is_datetime64_any_dtype(ref.frame[c])
        ]
    check_columns(ref.frame, columns, "Reference")
    check_columns(cur.frame, columns, "Current")
    parsed = {k: ColumnRule.parse(v) for k, v in (rules or {}).items()}
    unknown = set(parsed) - set(columns) - {"prediction"}
    if unknown:
        raise InvalidInputError(f"Rules name columns not checked: {', '.join(sorted(unknown))}.")
    profile, recorded = _profile(ctx, ref, columns)
    current_frame = cur.frame
    model_ref: dict[str, Any] | None = None
    if model is not None:
        loaded, name, version = model_input(model)
        task = task_for(loaded, None)
        predictions = pd.DataFrame({"prediction": scores_of(loaded, ref.frame, task)})
        extra = build_profile(predictions, ["prediction"])
        profile = Profile(
            rows=profile.rows,
            numeric={**profile.numeric, **extra.numeric},
            categorical=profile.categorical,
        )
        current_frame = current_frame.assign(prediction=scores_of(loaded, cur.frame, task))
        model_ref = {"name": name, "version": version}
    results = compare_to_profile(profile, current_frame, parsed)
    report = DriftReport.from_results(
        results,
        reference=ref.ref,
        current=cur.ref,
        model=model_ref,
        max_drifted_share=max_drifted_share,
    )
    blob = json.dumps([r.to_dict() for r in results]).encode()
    digest, size = ctx.workspace.artifacts.write_blob([blob])
    entry = {
        "type": "drift_report",
        "reference": ref.ref,
        "current": cur.ref,
        "model": model_ref,
        "columns_checked": len(results),
        "drifted": report.drifted,
        "drifted_share": report.drifted_share,
        "verdict": report.verdict,
        "report_hash": digest,
        "report_size": size,
        "profile": recorded,
        "settings": {
            "max_drifted_share": max_drifted_share,
            "max_drifted_share_from": rule,
            "rules": {k: v.__dict__ for k, v in parsed.items()},
            "correction": "benjamini-hochberg",
        },
        "alert": report.alert_reason,
        "pipeline": pipeline,
    }
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
    source = data_input(ctx, data, "ab_outcomes")
    result = ab_results(
        source.frame,
        variant=variant,
        outcome=outcome,
        kind=kind,
        control=control,
        confidence=confidence,
    )
    entry = {
        "type": "ab_test",
        "name": name or f"{outcome} by {variant}",
        "dataset": source.ref,
        "variant_column": variant,
        "outcome": outcome,
        "result": result,
    }
    created = ctx.commit_or_defer(entry)
    return created if isinstance(created, dict) else {**entry, **result, "id": None}

"""A/B tests from logged outcomes: each variant against the control.

Rates (a 0/1 outcome): two-proportion z-test, the statistic with the pooled
proportion (its square equals the chi-square of the 2 x 2 table without
continuity correction) and the interval with the unpooled standard error.
Means: Welch's t-test (``scipy.stats.ttest_ind(equal_var=False)``) and its
interval.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mlops_lab.errors import InvalidInputError

__all__ = ["ab_results"]


def _kind(outcome: pd.Series) -> str:
    values = set(pd.unique(outcome.dropna()))
    return "rate" if values <= {0, 1} else "mean"


def ab_results(
    frame: pd.DataFrame,
    *,
    variant: str,
    outcome: str,
    kind: str | None = None,
    control: str | None = None,
    confidence: float = 0.95,
) -> dict[str, Any]:
    from scipy import stats

    for column in (variant, outcome):
        if column not in frame.columns:
            raise InvalidInputError(
                f"No column {column!r} in the data (columns: {', '.join(map(str, frame.columns))})."
            )
    data = frame[[variant, outcome]].dropna()
    if not pd.api.types.is_numeric_dtype(data[outcome]) and not pd.api.types.is_bool_dtype(
        data[outcome]
    ):
        raise InvalidInputError(f"Outcome {outcome!r} must be numeric or 0/1.")
    kind = kind or _kind(data[outcome])
    if kind not in ("rate", "mean"):
        raise InvalidInputError(f"kind is 'rate' or 'mean', got {kind!r}.")
    groups = {str(k): g[outcome].to_numpy(dtype=float) for k, g in data.groupby(variant)}
    if len(groups) < 2:
        raise InvalidInputError(f"Column {variant!r} has fewer than two variants.")
    control = control if control is not None else sorted(groups)[0]
    if control not in groups:
        raise InvalidInputError(f"No variant {control!r} (variants: {', '.join(sorted(groups))}).")
    z_crit = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    base = groups[control]
    variants = [
        {"variant": k, "n": int(v.size), "value": float(v.mean())}
        for k, v in sorted(groups.items())
    ]
    comparisons = []
    for name, values in sorted(groups.items()):
        if name == control:
            continue
        if kind == "rate":
            comparisons.append(_proportions(name, values, base, z_crit))
        else:
            result = stats.ttest_ind(values, base, equal_var=False)
            ci = result.confidence_interval(confidence)
            comparisons.append(
                {
                    "variant": name,
                    "test": "Welch t",
                    "statistic": float(result.statistic),
                    "p_value": float(result.pvalue),
                    "difference": float(values.mean() - base.mean()),
                    "ci_low": float(ci.low),
                    "ci_high": float(ci.high),
                    "df": float(result.df),
                }
            )
    return {
        "kind": kind,
        "control": control,
        "confidence": confidence,
        "variants": variants,
        "comparisons": comparisons,
    }


def _proportions(name: str, values: np.ndarray, base: np.ndarray, z_crit: float) -> dict[str, Any]:
    from scipy import stats

    n1, n0 = values.size, base.size
    p1, p0 = values.mean(), base.mean()
    pooled = (values.sum() + base.sum()) / (n1 + n0)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    z = (p1 - p0) / se_pooled if se_pooled > 0 else 0.0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    return {
        "variant": name,
        "test": "two-proportion z",
        "statistic": float(z),
        "p_value": float(2 * stats.norm.sf(abs(z))),
        "difference": float(p1 - p0),
        "ci_low": float(p1 - p0 - z_crit * se),
        "ci_high": float(p1 - p0 + z_crit * se),
    }

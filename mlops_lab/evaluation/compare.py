"""Champion vs challenger on the same rows: a paired bootstrap of the metric difference.

Each bootstrap replicate draws the same rows for both models (multinomial
weights), so the interval reflects the difference on this data, not two
independent noises. ``difference`` is always an *improvement*: candidate
minus baseline for metrics where higher is better, baseline minus candidate
for losses (log loss, Brier, MAE, RMSE). The gate passes when the lower end
of the interval reaches ``min_improvement``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mlops_lab.errors import InvalidInputError
from mlops_lab.evaluation.metrics import LOWER_IS_BETTER

__all__ = ["METRICS", "paired_bootstrap"]


def _metric(name: str, positive: Any) -> Callable[[np.ndarray, np.ndarray, np.ndarray], float]:
    from sklearn import metrics as m

    def scored(fn: Any) -> Callable[[np.ndarray, np.ndarray, np.ndarray], float]:
        return lambda y, s, w: float(fn(y, s, sample_weight=w))

    table: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], float]] = {
        "roc_auc": scored(m.roc_auc_score),
        "pr_auc": scored(m.average_precision_score),
        "log_loss": lambda y, s, w: float(m.log_loss(y, s, sample_weight=w, labels=[0, 1])),
        "brier": scored(m.brier_score_loss),
        "accuracy": lambda y, s, w: float(np.average(y == (s >= 0.5), weights=w)),
        "mae": lambda y, s, w: float(np.average(np.abs(y - s), weights=w)),
        "rmse": lambda y, s, w: float(np.sqrt(np.average((y - s) ** 2, weights=w))),
        "r2": scored(m.r2_score),
    }
    if name not in table:
        raise InvalidInputError(f"Unknown metric {name!r}; use one of {', '.join(sorted(table))}.")
    return table[name]


METRICS = ("roc_auc", "pr_auc", "log_loss", "brier", "accuracy", "mae", "rmse", "r2")


def paired_bootstrap(
    y: np.ndarray,
    baseline: np.ndarray,
    candidate: np.ndarray,
    *,
    metric: str,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """The metric of both, the improvement and its percentile interval."""
    if not 0 < confidence < 1:
        raise InvalidInputError(f"confidence must be between 0 and 1, got {confidence}.")
    if n_boot < 100:
        raise InvalidInputError(f"Use at least 100 bootstrap replicates, got {n_boot}.")
    fn = _metric(metric, None)
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    ones = np.ones(len(y))
    base_value, cand_value = fn(y, baseline, ones), fn(y, candidate, ones)
    rng = np.random.default_rng(seed)
    diffs = np.empty(n_boot)
    for i in range(n_boot):
        weights = rng.multinomial(len(y), np.full(len(y), 1.0 / len(y))).astype(float)
        diffs[i] = sign * (fn(y, candidate, weights) - fn(y, baseline, weights))
    tail = (1 - confidence) / 2
    low, high = np.quantile(diffs, [tail, 1 - tail])
    return {
        "baseline_value": base_value,
        "candidate_value": cand_value,
        "difference": sign * (cand_value - base_value),
        "ci_low": float(low),
        "ci_high": float(high),
        "confidence": confidence,
        "n_boot": n_boot,
        "rows": len(y),
        "higher_is_better": sign > 0,
    }

"""Standard metrics of a classifier or a regressor, overall and per slice.

Every number is scikit-learn's on the same arrays (``sklearn.metrics``);
binary tasks take the second class as positive, multiclass ones average
precision, recall and F1 over classes (macro) and score ROC AUC one-vs-rest.
Curves are kept at up to ``CURVE_POINTS`` points (evenly spaced, ends kept).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CURVE_POINTS", "MAX_SLICE_VALUES", "classification", "regression", "sliced"]

CURVE_POINTS = 500
MAX_SLICE_VALUES = 20
LOWER_IS_BETTER = frozenset({"log_loss", "mae", "rmse", "brier"})


def _thin(*arrays: np.ndarray) -> list[list[float | None]]:
    n = len(arrays[0])
    if n > CURVE_POINTS:
        keep = np.unique(np.linspace(0, n - 1, CURVE_POINTS).round().astype(int))
        arrays = tuple(a[keep] for a in arrays)
    return [[_num(v) for v in a] for a in arrays]


def _num(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _safe(fn: Any, *args: Any, **kwargs: Any) -> float | None:
    """A metric undefined on this data (one class only) is None, not an error."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _num(fn(*args, **kwargs))
    except ValueError:
        return None


def classification(
    y_true: np.ndarray, predicted: np.ndarray, proba: np.ndarray | None, classes: list[Any]
) -> tuple[dict[str, float | None], dict[str, Any]]:
    """(scalar metrics, details: confusion matrix and the binary curves)."""
    from sklearn import metrics as m

    binary = len(classes) == 2
    average = "binary" if binary else "macro"
    pos = classes[1] if binary else 1
    scores: dict[str, float | None] = {
        "accuracy": _num(m.accuracy_score(y_true, predicted)),
        "precision": _safe(
            m.precision_score, y_true, predicted, average=average, pos_label=pos, zero_division=0
        ),
        "recall": _safe(
            m.recall_score, y_true, predicted, average=average, pos_label=pos, zero_division=0
        ),
        "f1": _safe(m.f1_score, y_true, predicted, average=average, pos_label=pos, zero_division=0),
    }
    details: dict[str, Any] = {
        "confusion_matrix": {
            "labels": [_plain(c) for c in classes],
            "matrix": m.confusion_matrix(y_true, predicted, labels=classes).tolist(),
        },
        "curves": None,
    }
    if proba is not None:
        positive = proba[:, 1] if binary else proba
        scores["roc_auc"] = _safe(
            m.roc_auc_score,
            y_true,
            positive,
            labels=classes,
            **({} if binary else {"multi_class": "ovr"}),
        )
        scores["log_loss"] = _safe(m.log_loss, y_true, proba, labels=classes)
        if binary:
            is_pos = np.asarray(y_true) == pos
            scores["pr_auc"] = _safe(m.average_precision_score, is_pos, positive)
            scores["brier"] = _safe(m.brier_score_loss, is_pos, positive)
            details["curves"] = _curves(is_pos, positive)
    return scores, details


def _curves(is_pos: np.ndarray, score: np.ndarray) -> dict[str, Any] | None:
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import precision_recall_curve, roc_curve

    if is_pos.all() or not is_pos.any():
        return None
    fpr, tpr, _ = roc_curve(is_pos, score)
    precision, recall, _ = precision_recall_curve(is_pos, score)
    fraction, mean_predicted = calibration_curve(is_pos, score, n_bins=10)
    counts = np.histogram(score, bins=np.linspace(0, 1, 11))[0]
    roc_x, roc_y = _thin(fpr, tpr)
    pr_x, pr_y = _thin(recall[::-1], precision[::-1])
    return {
        "roc": {"x": roc_x, "y": roc_y},
        "pr": {"x": pr_x, "y": pr_y},
        "calibration": {
            "x": [_num(v) for v in mean_predicted],
            "y": [_num(v) for v in fraction],
            "counts": [int(c) for c in counts if c > 0],
        },
    }


def regression(y_true: np.ndarray, predicted: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    from sklearn import metrics as m

    residuals = np.asarray(y_true, dtype=float) - np.asarray(predicted, dtype=float)
    scores = {
        "mae": _num(m.mean_absolute_error(y_true, predicted)),
        "rmse": _num(math.sqrt(m.mean_squared_error(y_true, predicted))),
        "r2": _safe(m.r2_score, y_true, predicted),
    }
    counts, edges = np.histogram(residuals, bins=30)
    quantiles = np.quantile(residuals, [0.05, 0.25, 0.5, 0.75, 0.95])
    details = {
        "residuals": {
            "mean": _num(residuals.mean()),
            "std": _num(residuals.std()),
            "quantiles": {
                str(q): _num(v)
                for q, v in zip((0.05, 0.25, 0.5, 0.75, 0.95), quantiles, strict=True)
            },
            "histogram": {"edges": [_num(e) for e in edges], "counts": counts.tolist()},
        }
    }
    return scores, details


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def sliced(frame: pd.DataFrame, columns: list[str], compute: Any) -> list[dict[str, Any]]:
    """``compute(mask)`` per value of each slice column (its most frequent values first)."""
    results = []
    for column in columns:
        counts = frame[column].astype("string").fillna("<missing>").value_counts()
        keys = frame[column].astype("string").fillna("<missing>").to_numpy()
        for value, rows in counts.head(MAX_SLICE_VALUES).items():
            mask = keys == value
            results.append(
                {"column": column, "value": str(value), "rows": int(rows), "metrics": compute(mask)}
            )
    return results

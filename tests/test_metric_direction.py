"""Which way a metric improves, from its name (mlops_lab.metric_direction)."""

from __future__ import annotations

import pytest

from mlops_lab.metric_direction import change, higher_is_better


@pytest.mark.parametrize(
    "name",
    [
        "loss",
        "val_loss",
        "log_loss",
        "logloss",
        "hingeLoss",
        "mean_absolute_error",
        "error_rate",
        "meanSquaredError",
        "rmse",
        "MAE",
        "test-mse",
        "p95_latency_ms",
        "latency",
        "brier",
        "train.perplexity",
        "fit duration",
        "drifted_columns",
        "drifted_share",
    ],
)
def test_lower_is_better_when_a_word_says_so(name: str) -> None:
    assert higher_is_better(name) is False


@pytest.mark.parametrize(
    "name",
    ["accuracy", "auc", "roc_auc", "f1", "r2", "recall", "total", "n", "closeness", "maeve"],
)
def test_higher_is_better_otherwise(name: str) -> None:
    assert higher_is_better(name) is True


@pytest.mark.parametrize(
    ("name", "a", "b", "expected"),
    [
        ("accuracy", 0.8, 0.9, "better"),
        ("accuracy", 0.9, 0.8, "worse"),
        ("val_loss", 0.5, 0.4, "better"),
        ("val_loss", 0.4, 0.5, "worse"),
        ("rmse", 2.0, 2.0, "same"),
        ("rmse", None, 2.0, None),
        ("auc", 0.7, None, None),
    ],
)
def test_change_reads_the_direction(
    name: str, a: float | None, b: float | None, expected: str | None
) -> None:
    assert change(name, a, b) == expected

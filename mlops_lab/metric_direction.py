"""Which way a metric improves, read from its name: the one rule every view uses.

Higher is better (accuracy, AUC, F1, R², recall...) unless one word of the name says
the metric counts something to keep small: a loss, an error, a latency, a cost. Words
are the name's parts split on ``_``, ``-``, ``.``, ``/``, spaces and camelCase, so
``val_loss``, ``meanAbsoluteError``, ``p95_latency_ms`` and ``logloss`` all read as
lower-is-better, while ``closeness`` does not.
"""

from __future__ import annotations

import re

__all__ = ["LOWER_IS_BETTER_WORDS", "change", "higher_is_better"]

# A word of a metric's name that marks it lower-is-better.
LOWER_IS_BETTER_WORDS = frozenset(
    {
        "loss",
        "logloss",
        "error",
        "errors",
        "err",
        "latency",
        "rmse",
        "mse",
        "mae",
        "mape",
        "smape",
        "rmsle",
        "msle",
        "brier",
        "perplexity",
        "cost",
        "regret",
        "duration",
        "seconds",
        "wer",
        "cer",
        "fpr",
        "fnr",
        "drift",
        "drifted",  # drifted_columns, max_drifted_share
    }
)
_SUFFIXES = ("loss", "error")  # logloss, hingeloss, trainerror
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def _words(name: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(name)]


def higher_is_better(name: str) -> bool:
    """Whether a bigger value of the metric ``name`` is an improvement."""
    return not any(
        word in LOWER_IS_BETTER_WORDS or (len(word) > 5 and word.endswith(_SUFFIXES))
        for word in _words(name)
    )


def change(name: str, a: float | None, b: float | None) -> str | None:
    """How going from ``a`` to ``b`` reads for the metric ``name``: ``"better"``,
    ``"worse"``, ``"same"``, or None when either value is missing."""
    if a is None or b is None:
        return None
    if a == b:
        return "same"
    return "better" if (b > a) == higher_is_better(name) else "worse"

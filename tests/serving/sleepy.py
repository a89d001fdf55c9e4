"""Models that take a set time to answer, or fail on a share of requests (the serving SLO
and rollout tests).

It is no scikit-learn estimator, so it is registered as a trusted pickle: the
``mlops-lab serve`` child process imports this module (``tests`` is on its path).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np


class SleepyModel:
    """Predicts 0.0 for every row, after sleeping ``seconds`` per call."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def predict(self, X: Any) -> np.ndarray:
        time.sleep(self.seconds)
        return np.zeros(len(X))


class FlakyModel:
    """Predicts 0.0, but fails (a RuntimeError: the server answers 500) on every row whose
    first feature is below ``fail_below``: the share of failed requests is the share of
    such rows the client sends."""

    def __init__(self, fail_below: float) -> None:
        self.fail_below = fail_below

    def predict(self, X: Any) -> np.ndarray:
        if (np.asarray(X, dtype=float)[:, 0] < self.fail_below).any():
            raise RuntimeError("the flaky model failed, as it was built to")
        return np.zeros(len(X))

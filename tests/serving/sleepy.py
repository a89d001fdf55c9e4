"""A model that takes a set time to answer, for the serving SLO tests.

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

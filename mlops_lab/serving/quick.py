"""Quick predictions in the Jupyter server's process (the panel's "Try a prediction").

:class:`QuickPredictors` keeps one :class:`~mlops_lab.serving.predictor.Predictor`
per (workspace, model reference) for as long as its owner lives (the Jupyter
server extension keeps one in its app settings); each prediction first follows
alias moves. Nothing is logged: the answer is the one a model server's
``POST /predict`` gives.
"""

from __future__ import annotations

import threading
from typing import Any

from mlops_lab.serving.predictor import Predictor
from mlops_lab.workspace import Workspace

__all__ = ["QuickPredictors"]


class QuickPredictors:
    """Predictors loaded on first use, shared by the threads that ask (thread-safe)."""

    def __init__(self) -> None:
        self._predictors: dict[tuple[str, str], Predictor] = {}
        self._lock = threading.Lock()

    def predict(
        self,
        workspace: Workspace,
        ref: str,
        entity: dict[str, Any] | None,
        features: dict[str, Any] | None,
    ) -> dict[str, Any]:
        key = (str(workspace.root), ref)
        with self._lock:
            predictor = self._predictors.get(key)
            if predictor is None:
                predictor = self._predictors[key] = Predictor(workspace, ref)
        predictor.refresh()
        return predictor.predict(entity or {}, features)

"""What the evaluation calls take: a dataset (name, ``name@3`` or a loaded frame) and a model.

Shared by :mod:`mlops_lab.evaluation.tracking` (scoring models) and
:mod:`mlops_lab.evaluation.monitoring` (drift and A/B tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlops_lab.errors import InvalidInputError
from mlops_lab.models.signature import task_of
from mlops_lab.models.tracking import load_model
from mlops_lab.run_context import loaded_from

if TYPE_CHECKING:
    from mlops_lab.models.lookup import LoadedModel
    from mlops_lab.run_context import RunContext

__all__ = ["DataInput", "check_columns", "data_input", "model_input", "scores_of", "task_for"]


@dataclass(frozen=True, kw_only=True)
class DataInput:
    frame: pd.DataFrame
    name: str
    version: int | None  # None: saved in this stage, numbered at its commit
    hash: str

    @property
    def ref(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}


def data_input(ctx: RunContext, data: Any, fallback: str) -> DataInput:
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
    return DataInput(
        frame=frame, name=origin["name"], version=origin["version"], hash=origin["hash"]
    )


def model_input(ref: str) -> tuple[LoadedModel, str, int | None]:
    loaded = load_model(ref)
    return loaded, loaded.version.name, loaded.version.version


def task_for(loaded: LoadedModel, task: str | None) -> str:
    from sklearn.base import is_classifier, is_regressor

    kind = task_of(loaded.version.signature)
    if kind is None:
        kind = (
            "classification"
            if is_classifier(loaded.model)
            else ("regression" if is_regressor(loaded.model) else None)
        )
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


def check_columns(frame: pd.DataFrame, wanted: list[str], what: str) -> None:
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"{what} column(s) {', '.join(map(repr, missing))} not in the data "
            f"(columns: {', '.join(map(str, frame.columns))})."
        )


def scores_of(loaded: LoadedModel, X: pd.DataFrame, task: str) -> np.ndarray:
    """The positive class's probability (binary classifiers) or the prediction (regressors)."""
    if task == "classification":
        proba = np.asarray(loaded.predict_proba(X))
        if proba.shape[1] != 2:
            raise InvalidInputError("compare() supports binary classifiers and regressors.")
        return proba[:, 1]
    return np.asarray(loaded.predict(X), dtype=float)

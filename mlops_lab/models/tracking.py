"""The model store from a notebook or a pipeline stage: ``mlops_lab.register_model``.

These calls belong to the current run (:func:`mlops_lab.context`): the
version records the run, stage, notebook and its hash, the parameters, and
the training frame's dataset version with the feature views behind it. In a
stage the version is numbered when the stage commits (it is ``None`` until
then); downstream stages load exactly the version their upstream registered.
"""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING, Any

from mlops_lab.datasets import DatasetVersion
from mlops_lab.errors import InvalidInputError
from mlops_lab.models.aliases import check_promotion
from mlops_lab.models.lookup import LoadedModel
from mlops_lab.models.lookup import load_model as load_stored_model
from mlops_lab.models.registry import prepare_version
from mlops_lab.models.version import ModelVersion
from mlops_lab.run_context import context

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["load_model", "promote", "register_model"]


def register_model(
    name: str,
    model: Any,
    *,
    X_sample: pd.DataFrame | None = None,
    training_frame: pd.DataFrame | DatasetVersion | str | None = None,
    description: str = "",
    tags: list[str] | None = None,
    trusted: bool = False,
) -> ModelVersion:
    """Register ``model`` as the next version of ``name``, with its lineage.

    ``training_frame`` is what it was trained on: a dataset name (``"train"``,
    ``"train@3"``), a :class:`DatasetVersion`, or a frame loaded with
    ``ctx.load_dataset`` (it remembers where it came from). Any other frame
    is saved as dataset ``<name>_training`` first, so the lineage is never lost.
    """
    ctx = context()
    training, views = _training(ctx, name, training_frame)
    notebook, notebook_hash = ctx.notebook
    spec = prepare_version(
        ctx.workspace,
        name,
        model,
        X_sample=X_sample,
        trusted=trusted,
        description=description,
        tags=list(tags or []),
    )
    entry = {
        "type": "model",
        "name": name,
        "hash": spec.artifact_hash,
        "size": spec.size,
        "flavor": spec.flavor,
        "trusted": trusted,
        "signature": spec.signature,
        "training_dataset": training,
        "feature_views": views,
        "parameters": ctx.all_parameters,
        "description": description,
        "tags": spec.tags,
        "notebook": notebook,
        "notebook_hash": notebook_hash,
    }
    created = ctx.commit_or_defer(entry)
    if created is not None:
        return created  # type: ignore[no-any-return]
    from datetime import UTC, datetime

    pending = ModelVersion(
        name=name,
        version=None,
        flavor=spec.flavor,
        artifact_hash=spec.artifact_hash,
        trusted=trusted,
        signature=spec.signature,
        run_id=ctx.run_id,
        stage=ctx.stage,
        training_dataset=None,
        feature_views=sorted(views or {}),
        parameters=ctx.all_parameters,
        description=description,
        tags=spec.tags,
        created_at=datetime.now(UTC),
        notebook=notebook,
        notebook_hash=notebook_hash,
    )
    ctx.pending["models"][name] = LoadedModel(pending, model)
    return pending


def _training(
    ctx: Any, name: str, frame: pd.DataFrame | DatasetVersion | str | None
) -> tuple[dict[str, Any] | None, dict[str, list[str]] | None]:
    """({"name", "version"} of the training dataset (None: saved in this stage), views)."""
    import pandas as pd

    if frame is None:
        return None, None
    if isinstance(frame, str):
        dataset, _, version = frame.partition("@")
        if version:
            if not version.isdigit():
                raise InvalidInputError(f"Invalid dataset reference {frame!r}: use 'name@3'.")
            return {"name": dataset, "version": int(version)}, None
        found = ctx.dataset_version(dataset)
        return {"name": dataset, "version": found.version}, None
    if isinstance(frame, DatasetVersion):
        return {"name": frame.name, "version": frame.version}, None
    if isinstance(frame, pd.DataFrame):
        views = frame.attrs.get("mlops_lab_features") or None
        source = frame.attrs.get("mlops_lab_dataset")
        if source:
            return {"name": source["name"], "version": source["version"]}, views
        saved = ctx.save_dataset(f"{name}_training", frame)
        return {"name": saved.name, "version": saved.version}, views
    raise InvalidInputError(
        "training_frame takes a DataFrame, a DatasetVersion or a dataset name, "
        f"got {type(frame).__name__}."
    )


def load_model(ref: str) -> LoadedModel:
    """Load ``"churn"``, ``"churn/3"`` or ``"churn@champion"`` (hash verified).

    In a pipeline stage, a bare name means the version this stage or the
    stages it needs registered, else the latest.
    """
    ctx = context()
    if "/" not in ref and "@" not in ref:
        pending = ctx.pending["models"].get(ref)
        if pending is not None:
            return pending  # type: ignore[no-any-return]
        upstream = ctx.upstream("models", ref)
        if upstream is not None:
            ref = f"{ref}/{upstream['version']}"
    return load_stored_model(ctx.workspace, ref)


def promote(name: str, version: int | None = None, *, alias: str, reason: str) -> dict[str, Any]:
    """Point ``alias`` at ``version`` (default: the one this run registered, else the latest).

    In a stage the move happens when the stage commits (returns ``None`` until then).
    """
    check_promotion(alias, reason)
    ctx = context()
    if version is None and name not in ctx.pending["models"]:
        version = load_model(name).version.version
    entry = {
        "type": "promotion",
        "name": name,
        "version": version,
        "alias": alias,
        "reason": reason,
        "by": getpass.getuser(),
    }
    return ctx.commit_or_defer(entry)  # type: ignore[no-any-return]

"""A model version as the catalog stores it: the record and its row in ``model_versions``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["VERSION_COLUMNS", "ModelVersion", "version_from_row"]

# The columns of ``model_versions``, in the order :func:`version_from_row` reads them.
VERSION_COLUMNS = (
    "name, version, flavor, artifact_hash, trusted, signature, run_id, stage, training_dataset, "
    "feature_views, parameters, description, tags, created_at, notebook, notebook_hash"
)


@dataclass(frozen=True, kw_only=True)
class ModelVersion:
    name: str
    version: int | None  # None: registered in a pipeline stage that has not committed yet
    flavor: str
    artifact_hash: str
    trusted: bool
    signature: dict[str, Any] | None
    run_id: str | None
    stage: str | None
    training_dataset: str | None
    feature_views: list[str]
    parameters: dict[str, Any]
    description: str
    tags: list[str]
    created_at: datetime
    notebook: str | None = None
    notebook_hash: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["created_at"] = self.created_at.isoformat()
        data["aliases"] = list(self.aliases)
        return data


def version_from_row(row: tuple[Any, ...], aliases: tuple[str, ...] = ()) -> ModelVersion:
    (
        name,
        version,
        flavor,
        digest,
        trusted,
        signature,
        run_id,
        stage,
        dataset,
        views,
        params,
        description,
        tags,
        created_at,
        notebook,
        notebook_hash,
    ) = row
    return ModelVersion(
        name=name,
        version=int(version),
        flavor=flavor,
        artifact_hash=digest,
        trusted=bool(trusted),
        signature=json.loads(signature) if signature else None,
        run_id=run_id,
        stage=stage,
        training_dataset=dataset,
        feature_views=json.loads(views) if views else [],
        parameters=json.loads(params) if params else {},
        description=description,
        tags=json.loads(tags),
        created_at=created_at,
        notebook=notebook,
        notebook_hash=notebook_hash,
        aliases=aliases,
    )

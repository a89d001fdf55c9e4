"""A registered feature view version, as the catalog holds it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mlops_lab.features.definitions import FeatureViewDefinition

__all__ = [
    "LEGACY_WINDOWS",
    "VIEW_COLUMNS",
    "FeatureViewVersion",
    "view_from_row",
]

VIEW_COLUMNS = (
    "name, version, digest, definition, entity, source_dataset, source_version, table_artifact, "
    "row_count, features, owner, tags, description, ttl_seconds, run_id, created_at, "
    "table_format"
)
LEGACY_WINDOWS = "event_windows"  # window views computed before catalog version 9


@dataclass(frozen=True, kw_only=True)
class FeatureViewVersion:
    name: str
    version: int
    digest: str
    definition: FeatureViewDefinition
    entity: str
    source_dataset: str
    source_version: int
    table_artifact: str
    row_count: int
    features: list[dict[str, Any]]  # name, dtype, description, stats..., histogram
    owner: str
    tags: list[str]
    description: str
    ttl_seconds: int | None
    run_id: str | None
    created_at: datetime
    table_format: str = "rows"  # 'rows' (plain), 'events' (window), 'event_windows' (legacy)

    @property
    def feature_names(self) -> list[str]:
        return [f["name"] for f in self.features]

    @property
    def windowed(self) -> bool:
        return self.definition.windowed

    def to_dict(self, *, histograms: bool = True) -> dict[str, Any]:
        features = [
            f if histograms else {k: v for k, v in f.items() if k != "histogram"}
            for f in self.features
        ]
        return {
            "name": self.name,
            "version": self.version,
            "digest": self.digest,
            "definition": self.definition.to_dict(),
            "entity": self.entity,
            "source": {"dataset": self.source_dataset, "version": self.source_version},
            "table_artifact": self.table_artifact,
            "row_count": self.row_count,
            "features": features,
            "owner": self.owner,
            "tags": self.tags,
            "description": self.description,
            "ttl_seconds": self.ttl_seconds,
            "run_id": self.run_id,
            "created_at": self.created_at.isoformat(),
            "table_format": self.table_format,
            "windowed": self.windowed,
        }


def view_from_row(row: tuple[Any, ...]) -> FeatureViewVersion:
    (
        name,
        version,
        digest,
        definition,
        entity,
        source,
        source_version,
        table,
        rows,
        features,
        owner,
        tags,
        description,
        ttl,
        run_id,
        created_at,
        table_format,
    ) = row
    return FeatureViewVersion(
        name=name,
        version=int(version),
        digest=digest,
        definition=FeatureViewDefinition.from_dict(json.loads(definition)),
        entity=entity,
        source_dataset=source,
        source_version=int(source_version),
        table_artifact=table,
        row_count=int(rows),
        features=json.loads(features),
        owner=owner,
        tags=json.loads(tags),
        description=description,
        ttl_seconds=ttl,
        run_id=run_id,
        created_at=created_at,
        table_format=table_format or "rows",
    )

"""Registering entities and feature view versions: compute a view's table and statistics,
and write the version (at once, or at the commit of the pipeline stage it runs in)."""

from __future__ import annotations

import json
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from mlops_lab.artifacts import PARQUET
from mlops_lab.datasets import get_dataset_version
from mlops_lab.errors import InvalidInputError
from mlops_lab.features.compute import (
    build_feature_table,
    feature_stats,
    memory_connection,
    window_stats_table,
)
from mlops_lab.features.definitions import Entity, FeatureViewDefinition
from mlops_lab.features.entries import defer_view, insert_version, stage_of
from mlops_lab.features.queries import get_entity, get_view, latest_view
from mlops_lab.features.versions import (
    LEGACY_WINDOWS,
    VIEW_COLUMNS,
    FeatureViewVersion,
    view_from_row,
)
from mlops_lab.features.windows import EVENTS_FORMAT, describe, window_features
from mlops_lab.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["current_view", "rebuild_view", "register_entity", "register_view"]


# -- entities ---------------------------------------------------------------------------


def register_entity(workspace: Workspace, entity: Entity) -> Entity:
    """Register ``entity``; the same name with other join keys is refused."""

    def write(con: duckdb.DuckDBPyConnection) -> Entity:
        row = con.execute(
            "SELECT join_keys, description FROM entities WHERE name = ?", [entity.name]
        ).fetchone()
        if row is not None:
            keys = tuple(json.loads(row[0]))
            if keys != entity.join_keys:
                raise InvalidInputError(
                    f"Entity {entity.name!r} exists with join keys {list(keys)}; "
                    f"register another name for keys {list(entity.join_keys)}."
                )
            if entity.description and entity.description != row[1]:
                con.execute(
                    "UPDATE entities SET description = ? WHERE name = ?",
                    [entity.description, entity.name],
                )
            return entity
        con.execute(
            "INSERT INTO entities (name, join_keys, description) VALUES (?, ?, ?)",
            [entity.name, json.dumps(list(entity.join_keys)), entity.description],
        )
        return entity

    return workspace.catalog.transaction(write)


# -- feature views ----------------------------------------------------------------------


def register_view(
    workspace: Workspace,
    definition: FeatureViewDefinition,
    *,
    run_id: str | None = None,
    python_transform: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> FeatureViewVersion:
    """Compute the view's table and statistics and register it as a version.

    An identical definition over identical source content returns the latest
    version unchanged; anything else becomes version N+1. A ``python_transform``
    must match ``definition.python_transform`` (its source code).
    """
    if (python_transform is None) != (definition.python_transform is None):
        raise InvalidInputError(
            "Pass the pandas transform function together with its source (the feature "
            "store's register_feature_view(transform=callable) does both)."
        )
    entity = get_entity(workspace, definition.entity)
    source = get_dataset_version(workspace, definition.source, definition.source_version)
    digest = definition.digest(source.artifact_hash)
    latest = latest_view(workspace, definition.name)
    if latest is not None and latest.digest == digest:
        if latest.table_format == LEGACY_WINDOWS:
            return rebuild_view(
                workspace, latest.name, latest.version, python_transform=python_transform
            )
        return latest
    stage = stage_of(workspace)  # in a pipeline stage: registered at its commit
    computed = _compute(
        workspace,
        definition,
        entity,
        source.artifact_hash,
        run_id=run_id,
        python_transform=python_transform,
        register=stage is None,
    )
    pinned = FeatureViewDefinition.from_dict(
        {**definition.to_dict(), "source_version": source.version}
    )
    entry = {
        "type": "feature_view",
        "name": definition.name,
        "version": None if stage is None else (latest.version if latest else 0) + 1,
        "digest": digest,
        "definition": pinned.to_dict(),
        "entity": entity.name,
        "source_dataset": source.name,
        "source_version": source.version,
        "table_artifact": computed.artifact,
        "table_size": computed.size,
        "row_count": computed.rows,
        "features": json.loads(json.dumps(computed.features, default=str)),
        "owner": definition.owner,
        "tags": list(definition.tags),
        "description": definition.description,
        "ttl_seconds": definition.ttl_seconds,
        "run_id": run_id,
        "table_format": computed.table_format,
    }
    if stage is not None:
        return defer_view(stage, entry)
    return workspace.catalog.transaction(lambda con: insert_version(con, entry))


@dataclass(frozen=True, kw_only=True)
class _Computed:
    artifact: str
    size: int
    rows: int
    features: list[dict[str, Any]]
    table_format: str


def _compute(
    workspace: Workspace,
    definition: FeatureViewDefinition,
    entity: Entity,
    source_hash: str,
    *,
    run_id: str | None,
    python_transform: Callable[[pd.DataFrame], pd.DataFrame] | None,
    register: bool = True,
) -> _Computed:
    """The view's table as a Parquet artifact, and its features with statistics.

    ``register=False`` writes the table as a blob only (registered at a stage's commit).
    """
    con = memory_connection()
    try:
        names = build_feature_table(
            con,
            source_path=workspace.artifacts.verified_path(source_hash),
            definition=definition,
            entity=entity,
            python_transform=python_transform,
        )
        extra: dict[str, dict[str, Any]] = {}
        if definition.windowed:
            about = window_stats_table(con, definition, entity)
            stats = feature_stats(con, "stats_table", names)
            for name, function, column, seconds in window_features(definition):
                extra[name] = {
                    "function": function,
                    "column": column,
                    "window_seconds": seconds,
                    "definition": describe(function, column, seconds),
                    "stats_as_of": about,
                }
            order = ""  # already in __seq order
        else:
            stats = feature_stats(con, "feature_table", names)
            order = "ORDER BY event_timestamp, created_timestamp"
        rows_row = con.execute("SELECT count(*) FROM feature_table").fetchone()
        rows = int(rows_row[0]) if rows_row else 0
        with tempfile.TemporaryDirectory(prefix="mlops-lab-view-") as folder:
            target = Path(folder) / "table.parquet"
            quoted = str(target).replace("'", "''")
            con.execute(
                f"COPY (SELECT * FROM feature_table {order}) TO '{quoted}' "
                "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)"
            )
            if register:
                stored = workspace.artifacts.put_file(target, media_type=PARQUET, run_id=run_id)
                table_hash, size = stored.hash, stored.size
            else:
                table_hash, size = workspace.artifacts.write_blob(_chunks(target))
    finally:
        con.close()
    features = [
        {
            "name": name,
            "description": definition.feature_descriptions.get(name, ""),
            **stats[name],
            **extra.get(name, {}),
        }
        for name in names
    ]
    return _Computed(
        artifact=table_hash,
        size=size,
        rows=rows,
        features=features,
        table_format=EVENTS_FORMAT if definition.windowed else "rows",
    )


def _chunks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk


def rebuild_view(
    workspace: Workspace,
    name: str,
    version: int | None = None,
    *,
    python_transform: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> FeatureViewVersion:
    """Recompute a version's table and statistics from its pinned source and definition.

    For window views registered before window values were computed as of the time asked
    for (``table_format`` 'event_windows'). The version keeps its number and digest; the
    old table stays in the artifact store (``rebuilt_from``). A view with a pandas transform
    cannot be recomputed without the function (it is not stored): register it again.
    """
    view = get_view(workspace, name, version)
    definition = view.definition
    if definition.python_transform is not None and python_transform is None:
        raise InvalidInputError(
            f"Feature view {name!r} v{view.version} uses a pandas transform, which is not "
            "stored: register the view again with the function "
            "(store.register_feature_view(..., transform=function))."
        )
    entity = get_entity(workspace, view.entity)
    source = get_dataset_version(workspace, view.source_dataset, view.source_version)
    computed = _compute(
        workspace,
        definition,
        entity,
        source.artifact_hash,
        run_id=view.run_id,
        python_transform=python_transform,
    )

    def write(con: duckdb.DuckDBPyConnection) -> FeatureViewVersion:
        con.execute(
            "UPDATE feature_view_versions SET table_artifact = ?, row_count = ?, features = ?, "
            "table_format = ?, rebuilt_from = coalesce(rebuilt_from, ?) "
            "WHERE name = ? AND version = ?",
            [
                computed.artifact,
                computed.rows,
                json.dumps(computed.features, default=str),
                computed.table_format,
                view.table_artifact,
                view.name,
                view.version,
            ],
        )
        row = con.execute(
            f"SELECT {VIEW_COLUMNS} FROM feature_view_versions WHERE name = ? AND version = ?",
            [view.name, view.version],
        ).fetchone()
        assert row is not None
        return view_from_row(row)

    return workspace.catalog.transaction(write)


def current_view(workspace: Workspace, view: FeatureViewVersion) -> FeatureViewVersion:
    """``view``, recomputed first when it is a window view of the old format (see
    :func:`rebuild_view`), with a warning that says so."""
    if view.table_format != LEGACY_WINDOWS:
        return view
    warnings.warn(
        f"Feature view {view.name!r} v{view.version} was computed with the old window "
        "semantics (values as of each event); recomputing it now as of the time asked for "
        f"(`mlops-lab features rebuild {view.name}` does this ahead of time).",
        stacklevel=3,
    )
    return rebuild_view(workspace, view.name, view.version)

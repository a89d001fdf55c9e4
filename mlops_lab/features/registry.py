"""Entities and feature view versions in the catalog: register, get, list and search."""

from __future__ import annotations

import json
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from mlops_lab.artifacts import PARQUET
from mlops_lab.catalog import iso_utc
from mlops_lab.datasets import get_dataset_version
from mlops_lab.errors import FeatureNotFoundError, InvalidInputError, NotFoundError
from mlops_lab.features.compute import (
    build_feature_table,
    feature_stats,
    memory_connection,
    window_stats_table,
)
from mlops_lab.features.definitions import Entity, FeatureViewDefinition, validate_identifier
from mlops_lab.features.windows import EVENTS_FORMAT, describe, window_features
from mlops_lab.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FeatureViewVersion",
    "current_view",
    "get_entity",
    "get_view",
    "list_views",
    "rebuild_view",
    "register_entity",
    "register_view",
    "search_views",
]

_VIEW_COLUMNS = (
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


def _view(row: tuple[Any, ...]) -> FeatureViewVersion:
    (name, version, digest, definition, entity, source, source_version, table, rows, features,
     owner, tags, description, ttl, run_id, created_at, table_format) = row  # fmt: skip
    return FeatureViewVersion(
        name=name, version=int(version), digest=digest,
        definition=FeatureViewDefinition.from_dict(json.loads(definition)), entity=entity,
        source_dataset=source, source_version=int(source_version), table_artifact=table,
        row_count=int(rows), features=json.loads(features), owner=owner, tags=json.loads(tags),
        description=description, ttl_seconds=ttl, run_id=run_id, created_at=created_at,
        table_format=table_format or "rows",
    )  # fmt: skip


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


def get_entity(workspace: Workspace, name: str) -> Entity:
    rows = workspace.catalog.read("SELECT name, join_keys, description FROM entities")
    for entity_name, keys, description in rows:
        if entity_name == name:
            return Entity(name=name, join_keys=tuple(json.loads(keys)), description=description)
    raise FeatureNotFoundError("entity", name, [r[0] for r in rows])


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
    latest = _latest(workspace, definition.name)
    if latest is not None and latest.digest == digest:
        if latest.table_format == LEGACY_WINDOWS:
            return rebuild_view(workspace, latest.name, latest.version,
                                python_transform=python_transform)  # fmt: skip
        return latest
    computed = _compute(workspace, definition, entity, source.artifact_hash, run_id=run_id,
                        python_transform=python_transform)  # fmt: skip
    pinned = FeatureViewDefinition.from_dict(
        {**definition.to_dict(), "source_version": source.version}
    )

    def write(con: duckdb.DuckDBPyConnection) -> FeatureViewVersion:
        con.execute(
            "INSERT INTO feature_views (name, description) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET description = excluded.description",
            [definition.name, definition.description],
        )
        row = con.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM feature_view_versions WHERE name = ?",
            [definition.name],
        ).fetchone()
        assert row is not None
        con.execute(
            f"INSERT INTO feature_view_versions ({_VIEW_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp, ?)",
            [
                definition.name, row[0], digest, json.dumps(pinned.to_dict()), entity.name,
                source.name, source.version, computed.artifact, computed.rows,
                json.dumps(computed.features, default=str), definition.owner,
                json.dumps(list(definition.tags)), definition.description,
                definition.ttl_seconds, run_id, computed.table_format,
            ],
        )  # fmt: skip
        created = con.execute(
            f"SELECT {_VIEW_COLUMNS} FROM feature_view_versions WHERE name = ? AND version = ?",
            [definition.name, row[0]],
        ).fetchone()
        assert created is not None
        return _view(created)

    return workspace.catalog.transaction(write)


@dataclass(frozen=True, kw_only=True)
class _Computed:
    artifact: str
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
) -> _Computed:
    """The view's table as a Parquet artifact, and its features with statistics."""
    con = memory_connection()
    try:
        names = build_feature_table(
            con, source_path=workspace.artifacts.verified_path(source_hash),
            definition=definition, entity=entity, python_transform=python_transform,
        )  # fmt: skip
        extra: dict[str, dict[str, Any]] = {}
        if definition.windowed:
            about = window_stats_table(con, definition, entity)
            stats = feature_stats(con, "stats_table", names)
            for name, function, column, seconds in window_features(definition):
                extra[name] = {"function": function, "column": column,
                               "window_seconds": seconds,
                               "definition": describe(function, column, seconds),
                               "stats_as_of": about}  # fmt: skip
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
            artifact = workspace.artifacts.put_file(target, media_type=PARQUET, run_id=run_id)
    finally:
        con.close()
    features = [
        {"name": name, "description": definition.feature_descriptions.get(name, ""),
         **stats[name], **extra.get(name, {})}
        for name in names
    ]  # fmt: skip
    return _Computed(
        artifact=artifact.hash, rows=rows, features=features,
        table_format=EVENTS_FORMAT if definition.windowed else "rows",
    )  # fmt: skip


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
    computed = _compute(workspace, definition, entity, source.artifact_hash, run_id=view.run_id,
                        python_transform=python_transform)  # fmt: skip

    def write(con: duckdb.DuckDBPyConnection) -> FeatureViewVersion:
        con.execute(
            "UPDATE feature_view_versions SET table_artifact = ?, row_count = ?, features = ?, "
            "table_format = ?, rebuilt_from = coalesce(rebuilt_from, ?) "
            "WHERE name = ? AND version = ?",
            [computed.artifact, computed.rows, json.dumps(computed.features, default=str),
             computed.table_format, view.table_artifact, view.name, view.version],
        )  # fmt: skip
        row = con.execute(
            f"SELECT {_VIEW_COLUMNS} FROM feature_view_versions WHERE name = ? AND version = ?",
            [view.name, view.version],
        ).fetchone()
        assert row is not None
        return _view(row)

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


def _latest(workspace: Workspace, name: str) -> FeatureViewVersion | None:
    rows = workspace.catalog.read(
        f"SELECT {_VIEW_COLUMNS} FROM feature_view_versions WHERE name = ? "
        "ORDER BY version DESC LIMIT 1",
        [name],
    )
    return _view(rows[0]) if rows else None


def get_view(workspace: Workspace, name: str, version: int | None = None) -> FeatureViewVersion:
    """A feature view version (the latest when ``version`` is None)."""
    validate_identifier(name, "feature view name")
    if version is None:
        found = _latest(workspace, name)
    else:
        rows = workspace.catalog.read(
            f"SELECT {_VIEW_COLUMNS} FROM feature_view_versions WHERE name = ? AND version = ?",
            [name, version],
        )
        found = _view(rows[0]) if rows else None
    if found is not None:
        return found
    known = [r[0] for r in workspace.catalog.read("SELECT name FROM feature_views")]
    if version is not None and name in known:
        versions = workspace.catalog.read(
            "SELECT version FROM feature_view_versions WHERE name = ? ORDER BY version", [name]
        )
        raise NotFoundError(
            f"Feature view {name!r} has no version {version} "
            f"(versions: {', '.join(str(v[0]) for v in versions)})."
        )
    raise FeatureNotFoundError("feature view", name, known)


def view_versions(workspace: Workspace, name: str) -> list[FeatureViewVersion]:
    rows = workspace.catalog.read(
        f"SELECT {_VIEW_COLUMNS} FROM feature_view_versions WHERE name = ? ORDER BY version",
        [name],
    )
    if not rows:
        get_view(workspace, name)  # raises with suggestions
    return [_view(r) for r in rows]


def list_views(
    workspace: Workspace, *, query: str | None = None, tag: str | None = None,
    owner: str | None = None, limit: int = 50, offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    """Latest version of each view matching the filters (name, feature, description text), paged.

    Every value is a bound parameter: nothing typed in a search box reaches the SQL text.
    """
    if not 1 <= limit <= 1000 or offset < 0:
        raise InvalidInputError("limit must be between 1 and 1000 and offset at least 0.")
    where, params = ["v.version = (SELECT max(version) FROM feature_view_versions w "
                     "WHERE w.name = v.name)"], []  # fmt: skip
    if query:
        # The text is matched literally: LIKE's wildcards in it are escaped.
        escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        where.append(
            "(lower(v.name) LIKE ? ESCAPE '\\' OR lower(v.description) LIKE ? ESCAPE '\\' "
            "OR lower(v.features::VARCHAR) LIKE ? ESCAPE '\\' "
            "OR lower(v.tags::VARCHAR) LIKE ? ESCAPE '\\' OR lower(v.owner) LIKE ? ESCAPE '\\')"
        )
        params += [pattern] * 5
    if tag:
        where.append("list_contains(v.tags::VARCHAR[], ?)")
        params.append(tag)
    if owner:
        where.append("v.owner = ?")
        params.append(owner)
    clause = " AND ".join(where)

    def read(con: duckdb.DuckDBPyConnection) -> tuple[list[dict[str, Any]], int]:
        total_row = con.execute(
            f"SELECT count(*) FROM feature_view_versions v WHERE {clause}", params
        ).fetchone()
        rows = con.execute(
            "SELECT v.name, v.version, v.entity, v.owner, v.tags, v.description, v.row_count, "
            "json_array_length(v.features), v.created_at, "
            "(SELECT max(m.last_event_at) FROM materializations m WHERE m.view = v.name) "
            f"FROM feature_view_versions v WHERE {clause} ORDER BY v.name LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        assert total_row is not None
        return [
            {
                "name": r[0], "version": r[1], "entity": r[2], "owner": r[3],
                "tags": json.loads(r[4]), "description": r[5], "row_count": r[6],
                "feature_count": r[7], "created_at": r[8].isoformat(),
                "freshness": r[9].isoformat() if r[9] else None,
            }
            for r in rows
        ], int(total_row[0])  # fmt: skip

    return workspace.catalog.transaction(read)


def facets(workspace: Workspace) -> dict[str, list[str]]:
    """Every tag and owner of the latest view versions (for the panel's filters)."""
    latest = (
        "FROM feature_view_versions v WHERE v.version = "
        "(SELECT max(version) FROM feature_view_versions w WHERE w.name = v.name)"
    )
    tags = workspace.catalog.read(
        f"SELECT DISTINCT unnest(v.tags::VARCHAR[]) AS tag {latest} ORDER BY tag"
    )
    owners = workspace.catalog.read(
        f"SELECT DISTINCT v.owner {latest} AND v.owner <> '' ORDER BY v.owner"
    )
    return {"tags": [t[0] for t in tags], "owners": [o[0] for o in owners]}


def search_views(workspace: Workspace, query: str, **filters: Any) -> list[dict[str, Any]]:
    return list_views(workspace, query=query, **filters)[0]


def consumers(workspace: Workspace, view: str) -> list[dict[str, Any]]:
    return workspace.catalog.read_dicts(
        "SELECT version, feature, consumer_kind AS kind, consumer_id AS id, "
        f"{iso_utc('min(created_at)', 'first_used')} "
        "FROM feature_consumers WHERE view = ? GROUP BY ALL ORDER BY kind, id, feature",
        [view],
    )

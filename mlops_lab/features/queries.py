"""Reading the feature store's catalog: entities, feature view versions, listing and search.

A view registered in the pipeline stage that is running is found here too, before its
stage commits (:func:`mlops_lab.features.entries.pending_view`).
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from mlops_lab.catalog import iso_utc
from mlops_lab.errors import FeatureNotFoundError, InvalidInputError, NotFoundError
from mlops_lab.features.definitions import Entity, validate_identifier
from mlops_lab.features.entries import pending_view
from mlops_lab.features.versions import (
    VIEW_COLUMNS,
    FeatureViewVersion,
    view_from_row,
)
from mlops_lab.workspace import Workspace

__all__ = [
    "consumers",
    "facets",
    "get_entity",
    "get_view",
    "latest_view",
    "list_views",
    "search_views",
    "view_versions",
]


def get_entity(workspace: Workspace, name: str) -> Entity:
    rows = workspace.catalog.read("SELECT name, join_keys, description FROM entities")
    for entity_name, keys, description in rows:
        if entity_name == name:
            return Entity(name=name, join_keys=tuple(json.loads(keys)), description=description)
    raise FeatureNotFoundError("entity", name, [r[0] for r in rows])


def latest_view(workspace: Workspace, name: str) -> FeatureViewVersion | None:
    """The newest version of ``name`` (one registered in the running stage first), or None."""
    pending = pending_view(workspace, name)
    if pending is not None:
        return pending
    rows = workspace.catalog.read(
        f"SELECT {VIEW_COLUMNS} FROM feature_view_versions WHERE name = ? "
        "ORDER BY version DESC LIMIT 1",
        [name],
    )
    return view_from_row(rows[0]) if rows else None


def get_view(workspace: Workspace, name: str, version: int | None = None) -> FeatureViewVersion:
    """A feature view version (the latest when ``version`` is None)."""
    validate_identifier(name, "feature view name")
    if version is None:
        found = latest_view(workspace, name)
    elif (pending := pending_view(workspace, name, version)) is not None:
        found = pending
    else:
        rows = workspace.catalog.read(
            f"SELECT {VIEW_COLUMNS} FROM feature_view_versions WHERE name = ? AND version = ?",
            [name, version],
        )
        found = view_from_row(rows[0]) if rows else None
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
        f"SELECT {VIEW_COLUMNS} FROM feature_view_versions WHERE name = ? ORDER BY version",
        [name],
    )
    if not rows:
        get_view(workspace, name)  # raises with suggestions
    return [view_from_row(r) for r in rows]


def list_views(
    workspace: Workspace,
    *,
    query: str | None = None,
    tag: str | None = None,
    owner: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Latest version of each view matching the filters (name, feature, description text), paged.

    Every value is a bound parameter: nothing typed in a search box reaches the SQL text.
    """
    if not 1 <= limit <= 1000 or offset < 0:
        raise InvalidInputError("limit must be between 1 and 1000 and offset at least 0.")
    where, params = (
        ["v.version = (SELECT max(version) FROM feature_view_versions w WHERE w.name = v.name)"],
        [],
    )
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
                "name": r[0],
                "version": r[1],
                "entity": r[2],
                "owner": r[3],
                "tags": json.loads(r[4]),
                "description": r[5],
                "row_count": r[6],
                "feature_count": r[7],
                "created_at": r[8].isoformat(),
                "freshness": r[9].isoformat() if r[9] else None,
            }
            for r in rows
        ], int(total_row[0])

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

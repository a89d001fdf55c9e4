"""Materialization into the online store, freshness, and fast online lookups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from mlops_lab.errors import InvalidInputError, NotFoundError
from mlops_lab.features.compute import memory_connection
from mlops_lab.features.online import (
    EmbeddedOnlineStore,
    RedisOnlineStore,
    open_online_store,
)
from mlops_lab.features.registry import get_entity, get_view
from mlops_lab.features.training import parse_features, resolve_features
from mlops_lab.workspace import Workspace

__all__ = ["OnlineFeatureReader", "freshness", "materialize", "online_store_of"]

_BATCH_ROWS = 50_000


def online_store_of(workspace: Workspace) -> EmbeddedOnlineStore | RedisOnlineStore:
    return open_online_store(workspace.config.online_store, workspace.state_dir)


def materialize(
    workspace: Workspace,
    view_name: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    store: EmbeddedOnlineStore | RedisOnlineStore | None = None,
) -> dict[str, Any]:
    """Copy the latest value per entity into the online store, incrementally.

    Without ``start``, only feature rows newer than the last materialization of
    this view version into this store are read; ``end`` bounds the event time.
    """
    view = get_view(workspace, view_name)
    keys = list(get_entity(workspace, view.entity).join_keys)
    online = store or online_store_of(workspace)
    last = workspace.catalog.read_value(
        "SELECT max(last_event_at) FROM materializations WHERE view = ? AND version = ? "
        "AND store = ?",
        [view.name, view.version, online.url],
    )
    lower = start if start is not None else last
    if lower is not None and end is not None and end <= lower:
        raise InvalidInputError(f"end ({end}) must be after the start ({lower}).")
    table = workspace.artifacts.local_path(view.table_artifact, check_catalog=False)
    path = str(table).replace("'", "''")
    where, params = [], []
    if lower is not None:
        where.append("event_timestamp >= ?" if start is not None else "event_timestamp > ?")
        params.append(lower)
    if end is not None:
        where.append("event_timestamp <= ?")
        params.append(end)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    key_list = ", ".join(f'"{k}"' for k in keys)
    con = memory_connection()
    try:
        newest = con.execute(
            f"SELECT max(event_timestamp), count(*) FROM read_parquet('{path}') {clause}", params
        ).fetchall()[0]
        reader = con.sql(
            f"SELECT * FROM read_parquet('{path}') {clause} QUALIFY row_number() OVER "
            f"(PARTITION BY {key_list} ORDER BY event_timestamp DESC, created_timestamp DESC) = 1",
            params=params,
        ).to_arrow_reader(_BATCH_ROWS)
        assert reader is not None
        written = online.write(view.name, view.version, keys, iter(reader), reader.schema)
    finally:
        con.close()
    assert newest is not None
    last_event = newest[0] or last
    workspace.catalog.write(
        "INSERT INTO materializations (view, version, store, last_event_at, rows_written) "
        "VALUES (?, ?, ?, ?, ?)",
        [view.name, view.version, online.url, last_event, written],
    )
    return {
        "view": view.name,
        "version": view.version,
        "store": online.url,
        "rows_read": int(newest[1]),
        "rows_written": written,
        "from": lower.isoformat() if lower else None,
        "last_event_at": last_event.isoformat() if last_event else None,
    }


def freshness(workspace: Workspace) -> dict[str, str | None]:
    """Per view: the newest event time materialized into the configured online store."""
    url = online_store_of(workspace).url
    rows = workspace.catalog.read(
        "SELECT view, max(last_event_at) FROM materializations WHERE store = ? GROUP BY view",
        [url],
    )
    return {view: last.isoformat() if last else None for view, last in rows}


class OnlineFeatureReader:
    """Resolve features once, then look entities up fast (for serving).

    Reads the latest materialized version of each view (or the pinned one).
    """

    def __init__(
        self,
        workspace: Workspace,
        features: Sequence[str],
        *,
        store: EmbeddedOnlineStore | RedisOnlineStore | None = None,
    ) -> None:
        self.store = store or online_store_of(workspace)
        self._groups: list[tuple[str, int, list[str], list[str]]] = []
        refs = parse_features(features)
        for (name, _version), (view, names) in resolve_features(workspace, refs).items():
            pinned = any(v is not None for n, v, _ in refs if n == name)
            version = view.version if pinned else self._materialized(workspace, name, view.version)
            keys = list(get_entity(workspace, view.entity).join_keys)
            self._groups.append((name, version, keys, names))
        self.join_keys = sorted({k for _, _, keys, _ in self._groups for k in keys})

    def _materialized(self, workspace: Workspace, view: str, latest: int) -> int:
        version = workspace.catalog.read_value(
            "SELECT max(version) FROM materializations WHERE view = ? AND store = ?",
            [view, self.store.url],
        )
        if version is None:
            raise NotFoundError(
                f"Feature view {view!r} was never materialized into {self.store.url}; "
                f"run `mlops-lab features materialize {view}` first."
            )
        return int(version) if version is not None else latest

    def get_many(self, entity_rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One dict per entity row: its keys, each feature (None when unknown), and the
        event time of each view's values as ``<view>__event_timestamp``."""
        out = [dict(row) for row in entity_rows]
        for view, version, keys, names in self._groups:
            try:
                key_values = [tuple([row[k] for k in keys]) for row in entity_rows]
            except KeyError as exc:
                raise InvalidInputError(
                    f"Entity row lacks join key {exc.args[0]!r} (view {view!r} needs {keys})."
                ) from None
            stamp = f"{view}__event_timestamp"
            empty = dict.fromkeys([*names, stamp])
            for target, found in zip(out, self.store.read(view, version, key_values, names),
                                     strict=True):  # fmt: skip
                if found is None:
                    target.update(empty)
                else:
                    found[stamp] = found.pop("event_timestamp")
                    target.update(found)
        return out

    def get(self, entity_row: Mapping[str, Any]) -> dict[str, Any]:
        return self.get_many([entity_row])[0]

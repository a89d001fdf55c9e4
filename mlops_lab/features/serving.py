"""Materialization into the online store, freshness, and fast online lookups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from mlops_lab.errors import InvalidInputError, NotFoundError
from mlops_lab.features.compute import memory_connection
from mlops_lab.features.entries import record_materialization
from mlops_lab.features.online import (
    EmbeddedOnlineStore,
    RedisOnlineStore,
    open_online_store,
)
from mlops_lab.features.queries import get_entity, get_view
from mlops_lab.features.registry import current_view
from mlops_lab.features.stream_sql import stream_events_sql
from mlops_lab.features.training import parse_features, resolve_features
from mlops_lab.features.versions import FeatureViewVersion
from mlops_lab.features.windows import WindowAggregator, micros, window_features
from mlops_lab.workspace import Workspace

__all__ = ["OnlineFeatureReader", "freshness", "materialize", "online_store_of"]

_BATCH_ROWS = 50_000
_BEGINNING = datetime(1, 1, 2, tzinfo=UTC)  # a horizon before every event


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
    view = current_view(workspace, get_view(workspace, view_name))
    keys = list(get_entity(workspace, view.entity).join_keys)
    online = store or online_store_of(workspace)
    if view.windowed:
        return _materialize_events(workspace, view, keys, online, start=start, end=end)
    last = workspace.catalog.read_value(
        "SELECT max(last_event_at) FROM materializations WHERE view = ? AND version = ? "
        "AND store = ?",
        [view.name, view.version, online.url],
    )
    lower = start if start is not None else last
    if lower is not None and end is not None and end <= lower:
        raise InvalidInputError(f"end ({end}) must be after the start ({lower}).")
    table = workspace.artifacts.verified_path(view.table_artifact)
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
    return _record(
        workspace,
        view,
        online,
        rows_read=int(newest[1]),
        written=written,
        lower=lower,
        last_event=last_event,
    )


def _record(
    workspace: Workspace,
    view: FeatureViewVersion,
    online: EmbeddedOnlineStore | RedisOnlineStore,
    *,
    rows_read: int,
    written: int,
    lower: datetime | None,
    last_event: datetime | None,
    horizon: datetime | None = None,
) -> dict[str, Any]:
    """Record a materialization in the catalog; what it did, for the caller."""
    record_materialization(
        workspace, view, store=online.url, last_event=last_event, written=written, horizon=horizon
    )
    result = {
        "view": view.name,
        "version": view.version,
        "store": online.url,
        "rows_read": rows_read,
        "rows_written": written,
        "from": lower.isoformat() if lower else None,
        "last_event_at": last_event.isoformat() if last_event else None,
    }
    if horizon is not None:
        result["horizon"] = horizon.isoformat()
    return result


def _materialize_events(
    workspace: Workspace,
    view: FeatureViewVersion,
    keys: list[str],
    online: EmbeddedOnlineStore | RedisOnlineStore,
    *,
    start: datetime | None,
    end: datetime | None,
) -> dict[str, Any]:
    """Copy a window view's events into the online store, incrementally.

    The store must answer every window as of any time from ``start`` on (default: the
    newest event materialized, ``end`` or the view's last event), so it needs the events
    after its *horizon* ``start - widest window``. Events already held (between the
    previous horizon and the last materialized event) are not read again; any gap is filled.
    """
    for name, moment in (("start", start), ("end", end)):
        if moment is not None:
            micros(moment, name)  # timezone-aware, or a clear error
    widest = timedelta(seconds=view.definition.widest_window_seconds)
    table = workspace.artifacts.verified_path(view.table_artifact)
    previous = workspace.catalog.read(
        "SELECT min(horizon), max(last_event_at) FROM materializations WHERE view = ? "
        "AND version = ? AND store = ? AND horizon IS NOT NULL",
        [view.name, view.version, online.url],
    )[0]
    old_horizon, old_last = previous
    source = "read_parquet('" + str(table).replace("'", "''") + "')"
    streamed = stream_events_sql(workspace, view, at_or_before=old_horizon)
    if streamed is not None:  # events streamed in since the view's source version
        # A stream wrote online its events after the horizon; those at or before it (a
        # prune dropped them) come from its parts.
        held_from = (
            ""
            if old_horizon is None
            else f"WHERE event_timestamp <= '{old_horizon.isoformat()}'::TIMESTAMPTZ"
        )
        source = (
            f"(SELECT * FROM {source} UNION ALL BY NAME SELECT * FROM ({streamed}) {held_from})"
        )
    con = memory_connection()
    try:
        bound = "WHERE event_timestamp <= ?" if end is not None else ""
        newest = con.execute(
            f"SELECT max(event_timestamp) FROM {source} {bound}",
            [end] if end is not None else [],
        ).fetchall()[0][0]
        anchor = start or end or newest or old_last
        if anchor is None:  # no events at all
            anchor = datetime.now(UTC)
        horizon = anchor - widest
        if end is not None and start is not None and end <= start:
            raise InvalidInputError(f"end ({end}) must be after the start ({start}).")
        older = con.execute(
            f"SELECT count(*) FROM {source} WHERE event_timestamp <= ?", [horizon]
        ).fetchall()[0][0]
        if not older:  # every event of the view is held: any as_of can be answered
            horizon = _BEGINNING
        lower = horizon if old_last is None else min(horizon, old_last)
        where, params = ["event_timestamp > ?"], [lower]
        if end is not None:
            where.append("event_timestamp <= ?")
            params.append(end)
        if old_horizon is not None and old_last is not None:  # already held
            where.append("NOT (event_timestamp > ? AND event_timestamp <= ?)")
            params += [old_horizon, old_last]
        clause = " AND ".join(where)
        count_row = con.execute(
            f"SELECT count(*), max(event_timestamp) FROM {source} WHERE {clause}",
            params,
        ).fetchall()[0]
        reader = con.sql(
            f"SELECT * FROM {source} WHERE {clause} ORDER BY event_timestamp, __seq", params=params
        ).to_arrow_reader(_BATCH_ROWS)
        assert reader is not None
        effective = horizon if old_horizon is None else min(horizon, old_horizon)
        written = online.write_events(
            view.name, view.version, keys, iter(reader), reader.schema, effective
        )
    finally:
        con.close()
    candidates = [t for t in (count_row[1], old_last) if t is not None]
    last_event = max(candidates) if candidates else None
    return _record(
        workspace,
        view,
        online,
        rows_read=int(count_row[0]),
        written=written,
        lower=lower,
        last_event=last_event,
        horizon=effective,
    )


def freshness(workspace: Workspace) -> dict[str, str | None]:
    """Per view: the newest event time materialized into the configured online store."""
    url = online_store_of(workspace).url
    rows = workspace.catalog.read(
        "SELECT view, max(last_event_at) FROM materializations WHERE store = ? GROUP BY view",
        [url],
    )
    return {view: last.isoformat() if last else None for view, last in rows}


@dataclass(frozen=True, kw_only=True)
class _Group:
    view: str
    version: int
    keys: list[str]
    names: list[str]
    windows: WindowAggregator | None  # None: a plain view


class OnlineFeatureReader:
    """Resolve features once, then look entities up fast (for serving).

    Reads the latest materialized version of each view (or the pinned one). Window
    features are computed as of the request time: now, or an explicit ``as_of``.
    """

    def __init__(
        self,
        workspace: Workspace,
        features: Sequence[str],
        *,
        store: EmbeddedOnlineStore | RedisOnlineStore | None = None,
    ) -> None:
        self.store = store or online_store_of(workspace)
        self._groups: list[_Group] = []
        refs = parse_features(features)
        for (name, _version), (view, names) in resolve_features(workspace, refs).items():
            pinned = any(v is not None for n, v, _ in refs if n == name)
            version = view.version if pinned else self._materialized(workspace, name, view.version)
            if version != view.version:
                view = current_view(workspace, get_view(workspace, name, version))
            keys = list(get_entity(workspace, view.entity).join_keys)
            windows = None
            if view.windowed:
                wanted = set(names)
                windows = WindowAggregator(
                    [f for f in window_features(view.definition) if f[0] in wanted]
                )
            self._groups.append(
                _Group(view=name, version=version, keys=keys, names=names, windows=windows)
            )
        self._index_groups()

    def _index_groups(self) -> None:
        self.join_keys = sorted({k for g in self._groups for k in g.keys})
        self.versions = {g.view: g.version for g in self._groups}

    def plan(self) -> list[dict[str, Any]]:
        """What this reader reads, as JSON: per view, its version, join keys, features and
        window features. :meth:`from_plan` reads the same from a store without the catalog
        (a model bundle serves that way)."""
        return [
            {
                "view": g.view,
                "version": g.version,
                "keys": list(g.keys),
                "features": list(g.names),
                "windows": None if g.windows is None else [list(f) for f in g.windows.features],
            }
            for g in self._groups
        ]

    @classmethod
    def from_plan(
        cls, plan: Sequence[Mapping[str, Any]], store: EmbeddedOnlineStore | RedisOnlineStore
    ) -> OnlineFeatureReader:
        """A reader of what :meth:`plan` described, from ``store``, without a workspace."""
        reader = cls.__new__(cls)
        reader.store = store
        reader._groups = [
            _Group(
                view=str(p["view"]),
                version=int(p["version"]),
                keys=[str(k) for k in p["keys"]],
                names=[str(n) for n in p["features"]],
                windows=None
                if p.get("windows") is None
                else WindowAggregator(
                    [(str(n), str(f), str(c), int(s)) for n, f, c, s in p["windows"]]
                ),
            )
            for p in plan
        ]
        reader._index_groups()
        return reader

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

    def get_many(
        self, entity_rows: Sequence[Mapping[str, Any]], *, as_of: datetime | None = None
    ) -> list[dict[str, Any]]:
        """One dict per entity row: its keys, each feature, and ``<view>__event_timestamp``.

        A plain feature is the latest materialized value (None when the entity is unknown),
        its event time in ``<view>__event_timestamp``. A window feature is the window as of
        ``as_of`` (default: now; a timezone-aware time), ``<view>__event_timestamp`` being
        that time: an entity without events in a window reads count 0 / null.
        """
        moment = datetime.now(UTC) if as_of is None else as_of
        at = micros(moment)
        out = [dict(row) for row in entity_rows]
        for group in self._groups:
            try:
                key_values = [tuple([row[k] for k in group.keys]) for row in entity_rows]
            except KeyError as exc:
                raise InvalidInputError(
                    f"Entity row lacks join key {exc.args[0]!r} "
                    f"(view {group.view!r} needs {group.keys})."
                ) from None
            stamp = f"{group.view}__event_timestamp"
            if group.windows is not None:
                self._read_windows(group, group.windows, key_values, at, moment, out)
                continue
            empty = dict.fromkeys([*group.names, stamp])
            found_rows = self.store.read(group.view, group.version, key_values, group.names)
            for target, found in zip(out, found_rows, strict=True):
                if found is None:
                    target.update(empty)
                else:
                    found[stamp] = found.pop("event_timestamp")
                    target.update(found)
        return out

    def _read_windows(
        self,
        group: _Group,
        windows: WindowAggregator,
        key_values: list[tuple[Any, ...]],
        at: int,
        moment: datetime,
        out: list[dict[str, Any]],
    ) -> None:
        columns = list(dict.fromkeys(column for _, _, column, _ in windows.features))
        horizon, found = self.store.read_events(
            group.view, group.version, group.keys, key_values, columns, at - windows.widest, at
        )
        if horizon is None:
            raise NotFoundError(
                f"The online store {self.store.url} holds no events of window view "
                f"{group.view!r} v{group.version}; run `mlops-lab features materialize "
                f"{group.view}`."
            )
        if at - windows.widest < horizon:
            since = datetime.fromtimestamp(horizon / 1e6, UTC).isoformat()
            raise InvalidInputError(
                f"The online store holds {group.view!r} v{group.version}'s events after "
                f"{since}: windows as of {moment.isoformat()} need older ones. Materialize "
                "with start= that time (or earlier), or use a training frame."
            )
        stamp = f"{group.view}__event_timestamp"
        aggregate = windows.aggregate
        for target, events in zip(out, found, strict=True):
            aggregate(events, at, target)
            target[stamp] = moment

    def get(
        self, entity_row: Mapping[str, Any], *, as_of: datetime | None = None
    ) -> dict[str, Any]:
        return self.get_many([entity_row], as_of=as_of)[0]

"""Point-in-time correct training frames.

For every row of the entity frame and every requested feature:

- a window feature is the window as of the row's own timestamp ``t``: the
  entity's events with ``t - window < event_time <= t`` (the rule in
  :mod:`mlops_lab.features.windows`), computed with a range join of the entity
  rows against the view's events;
- a plain feature is the value of the latest feature row of the same entity
  whose event time is at or before ``t`` (ties on event time broken by the
  latest created timestamp), or null when that value is older than the view's
  TTL (or the TTL given at query time) or there is none, computed with
  DuckDB's ASOF JOIN over the view's Parquet table.

Every entity row is kept, in its order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from mlops_lab.errors import FeatureNotFoundError, InvalidInputError
from mlops_lab.features.compute import memory_connection
from mlops_lab.features.definitions import parse_duration, validate_identifier
from mlops_lab.features.queries import get_entity, get_view
from mlops_lab.features.registry import current_view
from mlops_lab.features.stream_sql import stream_events_sql
from mlops_lab.features.versions import FeatureViewVersion
from mlops_lab.features.windows import window_features, window_sql
from mlops_lab.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FeatureRef", "get_training_frame", "parse_features"]

FeatureRef = tuple[str, int | None, str]  # view, pinned version, feature


def parse_features(features: Sequence[str]) -> list[FeatureRef]:
    """'view:feature' or 'view@3:feature' (a pinned version)."""
    if isinstance(features, str) or not features:
        raise InvalidInputError("features must be a non-empty list like ['view:feature', ...].")
    refs = []
    for text in features:
        view, sep, feature = str(text).partition(":")
        if not sep:
            raise InvalidInputError(f"Feature {text!r} must be written 'view:feature'.")
        version: int | None = None
        if "@" in view:
            view, _, pinned = view.partition("@")
            if not pinned.isdigit():
                raise InvalidInputError(f"Feature {text!r}: the version after '@' is a number.")
            version = int(pinned)
        refs.append(
            (
                validate_identifier(view, "feature view name"),
                version,
                validate_identifier(feature, "feature name"),
            )
        )
    return refs


def resolve_features(
    workspace: Workspace, refs: list[FeatureRef]
) -> dict[tuple[str, int], tuple[FeatureViewVersion, list[str]]]:
    """Group by view version, checking every feature exists (with close-name suggestions)."""
    grouped: dict[tuple[str, int], tuple[FeatureViewVersion, list[str]]] = {}
    views: dict[tuple[str, int | None], FeatureViewVersion] = {}  # one catalog read per view
    for view_name, version, feature in refs:
        view = views.get((view_name, version))
        if view is None:
            view = get_view(workspace, view_name, version)
            view = views[(view_name, version)] = current_view(workspace, view)
        if feature not in view.feature_names:
            raise FeatureNotFoundError(
                f"feature in view {view_name!r}", feature, view.feature_names
            )
        key = (view.name, view.version)
        grouped.setdefault(key, (view, []))[1].append(feature)
    return grouped


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def get_training_frame(
    workspace: Workspace,
    entity_df: pd.DataFrame,
    features: Sequence[str],
    *,
    timestamp: str = "event_timestamp",
    ttl: str | dict[str, str] | None = None,
) -> pd.DataFrame:
    """``entity_df`` with one column per feature, point-in-time correct (see module doc)."""
    import pandas as pd

    if not isinstance(entity_df, pd.DataFrame):
        raise InvalidInputError(
            f"entity_df must be a pandas DataFrame, got {type(entity_df).__name__}."
        )
    grouped = resolve_features(workspace, parse_features(features))
    if timestamp not in entity_df.columns:
        raise InvalidInputError(
            f"The entity frame has no timestamp column {timestamp!r} "
            f"(columns: {', '.join(map(str, entity_df.columns))}); pass timestamp=..."
        )
    if not pd.api.types.is_datetime64_any_dtype(entity_df[timestamp]):
        raise InvalidInputError(
            f"The entity frame's {timestamp!r} is {entity_df[timestamp].dtype}, not a datetime; "
            "convert it with pd.to_datetime(...)."
        )
    wanted = [f for _, names in grouped.values() for f in names]
    out_names = {}
    for (view_name, _), (_, names) in grouped.items():
        for feature in names:
            clash = wanted.count(feature) > 1 or feature in entity_df.columns
            out_names[(view_name, feature)] = f"{view_name}__{feature}" if clash else feature
    con = memory_connection()
    try:
        # Only the columns the joins need go into DuckDB; the row number restores the order.
        entities = {view.entity for view, _ in grouped.values()}
        join_keys = {e: list(get_entity(workspace, e).join_keys) for e in entities}
        view_keys = {name: join_keys[view.entity] for (name, _), (view, _) in grouped.items()}
        needed = list(dict.fromkeys([*(k for ks in view_keys.values() for k in ks), timestamp]))
        missing = [k for k in needed if k not in entity_df.columns]
        if missing:
            raise InvalidInputError(
                f"The entity frame lacks join key(s) {', '.join(missing)} needed by "
                f"{', '.join(name for name, _ in grouped)}."
            )
        keys_only = entity_df[needed].reset_index(drop=True)
        keys_only["__row"] = range(len(keys_only))
        con.register("entity_input", keys_only)
        selects, joins, windowed = ["e.__row"], [], []
        for index, ((view_name, _), (view, names)) in enumerate(grouped.items()):
            keys = view_keys[view_name]
            table = workspace.artifacts.verified_path(view.table_artifact)
            path = str(table).replace("'", "''")
            alias = f"f{index}"
            if view.windowed:
                wanted_here = set(names)
                specs = [f for f in window_features(view.definition) if f[0] in wanted_here]
                events = f"read_parquet('{path}')"
                streamed = stream_events_sql(workspace, view)
                if streamed is not None:  # events streamed in since its source version
                    events = (
                        f"(SELECT * FROM {events} UNION ALL BY NAME SELECT * FROM ({streamed}))"
                    )
                query = window_sql(rows="entity_rows", events=events, keys=keys, features=specs)
                windowed.append(f"LEFT JOIN ({query}) {alias} ON {alias}.__row = e.__row")
                for name in names:
                    selects.append(f"{alias}.{_q(name)} AS {_q(out_names[(view_name, name)])}")
                continue
            seconds = _ttl(view, ttl)
            # View tables hold one row per entity and event time (see compute.py), so the
            # ASOF JOIN reads the Parquet file directly.
            on = " AND ".join(f"e.{_q(k)} = {alias}.{_q(k)}" for k in keys)
            joins.append(
                f"ASOF LEFT JOIN read_parquet('{path}') {alias} "
                f"ON {on} AND e.__ts >= {alias}.event_timestamp"
            )
            fresh = (
                None
                if seconds is None
                else f"e.__ts - {alias}.event_timestamp <= to_seconds({seconds})"
            )
            for name in names:
                value = f"{alias}.{_q(name)}"
                expression = value if fresh is None else f"CASE WHEN {fresh} THEN {value} END"
                selects.append(f"{expression} AS {_q(out_names[(view_name, name)])}")
        con.execute(
            f"CREATE TEMP TABLE entity_rows AS SELECT *, {_q(timestamp)}::TIMESTAMPTZ AS __ts "
            "FROM entity_input"
        )
        result = con.sql(
            f"SELECT {', '.join(selects)} FROM entity_rows e {' '.join(joins)} "
            f"{' '.join(windowed)} ORDER BY e.__row"
        ).df()
        result = result.drop(columns="__row")
    except duckdb.BinderException as exc:
        raise InvalidInputError(
            f"The entity frame's join keys do not match the views' key types: "
            f"{str(exc).splitlines()[0]}"
        ) from exc
    finally:
        con.close()
    result.index = pd.RangeIndex(len(result))
    frame: pd.DataFrame = pd.concat([entity_df.reset_index(drop=True), result], axis=1)
    frame.attrs = dict(entity_df.attrs)
    frame.attrs["mlops_lab_features"] = {
        f"{name}@{version}": list(names) for (name, version), (_, names) in grouped.items()
    }
    return frame


def _ttl(view: FeatureViewVersion, ttl: str | dict[str, str] | None) -> int | None:
    if isinstance(ttl, dict):
        chosen: Any = ttl.get(view.name)
    else:
        chosen = ttl
    if chosen is None:
        return view.ttl_seconds
    return parse_duration(chosen, "ttl")

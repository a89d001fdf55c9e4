"""Computing a feature view's table and its statistics in DuckDB (in memory, off the catalog).

A plain view's table has the entity's join keys, ``event_timestamp``,
``created_timestamp`` and one column per feature, with one row per entity and
event time. A window view's table holds its events (see :mod:`windows`): the
window values are computed as of the time asked for, by training frames and the
online store; its statistics are computed as of the source's last event.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from mlops_lab.errors import FeatureTransformError, InvalidInputError
from mlops_lab.features.definitions import (
    Entity,
    FeatureViewDefinition,
    duration_label,
    parse_duration,
)
from mlops_lab.features.windows import SEQ, STATS_AS_OF, window_features, window_sql

__all__ = [
    "build_feature_table",
    "feature_stats",
    "memory_connection",
    "window_stats_table",
]

HISTOGRAM_BINS = 20


def memory_connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def build_feature_table(
    con: duckdb.DuckDBPyConnection,
    *,
    source_path: Path,
    definition: FeatureViewDefinition,
    entity: Entity,
    table: str = "feature_table",
    python_transform: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> list[str]:
    """Create ``table`` in ``con`` from the source Parquet; return the feature names."""
    view = definition.name
    parquet = _literal(str(source_path))
    if python_transform is None:
        con.execute(f"CREATE OR REPLACE TEMP VIEW source AS SELECT * FROM read_parquet({parquet})")
    else:
        frame = con.sql(f"SELECT * FROM read_parquet({parquet})").df()
        try:
            transformed = python_transform(frame)
        except Exception as exc:
            raise FeatureTransformError(view, f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(transformed, pd.DataFrame):
            raise FeatureTransformError(
                view, f"the pandas transform returned {type(transformed).__name__}, not a DataFrame"
            )
        con.register("python_source", transformed)
        con.execute("CREATE OR REPLACE TEMP TABLE source AS SELECT * FROM python_source")
    query = definition.transform or "SELECT * FROM source"
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE base AS {query}")
    except duckdb.Error as exc:
        raise FeatureTransformError(view, str(exc).splitlines()[0]) from exc
    columns = {row[0]: row[1] for row in con.execute("DESCRIBE base").fetchall()}
    keys = list(entity.join_keys)
    ts, created = definition.timestamp, definition.created_timestamp
    aggregated = {a.column for a in definition.aggregations}
    needed = [
        *keys,
        ts,
        *([created] if created else []),
        *sorted(aggregated),
        *(definition.features or ()),
    ]
    missing = [c for c in dict.fromkeys(needed) if c not in columns]
    if missing:
        raise InvalidInputError(
            f"Feature view {view!r}: column(s) {', '.join(missing)} not in its source "
            f"(columns: {', '.join(columns)})."
        )
    if "TIMESTAMP" not in columns[ts].upper() and "DATE" not in columns[ts].upper():
        raise InvalidInputError(
            f"Feature view {view!r}: timestamp column {ts!r} is {columns[ts]}, not a timestamp."
        )
    reserved = {*keys, ts, created}
    if definition.features is not None:
        plain = list(definition.features)
    elif definition.aggregations:
        plain = []
    else:
        plain = [c for c in columns if c not in reserved]
    created_expr = _quote(created) if created else _quote(ts)
    key_list = ", ".join(_quote(k) for k in keys)
    if not definition.aggregations:
        select = ", ".join(_quote(c) for c in plain)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {key_list}, "
            f"{_quote(ts)}::TIMESTAMPTZ AS event_timestamp, "
            f"{created_expr}::TIMESTAMPTZ AS created_timestamp"
            f"{', ' + select if select else ''} FROM base "
            # One row per entity and event time: the latest recorded wins (ties broken by the
            # created timestamp once, here, so point-in-time joins need no dedupe).
            f"QUALIFY row_number() OVER (PARTITION BY {key_list}, {_quote(ts)} "
            f"ORDER BY {created_expr} DESC) = 1"
        )
        return plain
    # A window view keeps its events (see windows.py): values are computed as of the time
    # asked for, never per event. Ties are ordered by created time, then source row order.
    columns_needed = ", ".join(
        dict.fromkeys([*(_quote(k) for k in keys), *(_quote(c) for c in sorted(aggregated))])
    )
    order = f"{key_list}, {_quote(ts)}, {created_expr}, rowid"
    # One sort; the table keeps that order (DuckDB preserves insertion order), and __seq
    # is the row's position in it.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE sorted_events AS SELECT {columns_needed}, "
        f"{_quote(ts)}::TIMESTAMPTZ AS event_timestamp, "
        f"{created_expr}::TIMESTAMPTZ AS created_timestamp "
        f"FROM base WHERE {_quote(ts)} IS NOT NULL ORDER BY {order}"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS "
        f"SELECT *, rowid::BIGINT AS {SEQ} FROM sorted_events"
    )
    con.execute("DROP TABLE sorted_events")
    return [name for name, *_ in window_features(definition)]


def window_stats_table(
    con: duckdb.DuckDBPyConnection,
    definition: FeatureViewDefinition,
    entity: Entity,
    *,
    events: str = "feature_table",
    table: str = "stats_table",
) -> dict[str, Any]:
    """The window features as of the events' last time, one row per entity (see
    windows.STATS_AS_OF), in ``table``; returns what the statistics are as of."""
    keys = list(entity.join_keys)
    key_list = ", ".join(_quote(k) for k in keys)
    row = con.execute(f"SELECT min(event_timestamp), max(event_timestamp) FROM {events}").fetchone()
    first, last = row if row else (None, None)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE stats_rows AS SELECT row_number() OVER () AS __row, "
        f"{key_list}, ?::TIMESTAMPTZ AS __ts FROM (SELECT DISTINCT {key_list} FROM {events})",
        [last],
    )
    features = window_features(definition)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS "
        + window_sql(rows="stats_rows", events=events, keys=keys, features=features)
    )
    span = (last - first).total_seconds() if first is not None and last is not None else 0
    longer = sorted({duration_label(s) for *_, s in features if s > span}, key=parse_duration)
    return {
        "as_of": last.isoformat() if last is not None else None,
        "rows": "one per entity with events in the source",
        "note": STATS_AS_OF,
        "span_seconds": span,
        "longer_than_span": longer,
    }


def feature_stats(
    con: duckdb.DuckDBPyConnection, table: str, features: list[str]
) -> dict[str, dict[str, Any]]:
    """Per feature: dtype, null share, min, max, mean, distinct count and a histogram."""
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE {table}").fetchall()}
    total_row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    total = int(total_row[0]) if total_row else 0
    stats: dict[str, dict[str, Any]] = {}
    for name in features:
        column, dtype = _quote(name), types[name]
        numeric = any(t in dtype.upper() for t in ("INT", "DOUBLE", "FLOAT", "DECIMAL", "REAL"))
        mean = f"avg({column})" if numeric else "NULL"
        row = con.execute(
            f"SELECT count({column}), min({column})::VARCHAR, max({column})::VARCHAR, {mean}, "
            f"count(DISTINCT {column}) FROM {table}"
        ).fetchone()
        assert row is not None
        present, low, high, average, distinct = row
        entry: dict[str, Any] = {
            "dtype": dtype,
            "null_share": (total - present) / total if total else 0.0,
            "min": float(low) if numeric and low is not None else low,
            "max": float(high) if numeric and high is not None else high,
            "mean": float(average) if average is not None else None,
            "distinct": int(distinct),
        }
        entry["histogram"] = _histogram(con, table, column, numeric, entry)
        stats[name] = entry
    return stats


def _histogram(
    con: duckdb.DuckDBPyConnection, table: str, column: str, numeric: bool, entry: dict[str, Any]
) -> dict[str, list[Any]]:
    if not numeric or entry["min"] is None:
        rows = con.execute(
            f"SELECT {column}::VARCHAR, count(*) FROM {table} WHERE {column} IS NOT NULL "
            f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {HISTOGRAM_BINS}"
        ).fetchall()
        return {"labels": [r[0] for r in rows], "counts": [int(r[1]) for r in rows]}
    low, high = entry["min"], entry["max"]
    width = (high - low) / HISTOGRAM_BINS or 1.0
    rows = con.execute(
        f"SELECT least(floor(({column} - ?) / ?)::INTEGER, {HISTOGRAM_BINS - 1}) AS bin, "
        f"count(*) FROM {table} WHERE {column} IS NOT NULL GROUP BY bin ORDER BY bin",
        [low, width],
    ).fetchall()
    counts = [0] * HISTOGRAM_BINS
    for index, count in rows:
        counts[int(index)] = int(count)
    edges = [low + i * width for i in range(HISTOGRAM_BINS + 1)]
    return {"edges": edges, "counts": counts}

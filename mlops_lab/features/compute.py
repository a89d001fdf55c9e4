"""Computing a feature view's table and its statistics in DuckDB (in memory, off the catalog).

The table has the entity's join keys, ``event_timestamp``, ``created_timestamp``
and one column per feature, with one row per entity and event time. Window
aggregations are computed as of every event time with a range self-join (an
event at ``t`` aggregates the same entity's events in ``(t - window, t]``),
several times faster here than a ``RANGE`` window frame on the same data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from mlops_lab.errors import InvalidInputError
from mlops_lab.features.definitions import (
    Entity,
    FeatureViewDefinition,
    duration_label,
    parse_duration,
)

__all__ = ["FeatureTransformError", "build_feature_table", "feature_stats", "memory_connection"]

_SQL_FUNCTION = {"avg": "avg", "sum": "sum", "min": "min", "max": "max", "count": "count",
                 "stddev": "stddev_samp"}  # fmt: skip
HISTOGRAM_BINS = 20


class FeatureTransformError(InvalidInputError):
    def __init__(self, view: str, detail: str) -> None:
        super().__init__(f"The transform of feature view {view!r} failed in DuckDB: {detail}")
        self.view = view


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
    needed = [*keys, ts, *([created] if created else []), *sorted(aggregated),
              *(definition.features or ())]  # fmt: skip
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
    widest = max(parse_duration(w) for a in definition.aggregations for w in a.windows)
    parts, names = [], []
    for aggregation in definition.aggregations:
        for window in aggregation.windows:
            seconds = parse_duration(window)
            for function in aggregation.functions:
                name = f"{aggregation.column}_{function}_{duration_label(seconds)}"
                parts.append(
                    f"{_SQL_FUNCTION[function]}(b.{_quote(aggregation.column)}) FILTER "
                    f"(WHERE b.ts > a.ts - to_seconds({seconds})) AS {_quote(name)}"
                )
                names.append(name)
    for column in plain:
        parts.append(f"arg_max(b.{_quote(column)}, b.created) FILTER (WHERE b.ts = a.ts) "
                     f"AS {_quote(column)}")  # fmt: skip
        names.append(column)
    a_keys = ", ".join(f"a.{_quote(k)}" for k in keys)
    join = " AND ".join(f"a.{_quote(k)} = b.{_quote(k)}" for k in keys)
    columns_needed = ", ".join(
        dict.fromkeys([*(_quote(k) for k in keys), *(_quote(c) for c in sorted(aggregated)),
                       *(_quote(c) for c in plain)])
    )  # fmt: skip
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE events AS SELECT {columns_needed}, "
        f"{_quote(ts)}::TIMESTAMPTZ AS ts, {created_expr}::TIMESTAMPTZ AS created FROM base"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS "
        f"SELECT {a_keys}, a.ts AS event_timestamp, any_value(a.created) AS created_timestamp, "
        f"{', '.join(parts)} "
        f"FROM (SELECT {key_list}, ts, max(created) AS created FROM events "
        f"GROUP BY {key_list}, ts) a "
        f"JOIN events b ON {join} AND b.ts <= a.ts AND b.ts > a.ts - to_seconds({widest}) "
        f"GROUP BY {a_keys}, a.ts"
    )
    return names


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

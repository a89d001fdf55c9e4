"""The embedded online store: a DuckDB file read through an in-memory index (see online.py)."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from mlops_lab.catalog.connection import open_connection
from mlops_lab.catalog.retry import RetryPolicy
from mlops_lab.features.online_base import EntityEvents
from mlops_lab.features.online_index import EventIndex, EventRuns
from mlops_lab.features.online_tail import StreamTail

__all__ = ["EmbeddedOnlineStore"]


def _table(view: str, version: int) -> str:
    return f"fv_{view}_v{version}"


def _events_table(view: str, version: int) -> str:
    return f"fw_{view}_v{version}"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class EmbeddedOnlineStore:
    """The DuckDB-file online store with an in-memory read index."""

    def __init__(self, path: Path, retry: RetryPolicy | None = None) -> None:
        self.path = path
        self.url = f"duckdb://{path}"
        self._retry = retry or RetryPolicy()
        self._generation_file = path.with_suffix(".generation")
        self._indexes: dict[
            tuple[str, int], tuple[int, list[str], dict[tuple[Any, ...], tuple[Any, ...]]]
        ] = {}
        self._event_indexes: dict[tuple[str, int], EventIndex] = {}
        self._tails: dict[str, StreamTail] = {}

    def _generation(self) -> int:
        try:
            return os.stat(self._generation_file).st_mtime_ns
        except FileNotFoundError:
            return 0

    def write(
        self,
        view: str,
        version: int,
        keys: list[str],
        batches: Iterator[pa.RecordBatch],
        schema: pa.Schema,
    ) -> int:
        table = _table(view, version)
        columns = [f.name for f in schema if f.name != "created_timestamp"]
        written = 0
        with open_connection(self.path, self._retry) as con:
            con.execute("SET TimeZone = 'UTC'")
            for batch in batches:
                con.register("incoming", pa.Table.from_batches([batch], schema=schema))
                con.execute(
                    f"CREATE TABLE IF NOT EXISTS {_q(table)} AS SELECT "
                    f"{', '.join(_q(c) for c in columns)} FROM incoming LIMIT 0"
                )
                con.execute(
                    f"CREATE UNIQUE INDEX IF NOT EXISTS {_q(table + '_key')} ON {_q(table)} "
                    f"({', '.join(_q(k) for k in keys)})"
                )
                updates = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in columns if c not in keys)
                row = con.execute(
                    f"INSERT INTO {_q(table)} SELECT {', '.join(_q(c) for c in columns)} "
                    f"FROM incoming ON CONFLICT ({', '.join(_q(k) for k in keys)}) DO UPDATE SET "
                    f"{updates} WHERE excluded.event_timestamp >= {_q(table)}.event_timestamp"
                ).fetchone()
                written += int(row[0]) if row and row[0] is not None else batch.num_rows
                con.unregister("incoming")
        self._generation_file.touch()
        os.utime(self._generation_file)
        return written

    def _index(
        self, view: str, version: int, keys: int
    ) -> tuple[list[str], dict[tuple[Any, ...], tuple[Any, ...]]]:
        generation = self._generation()
        cached = self._indexes.get((view, version))
        if cached is not None and cached[0] == generation:
            return cached[1], cached[2]
        table = _table(view, version)
        with open_connection(self.path, self._retry) as con:
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
            ).fetchone()
            if not exists or not exists[0]:
                columns: list[str] = []
                index: dict[tuple[Any, ...], tuple[Any, ...]] = {}
            else:
                cursor = con.execute(f"SELECT * FROM {_q(table)}")
                columns = [d[0] for d in cursor.description or []]
                index = {tuple(row[:keys]): row for row in cursor.fetchall()}
        self._indexes[(view, version)] = (generation, columns, index)
        return columns, index

    def read(
        self,
        view: str,
        version: int,
        key_values: Sequence[tuple[Any, ...]],
        features: Sequence[str],
    ) -> list[dict[str, Any] | None]:
        width = len(key_values[0]) if key_values else 1
        columns, index = self._index(view, version, width)
        if not columns:
            return [None] * len(key_values)
        positions = [columns.index(f) for f in features]
        ts = columns.index("event_timestamp")
        names = [*features, "event_timestamp"]
        picks = [*positions, ts]
        get = index.get
        out: list[dict[str, Any] | None] = []
        for key in key_values:
            row = get(key)
            if row is None:
                out.append(None)
            else:
                out.append(dict(zip(names, [_clean(row[p]) for p in picks], strict=True)))
        return out

    def write_events(
        self,
        view: str,
        version: int,
        keys: list[str],
        batches: Iterator[pa.RecordBatch],
        schema: pa.Schema,
        horizon: datetime,
    ) -> int:
        """Insert events (once each, keyed by ``__seq``) and record the horizon."""
        table = _events_table(view, version)
        columns = [f.name for f in schema if f.name != "created_timestamp"]
        written = 0
        with open_connection(self.path, self._retry) as con:
            con.execute("SET TimeZone = 'UTC'")
            con.execute(
                "CREATE TABLE IF NOT EXISTS window_horizons (view VARCHAR, version INTEGER, "
                "horizon TIMESTAMPTZ, PRIMARY KEY (view, version))"
            )
            for batch in batches:
                con.register("incoming", pa.Table.from_batches([batch], schema=schema))
                con.execute(
                    f"CREATE TABLE IF NOT EXISTS {_q(table)} AS SELECT "
                    f"{', '.join(_q(c) for c in columns)} FROM incoming LIMIT 0"
                )
                con.execute(
                    f"CREATE UNIQUE INDEX IF NOT EXISTS {_q(table + '_seq')} ON {_q(table)} (__seq)"
                )
                listed = ", ".join(_q(c) for c in columns)
                row = con.execute(
                    f"INSERT INTO {_q(table)} ({listed}) SELECT {listed} "
                    "FROM incoming ON CONFLICT (__seq) DO NOTHING"
                ).fetchone()
                written += int(row[0]) if row and row[0] is not None else batch.num_rows
                con.unregister("incoming")
            con.execute(
                "INSERT INTO window_horizons VALUES (?, ?, ?) ON CONFLICT (view, version) "
                "DO UPDATE SET horizon = least(window_horizons.horizon, excluded.horizon)",
                [view, version, horizon],
            )
        self._generation_file.touch()
        os.utime(self._generation_file)
        return written

    def prune_events(self, view: str, version: int, keys: list[str], horizon: datetime) -> int:
        """Drop the events at or before ``horizon`` and make it the horizon (reads as of a
        time whose widest window reaches before it are refused from then on)."""
        table = _events_table(view, version)
        with open_connection(self.path, self._retry) as con:
            con.execute("SET TimeZone = 'UTC'")
            names = {
                r[0]
                for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            }
            if table not in names or "window_horizons" not in names:
                return 0
            row = con.execute(
                f"DELETE FROM {_q(table)} WHERE event_timestamp <= ?", [horizon]
            ).fetchall()
            con.execute(
                "UPDATE window_horizons SET horizon = greatest(horizon, ?) "
                "WHERE view = ? AND version = ?",
                [horizon, view, version],
            )
        self._generation_file.touch()
        os.utime(self._generation_file)
        return int(row[0][0]) if row else 0

    def _event_index(self, view: str, version: int, keys: list[str]) -> EventIndex:
        """The view version's events, loaded once and then refreshed with only the rows
        inserted since (events are only ever added: by materialization or by a stream),
        so a stream's writes cost readers little."""
        generation = self._generation()
        cached = self._event_indexes.get((view, version))
        tail = self._tail(view)
        if cached is not None and cached.generation == generation:
            self._add_tail(cached, tail, version)
            return cached
        table = _events_table(view, version)
        with open_connection(self.path, self._retry) as con:
            names = {
                r[0]
                for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            }
            if "window_horizons" not in names or table not in names:
                empty = EventIndex(generation, None, EventRuns([]), -1, 0)
                self._event_indexes[(view, version)] = empty
                return empty
            rows = con.execute(
                "SELECT epoch_us(horizon) FROM window_horizons WHERE view = ? AND version = ?",
                [view, version],
            ).fetchall()
            horizon = int(rows[0][0]) if rows and rows[0][0] is not None else None
            count_row = con.execute(f"SELECT count(*), max(rowid) FROM {_q(table)}").fetchall()[0]
            count, newest = int(count_row[0]), count_row[1]
            newest = -1 if newest is None else int(newest)
            index: EventIndex | None = None
            if cached is not None and newest >= cached.max_rowid:
                added = con.sql(
                    f"{cached.select} WHERE rowid > {cached.max_rowid} AND rowid <= {newest}"
                ).to_arrow_table()
                if cached.rows + added.num_rows == count:
                    cached.events.add_rows(added, keys)
                    cached.generation, cached.horizon = generation, horizon
                    cached.max_rowid, cached.rows = newest, count
                    index = cached
            if index is None:  # the first load, or rows were deleted (a prune): all again
                held = [
                    r[0]
                    for r in con.execute(f"DESCRIBE {_q(table)}").fetchall()
                    if r[0] not in (*keys, "event_timestamp", "__seq", "created_timestamp")
                ]
                select = (
                    f"SELECT {', '.join(_q(k) for k in keys)}, "
                    "epoch_us(event_timestamp) AS __us, __seq"
                    f"{''.join(', ' + _q(c) for c in held)} FROM {_q(table)}"
                )
                arrow = con.sql(f"{select} WHERE rowid <= {newest}").to_arrow_table()
                index = EventIndex(generation, horizon, EventRuns(held), newest, arrow.num_rows)
                index.select = select
                index.events.add_rows(arrow, keys)
        self._event_indexes[(view, version)] = index
        self._add_tail(index, tail, version)
        return index

    def _tail(self, view: str) -> StreamTail | None:
        """The view's stream tail, when a stream ever wrote it (see online_tail.py)."""
        tail = self._tails.get(view)
        if tail is None:
            path = self.path.parent / "streams" / view / "ledger.sqlite"
            if not path.exists():
                return None
            tail = self._tails[view] = StreamTail(path)
        return tail

    def _add_tail(self, index: EventIndex, tail: StreamTail | None, version: int) -> None:
        """Add the streamed events committed since the index last looked."""
        if tail is None or not index.held:
            return
        if not tail.changed() and index.tail_id > 0:
            return
        last, events = tail.events(version, index.held, after=index.tail_id)
        index.tail_id = last
        if events is not None:
            index.events.add_tail(events)

    def read_events(
        self,
        view: str,
        version: int,
        keys: list[str],
        key_values: Sequence[tuple[Any, ...]],
        columns: Sequence[str],
        since: int,
        until: int,
    ) -> tuple[int | None, list[EntityEvents | None]]:
        """The horizon, and each entity's events per column from ``since`` to ``until``
        (microseconds; the caller picks each window)."""
        index = self._event_index(view, version, keys)
        return index.horizon, index.events.read(key_values, since, until)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value

"""The online store: what serving needs to answer feature lookups fast.

For a plain view: the latest feature values per entity. For a window view: the
entity's events since the store's *horizon* (the events of the widest window
before the time materialized up to), from which each window is computed as of
the request time (see :mod:`mlops_lab.features.windows`); an entity whose
windows emptied reads count 0 / null without any write.

Two backends behind one small interface:

- embedded (default): a DuckDB file ``.mlops_lab/online.duckdb``, one table per
  view version; readers load it into an in-memory index (a dict from entity
  key to row, or to its events per column) that is reloaded when a
  materialization bumps the generation file, because one SQL query per lookup
  costs far more than 0.1 ms;
- Redis (``online_store: redis://host:port/db`` in mlops_lab.yaml): one hash per
  entity and plain view version; one value per entity and window view version
  holding its events (read for a whole batch with one MGET).

Materialization streams record batches from the view's Parquet table (it
never loads the table into memory). A plain row is only written when it is
newer than what the store holds, so backfills cannot move a value back in
time; an event is written once (keyed by its ``__seq``), so repeating a
materialization changes nothing.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from mlops_lab.catalog.connection import RetryPolicy, open_connection
from mlops_lab.errors import MlopsLabError

__all__ = ["EmbeddedOnlineStore", "EntityEvents", "OnlineStore", "OnlineStoreUnavailableError",
           "RedisOnlineStore", "open_online_store"]  # fmt: skip

# One entity's events per aggregated column: event times (microseconds) and the
# matching non-null values, in event order.
EntityEvents = dict[str, tuple[list[int], list[Any]]]

_BATCH = 50_000


class OnlineStoreUnavailableError(MlopsLabError):
    http_status = 503

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(
            f"The online store {url} cannot be reached ({detail}). The offline store and "
            "training frames still work; start the server or fix online_store in mlops_lab.yaml."
        )
        self.url = url


def _table(view: str, version: int) -> str:
    return f"fv_{view}_v{version}"


def _events_table(view: str, version: int) -> str:
    return f"fw_{view}_v{version}"


def _micros(stamp: datetime) -> int:
    return int(stamp.timestamp()) * 1_000_000 + stamp.microsecond


def _group_events(
    table: pa.Table, keys: list[str], columns: Sequence[str]
) -> dict[tuple[Any, ...], EntityEvents]:
    """Rows sorted by key and event order -> per entity key, per column, its events."""
    n = table.num_rows
    if n == 0:
        return {}
    change = None
    for key in keys:
        column = table.column(key)
        differs = pc.fill_null(pc.not_equal(column.slice(1), column.slice(0, n - 1)), True)
        change = differs if change is None else pc.or_(change, differs)
    assert change is not None
    starts = [0, *(i + 1 for i in pc.indices_nonzero(change).to_pylist()), n]
    key_values = list(zip(*(table.column(k).to_pylist() for k in keys), strict=True))
    times: list[int] = table.column("__us").to_pylist()
    values = {c: table.column(c).to_pylist() for c in columns}
    has_nulls = {c: table.column(c).null_count > 0 for c in columns}
    index: dict[tuple[Any, ...], EntityEvents] = {}
    for lo, hi in itertools.pairwise(starts):
        entity_times = times[lo:hi]
        events: EntityEvents = {}
        for column in columns:
            picked = values[column][lo:hi]
            if has_nulls[column]:
                kept = [(t, v) for t, v in zip(entity_times, picked, strict=True) if v is not None]
                events[column] = ([t for t, _ in kept], [v for _, v in kept])
            else:
                events[column] = (entity_times, picked)
        index[key_values[lo]] = events
    return index


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class OnlineStore(Protocol):
    url: str

    def write(self, view: str, version: int, keys: list[str], batches: Iterator[pa.RecordBatch],
              schema: pa.Schema) -> int: ...  # fmt: skip

    def read(self, view: str, version: int, key_values: Sequence[tuple[Any, ...]],
             features: Sequence[str]) -> list[dict[str, Any] | None]: ...  # fmt: skip

    def write_events(self, view: str, version: int, keys: list[str],
                     batches: Iterator[pa.RecordBatch], schema: pa.Schema,
                     horizon: datetime) -> int: ...  # fmt: skip

    def read_events(
        self,
        view: str,
        version: int,
        keys: list[str],
        key_values: Sequence[tuple[Any, ...]],
        columns: Sequence[str],
        since: int,
        until: int,
    ) -> tuple[int | None, list[EntityEvents | None]]: ...  # fmt: skip


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
        self._event_indexes: dict[
            tuple[str, int], tuple[int, int | None, dict[tuple[Any, ...], EntityEvents]]
        ] = {}

    def _generation(self) -> int:
        try:
            return os.stat(self._generation_file).st_mtime_ns
        except FileNotFoundError:
            return 0

    def write(self, view: str, version: int, keys: list[str], batches: Iterator[pa.RecordBatch],
              schema: pa.Schema) -> int:  # fmt: skip
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

    def read(self, view: str, version: int, key_values: Sequence[tuple[Any, ...]],
             features: Sequence[str]) -> list[dict[str, Any] | None]:  # fmt: skip
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

    def write_events(self, view: str, version: int, keys: list[str],
                     batches: Iterator[pa.RecordBatch], schema: pa.Schema,
                     horizon: datetime) -> int:  # fmt: skip
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
                row = con.execute(
                    f"INSERT INTO {_q(table)} SELECT {', '.join(_q(c) for c in columns)} "
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

    def _event_index(
        self, view: str, version: int, keys: list[str], columns: Sequence[str]
    ) -> tuple[int | None, dict[tuple[Any, ...], EntityEvents]]:
        generation = self._generation()
        cached = self._event_indexes.get((view, version))
        if cached is not None and cached[0] == generation:
            return cached[1], cached[2]
        table = _events_table(view, version)
        horizon: int | None = None
        index: dict[tuple[Any, ...], EntityEvents] = {}
        with open_connection(self.path, self._retry) as con:
            names = {
                r[0]
                for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            }
            if "window_horizons" in names and table in names:
                row = con.execute(
                    "SELECT epoch_us(horizon) FROM window_horizons WHERE view = ? AND version = ?",
                    [view, version],
                ).fetchone()
                horizon = int(row[0]) if row and row[0] is not None else None
                key_list = ", ".join(_q(k) for k in keys)
                held = [
                    r[0] for r in con.execute(f"DESCRIBE {_q(table)}").fetchall()
                    if r[0] not in (*keys, "event_timestamp", "__seq")
                ]  # fmt: skip
                arrow = con.sql(
                    f"SELECT {key_list}, epoch_us(event_timestamp) AS __us"
                    f"{''.join(', ' + _q(c) for c in held)} FROM {_q(table)} "
                    f"ORDER BY {key_list}, __seq"
                ).to_arrow_table()
                index = _group_events(arrow, keys, held)
        self._event_indexes[(view, version)] = (generation, horizon, index)
        return horizon, index

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
        """The horizon, and each entity's events per column (all it holds: the caller picks
        the window)."""  # fmt: skip
        horizon, index = self._event_index(view, version, keys, columns)
        get = index.get
        return horizon, [get(key) for key in key_values]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class RedisOnlineStore:
    """Redis hashes ``mlops:<view>:v<version>:<key>`` holding JSON values per feature."""

    _WRITE_IF_NEWER = """
    local current = redis.call('HGET', KEYS[1], '__ts')
    if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
    redis.call('HSET', KEYS[1], '__ts', ARGV[1], unpack(ARGV, 2))
    return 1
    """

    def __init__(self, url: str) -> None:
        try:
            import redis
        except ImportError as exc:
            from mlops_lab.errors import InvalidInputError

            raise InvalidInputError(
                f"online_store {url} needs the redis client: pip install 'mlops_lab[redis]'."
            ) from exc

        self.url = url
        self._client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._script = self._client.register_script(self._WRITE_IF_NEWER)

    def _call(self, operation: Any) -> Any:
        import redis

        try:
            return operation()
        except redis.exceptions.ConnectionError as exc:
            raise OnlineStoreUnavailableError(self.url, str(exc)) from exc

    @staticmethod
    def _key(view: str, version: int, key: tuple[Any, ...]) -> str:
        return f"mlops:{view}:v{version}:" + "|".join(str(k) for k in key)

    def write(self, view: str, version: int, keys: list[str], batches: Iterator[pa.RecordBatch],
              schema: pa.Schema) -> int:  # fmt: skip
        features = [f.name for f in schema if f.name not in (*keys, "created_timestamp")]
        written = 0
        for batch in batches:
            rows = batch.to_pylist()
            pipe = self._client.pipeline(transaction=False)
            for row in rows:
                stamp = row["event_timestamp"]
                micros = int(stamp.timestamp() * 1_000_000)
                fields: list[Any] = []
                for name in features:
                    fields += [name, json.dumps(row[name], default=str)]
                self._script(keys=[self._key(view, version, tuple(row[k] for k in keys))],
                             args=[micros, *fields], client=pipe)  # fmt: skip
            written += sum(int(r) for r in self._call(pipe.execute))
        return written

    def read(self, view: str, version: int, key_values: Sequence[tuple[Any, ...]],
             features: Sequence[str]) -> list[dict[str, Any] | None]:  # fmt: skip
        pipe = self._client.pipeline(transaction=False)
        for key in key_values:
            pipe.hmget(self._key(view, version, key), ["__ts", *features])
        out: list[dict[str, Any] | None] = []
        for values in self._call(pipe.execute):
            if values[0] is None:
                out.append(None)
                continue
            row = {f: json.loads(v) if v is not None else None
                   for f, v in zip(features, values[1:], strict=True)}  # fmt: skip
            row["event_timestamp"] = datetime.fromtimestamp(int(values[0]) / 1e6, UTC)
            out.append(row)
        return out

    # -- window views: one value per entity holding its events ----------------------------

    @staticmethod
    def _events_key(view: str, version: int, key: tuple[Any, ...]) -> str:
        return f"mlops:w:{view}:v{version}:" + "|".join(str(k) for k in key)

    @staticmethod
    def _horizon_key(view: str, version: int) -> str:
        return f"mlops:w:{view}:v{version}:__horizon__"

    def write_events(self, view: str, version: int, keys: list[str],
                     batches: Iterator[pa.RecordBatch], schema: pa.Schema,
                     horizon: datetime) -> int:  # fmt: skip
        """Merge each entity's new events into its value: JSON ``{"t": [event times in
        microseconds], "s": [__seq], "v": {column: [values]}}`` in event order. An event
        already held (same ``__seq``) is not added again. One writer at a time (the
        materialization job); readers always see a whole value."""
        skip = (*keys, "event_timestamp", "created_timestamp", "__seq")
        columns = [f.name for f in schema if f.name not in skip]
        written = 0
        for batch in batches:
            stamps = pc.cast(batch.column("event_timestamp"), pa.timestamp("us", tz="UTC"))
            times = pc.cast(stamps, pa.int64()).to_pylist()
            seqs = batch.column("__seq").to_pylist()
            values = {c: batch.column(c).to_pylist() for c in columns}
            prefix = f"mlops:w:{view}:v{version}:"
            names = [
                prefix + "|".join(str(k) for k in key)
                for key in zip(*(batch.column(k).to_pylist() for k in keys), strict=True)
            ]
            grouped: dict[str, list[int]] = {}
            for i, name in enumerate(names):
                grouped.setdefault(name, []).append(i)
            unique = list(grouped)
            held = self._call(lambda unique=unique: self._client.mget(unique))
            pipe = self._client.pipeline(transaction=False)
            for name, current in zip(unique, held, strict=True):
                rows = grouped[name]
                if current is None:  # new: the batch is in __seq (= event) order already
                    written += len(rows)
                    value = {"t": [times[i] for i in rows], "s": [seqs[i] for i in rows],
                             "v": {c: [values[c][i] for i in rows] for c in columns}}  # fmt: skip
                    pipe.set(name, json.dumps(value, default=str))
                    continue
                events = json.loads(current)
                count = len(events["s"])
                known = set(events["s"])
                merged = [
                    (t, s, [events["v"].get(c, [None] * count)[j] for c in columns])
                    for j, (t, s) in enumerate(zip(events["t"], events["s"], strict=True))
                ]
                for i in rows:
                    if seqs[i] in known:
                        continue
                    known.add(seqs[i])
                    written += 1
                    merged.append((times[i], seqs[i], [values[c][i] for c in columns]))
                merged.sort(key=lambda event: (event[0], event[1]))
                value = {
                    "t": [t for t, _, _ in merged],
                    "s": [s for _, s, _ in merged],
                    "v": {c: [row[j] for _, _, row in merged] for j, c in enumerate(columns)},
                }
                pipe.set(name, json.dumps(value, default=str))
            self._call(pipe.execute)
        # The horizon only moves back (a backfill).
        script = self._client.register_script(
            "local h = redis.call('HGET', KEYS[1], 'horizon') "
            "if (not h) or tonumber(h) > tonumber(ARGV[1]) then "
            "redis.call('HSET', KEYS[1], 'horizon', ARGV[1]) end return 1"
        )
        self._call(lambda: script(keys=[self._horizon_key(view, version)],
                                  args=[_micros(horizon)]))  # fmt: skip
        return written

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
        """The horizon, and each entity's events per column (one MGET for the batch)."""
        names = [self._events_key(view, version, key) for key in key_values]
        pipe = self._client.pipeline(transaction=False)
        pipe.hget(self._horizon_key(view, version), "horizon")
        pipe.mget(names)
        horizon, values = self._call(pipe.execute)
        out: list[EntityEvents | None] = []
        for value in values:
            if value is None:
                out.append(None)
                continue
            held = json.loads(value)
            times = held["t"]
            found: EntityEvents = {}
            for column in columns:
                picked = held["v"].get(column)
                if picked is None:
                    continue
                if None in picked:
                    kept = [(t, v) for t, v in zip(times, picked, strict=True) if v is not None]
                    found[column] = ([t for t, _ in kept], [v for _, v in kept])
                else:
                    found[column] = (times, picked)
            out.append(found)
        return (int(horizon) if horizon is not None else None), out


def open_online_store(url: str | None, state_dir: Path) -> EmbeddedOnlineStore | RedisOnlineStore:
    if not url or url == "embedded":
        return EmbeddedOnlineStore(state_dir / "online.duckdb")
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisOnlineStore(url)
    from mlops_lab.errors import InvalidInputError

    raise InvalidInputError(
        f"Unknown online_store {url!r}: use 'embedded' (default) or a redis:// URL."
    )

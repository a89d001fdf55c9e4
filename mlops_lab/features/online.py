"""The online store: the latest feature values per entity, for low-latency serving.

Two backends behind one small interface:

- embedded (default): a DuckDB file ``.mlops_lab/online.duckdb``, one table per
  view version; readers load it into an in-memory index (a dict from entity
  key to row) that is reloaded when a materialization bumps the generation
  file, because one SQL query per lookup costs far more than 0.1 ms;
- Redis (``online_store: redis://host:port/db`` in mlops_lab.yaml): one hash per
  entity and view version.

Materialization streams record batches from the view's Parquet table (it
never loads the table into memory) and only writes a row when it is newer than
what the store holds, so backfills cannot move a value back in time.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from mlops_lab.catalog.connection import RetryPolicy, open_connection
from mlops_lab.errors import MlopsLabError

__all__ = ["EmbeddedOnlineStore", "OnlineStore", "OnlineStoreUnavailableError", "RedisOnlineStore",
           "open_online_store"]  # fmt: skip

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


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class OnlineStore(Protocol):
    url: str

    def write(self, view: str, version: int, keys: list[str], batches: Iterator[pa.RecordBatch],
              schema: pa.Schema) -> int: ...  # fmt: skip

    def read(self, view: str, version: int, key_values: Sequence[tuple[Any, ...]],
             features: Sequence[str]) -> list[dict[str, Any] | None]: ...  # fmt: skip


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


def open_online_store(url: str | None, state_dir: Path) -> EmbeddedOnlineStore | RedisOnlineStore:
    if not url or url == "embedded":
        return EmbeddedOnlineStore(state_dir / "online.duckdb")
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisOnlineStore(url)
    from mlops_lab.errors import InvalidInputError

    raise InvalidInputError(
        f"Unknown online_store {url!r}: use 'embedded' (default) or a redis:// URL."
    )

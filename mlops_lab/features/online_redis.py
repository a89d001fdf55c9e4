"""The Redis online store (see online.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from mlops_lab.errors import OnlineStoreUnavailableError
from mlops_lab.features.online_base import EntityEvents, micros_of

__all__ = ["RedisOnlineStore"]


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

    def write(
        self,
        view: str,
        version: int,
        keys: list[str],
        batches: Iterator[pa.RecordBatch],
        schema: pa.Schema,
    ) -> int:
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
                self._script(
                    keys=[self._key(view, version, tuple(row[k] for k in keys))],
                    args=[micros, *fields],
                    client=pipe,
                )
            written += sum(int(r) for r in self._call(pipe.execute))
        return written

    def read(
        self,
        view: str,
        version: int,
        key_values: Sequence[tuple[Any, ...]],
        features: Sequence[str],
    ) -> list[dict[str, Any] | None]:
        pipe = self._client.pipeline(transaction=False)
        for key in key_values:
            pipe.hmget(self._key(view, version, key), ["__ts", *features])
        out: list[dict[str, Any] | None] = []
        for values in self._call(pipe.execute):
            if values[0] is None:
                out.append(None)
                continue
            row = {
                f: json.loads(v) if v is not None else None
                for f, v in zip(features, values[1:], strict=True)
            }
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

    def write_events(
        self,
        view: str,
        version: int,
        keys: list[str],
        batches: Iterator[pa.RecordBatch],
        schema: pa.Schema,
        horizon: datetime,
    ) -> int:
        """Merge each entity's new events into its value: JSON ``{"t": [event times in
        microseconds], "s": [__seq], "v": {column: [values]}}`` in event order. An event
        already held (same ``__seq``) is not added again. Several writers may run at once
        (stream consumers, a materialization): each batch is merged atomically; readers
        always see a whole value."""
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
            written += self._call(
                lambda grouped=grouped, times=times, seqs=seqs, values=values: self._merge(
                    grouped, times, seqs, values, columns
                )
            )
        # The horizon only moves back (a backfill).
        script = self._client.register_script(
            "local h = redis.call('HGET', KEYS[1], 'horizon') "
            "if (not h) or tonumber(h) > tonumber(ARGV[1]) then "
            "redis.call('HSET', KEYS[1], 'horizon', ARGV[1]) end return 1"
        )
        self._call(
            lambda: script(keys=[self._horizon_key(view, version)], args=[micros_of(horizon)])
        )
        return written

    def _merge(
        self,
        grouped: dict[str, list[int]],
        times: list[int],
        seqs: list[int],
        values: dict[str, list[Any]],
        columns: list[str],
    ) -> int:
        """Merge one batch's events into their entities' values, atomically: the values
        are watched while read and written in one transaction, which is retried when
        another writer (a second stream consumer, a materialization) changed one."""
        return self._edit_atomically(
            list(grouped),
            lambda name, current: _merged(current, grouped[name], times, seqs, values, columns),
        )

    def _edit_atomically(
        self, names: list[Any], edit: Callable[[Any, Any], tuple[str | None, int]]
    ) -> int:
        """Rewrite the values ``names`` in one transaction while watched (retried when
        another writer changed one): ``edit(name, current)`` gives the new value (None:
        delete it) and how many events it added or dropped (0: leave it as it is)."""
        import redis

        while True:
            with self._client.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(*names)  # type: ignore[no-untyped-call]
                    held = pipe.mget(names)
                    pipe.multi()
                    changed = 0
                    for name, current in zip(names, held, strict=True):
                        value, count = edit(name, current)
                        if not count:
                            continue
                        changed += count
                        if value is None:
                            pipe.delete(name)
                        else:
                            pipe.set(name, value)
                    pipe.execute()
                    return changed
                except redis.exceptions.WatchError:
                    continue

    def prune_events(self, view: str, version: int, keys: list[str], horizon: datetime) -> int:
        """Drop the events at or before ``horizon`` from every entity's value (an entity
        left with none is deleted) and make it the horizon."""
        cutoff = micros_of(horizon)
        prefix = f"mlops:w:{view}:v{version}:"
        horizon_key = self._horizon_key(view, version)
        dropped = 0
        names = [
            n
            for n in self._call(
                lambda: list(self._client.scan_iter(match=prefix + "*", count=1000))
            )
            if n.decode() != horizon_key
        ]
        for start in range(0, len(names), 500):
            dropped += self._edit_atomically(
                names[start : start + 500], lambda _name, current: _pruned(current, cutoff)
            )
        script = self._client.register_script(
            "local h = redis.call('HGET', KEYS[1], 'horizon') "
            "if (not h) or tonumber(h) < tonumber(ARGV[1]) then "
            "redis.call('HSET', KEYS[1], 'horizon', ARGV[1]) end return 1"
        )
        self._call(lambda: script(keys=[horizon_key], args=[cutoff]))
        return dropped

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


def _merged(
    current: bytes | str | None,
    rows: list[int],
    times: list[int],
    seqs: list[int],
    values: dict[str, list[Any]],
    columns: list[str],
) -> tuple[str, int]:
    """An entity's value with the events ``rows`` of a batch added (each ``__seq`` once,
    in event order), and how many were new."""
    if current is None:
        rows = sorted(rows, key=lambda i: (times[i], seqs[i]))
        kept, seen = [], set()
        for i in rows:
            if seqs[i] not in seen:
                seen.add(seqs[i])
                kept.append(i)
        value = {
            "t": [times[i] for i in kept],
            "s": [seqs[i] for i in kept],
            "v": {c: [values[c][i] for i in kept] for c in columns},
        }
        return json.dumps(value, default=str), len(kept)
    events = json.loads(current)
    count = len(events["s"])
    known = set(events["s"])
    merged = [
        (t, s, [events["v"].get(c, [None] * count)[j] for c in columns])
        for j, (t, s) in enumerate(zip(events["t"], events["s"], strict=True))
    ]
    added = 0
    for i in rows:
        if seqs[i] in known:
            continue
        known.add(seqs[i])
        added += 1
        merged.append((times[i], seqs[i], [values[c][i] for c in columns]))
    if not added:
        return current if isinstance(current, str) else current.decode(), 0
    merged.sort(key=lambda event: (event[0], event[1]))
    value = {
        "t": [t for t, _, _ in merged],
        "s": [s for _, s, _ in merged],
        "v": {c: [row[j] for _, _, row in merged] for j, c in enumerate(columns)},
    }
    return json.dumps(value, default=str), added


def _pruned(current: bytes | str | None, cutoff: int) -> tuple[str | None, int]:
    """An entity's value without its events at or before ``cutoff`` (None: none left),
    and how many were dropped."""
    if current is None:
        return None, 0
    events = json.loads(current)
    keep = [j for j, t in enumerate(events["t"]) if t > cutoff]
    dropped = len(events["t"]) - len(keep)
    if not dropped or not keep:
        return None, dropped
    value = {
        "t": [events["t"][j] for j in keep],
        "s": [events["s"][j] for j in keep],
        "v": {c: [v[j] for j in keep] for c, v in events["v"].items()},
    }
    return json.dumps(value, default=str), dropped

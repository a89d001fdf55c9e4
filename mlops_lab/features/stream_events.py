"""Streamed events checked against their feature view's source schema, with their ids.

An event is a JSON object with the source dataset's columns (extra fields are dropped). It
is refused, with a reason, when it is not JSON or not an object, lacks a join key, the
timestamp or an aggregated column, holds a value of the wrong type, has a timestamp
without a zone, or lies further in the future than ``max_future`` allows.

Each event's id is its declared id column, or else the SHA-256 of its canonical JSON (so a
republished copy is the same event). ``__seq`` is a 64-bit hash of the id in
``[2**62, 2**63)``: above the row numbers that batch-computed events use, so both can sit
in one table; it orders events of equal event time (see :mod:`windows`) and makes every
write idempotent. Two different ids share a ``__seq`` with probability about
``n**2 / 2**63`` (one in 10**5 for 10 million events).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from mlops_lab.errors import InvalidInputError
from mlops_lab.features.event_values import Checker, TextFields, checker, decode, from_text

__all__ = ["EventSchema", "ParsedBatch", "event_seq", "event_seqs"]

_SEQ_BASE = 1 << 62
_SEQ_MASK = (1 << 62) - 1

try:  # CPython's own MD5: a quarter of OpenSSL's time on short ids (no EVP context each)
    from _md5 import md5 as _md5  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - a Python built without its own hashes
    _md5 = functools.partial(hashlib.md5, usedforsecurity=False)


def event_seq(event_id: str) -> int:
    """The ``__seq`` of an event id (see the module doc): 62 bits of its MD5 (the low 8
    bytes, little-endian: what DuckDB's ``md5_number_lower`` gives)."""
    digest = _md5(event_id.encode()).digest()
    return _SEQ_BASE | (int.from_bytes(digest[8:], "little") & _SEQ_MASK)


def event_seqs(ids: pa.Array) -> pa.Array:
    """:func:`event_seq` of many ids at once (equal: tests/streaming/test_events.py): the
    digests joined, their low halves read by numpy (a third of the time DuckDB takes)."""
    md5 = _md5
    digests = b"".join([md5(i.encode()).digest() for i in ids.to_pylist()])
    low = np.frombuffer(digests, dtype="<u8")[1::2]
    return pa.array(((low & np.uint64(_SEQ_MASK)) | np.uint64(_SEQ_BASE)).astype(np.int64))


@dataclass(frozen=True, kw_only=True)
class ParsedBatch:
    """Events that passed, as an Arrow table (source columns, ``__event_id``, ``__seq``),
    the refused ones as (position, reason), and repeats of an id within the batch."""

    table: pa.Table
    refused: list[tuple[int, str]]
    repeated: int


class EventSchema:
    """What an event of one streamed view must look like."""

    def __init__(
        self,
        *,
        view: str,
        source: pa.Schema,
        required: Sequence[str],
        timestamp: str,
        id_column: str | None,
        max_future_seconds: int,
    ) -> None:
        missing = [c for c in required if c not in source.names]
        if missing:
            raise InvalidInputError(
                f"Feature view {view!r} needs {', '.join(missing)}, which its source dataset "
                "does not have: a stream cannot feed it."
            )
        if id_column is not None and id_column not in source.names:
            raise InvalidInputError(
                f"The id column {id_column!r} of view {view!r}'s stream is not a column of "
                f"its source dataset ({', '.join(source.names)})."
            )
        self.view = view
        self.timestamp = timestamp
        self.id_column = id_column
        self.max_future_us = max_future_seconds * 1_000_000
        required_set = set(required) | ({id_column} if id_column else set())
        self.columns: list[tuple[str, Checker | None, bool]] = [
            (f.name, checker(f.type), f.name in required_set) for f in source
        ]
        # What Arrow's JSON reader reads (times as text, checked and converted after).
        self._json_schema = pa.schema(
            [
                pa.field(f.name, pa.string())
                if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)
                else pa.field(f.name, pa.int64())
                if pa.types.is_integer(f.type)
                else f
                for f in source
            ]
        )
        self.arrow = pa.schema(
            [
                *(
                    pa.field(f.name, pa.timestamp("us", tz=f.type.tz))
                    if pa.types.is_timestamp(f.type)
                    else f
                    for f in source
                ),
                pa.field("__event_id", pa.string()),
                pa.field("__seq", pa.int64()),
            ]
        )

    def parse(
        self, events: Sequence[bytes | str | dict[str, Any]], *, now: datetime
    ) -> ParsedBatch:
        """Check each event; the passed ones as one table, in order, once per id."""
        if self.id_column is not None and events and set(map(type, events)) == {bytes}:
            fast = self._parse_columnar(events, now=now)  # type: ignore[arg-type]
            if fast is not None:
                return fast
        return self._parse_rows(events, now=now)

    def _parse_columnar(self, payloads: Sequence[bytes], *, now: datetime) -> ParsedBatch | None:
        """The same checks over the whole batch at once (Arrow's JSON reader), for events
        with a declared id; None when the batch needs the per-event path (a payload that is
        not one JSON object of the right types, or a time Arrow cannot read). Events that
        fail a row check (a missing field, a time without a zone or too far ahead) are
        checked again one by one for their reason."""
        if b"" in map(bytes.strip, payloads):
            return None
        data = b"\n".join(payloads)
        if data.count(b"\n") != len(payloads) - 1 or b"\r" in data:
            # A raw line break can only be whitespace between tokens in valid JSON.
            data = b"\n".join(p.replace(b"\n", b" ").replace(b"\r", b" ") for p in payloads)
        try:
            table = pa_json.read_json(
                io.BytesIO(data),
                read_options=pa_json.ReadOptions(block_size=max(len(data) + 1, 1 << 20)),
                parse_options=pa_json.ParseOptions(
                    explicit_schema=self._json_schema, unexpected_field_behavior="ignore"
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
        if table.num_rows != len(payloads):
            return None
        bad = pa.array([False] * table.num_rows)
        for name, _, required in self.columns:
            column = table.column(name)
            if required and column.null_count:
                bad = pc.or_(bad, pc.is_null(column))
            if pa.types.is_floating(column.type):
                bad = pc.or_(bad, pc.fill_null(pc.invert(pc.is_finite(column)), False))
        arrays = {}
        try:
            for field in self.arrow:
                if field.name in ("__event_id", "__seq"):
                    continue
                column = table.column(field.name)
                if pa.types.is_timestamp(field.type):
                    stamps = pc.cast(column, pa.timestamp("us", tz="UTC"))
                    arrays[field.name] = (
                        stamps if field.type.tz else pc.cast(pc.local_timestamp(stamps), field.type)
                    )
                else:
                    arrays[field.name] = pc.cast(column, field.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return None  # e.g. a time without a zone: the per-event path names it
        limit = pa.scalar(int((now.timestamp() + self.max_future_us / 1e6) * 1e6), pa.int64())
        moments = pc.cast(pc.cast(arrays[self.timestamp], pa.timestamp("us")), pa.int64())
        bad = pc.or_(bad, pc.fill_null(pc.greater(moments, limit), False))
        assert self.id_column is not None
        ids = pc.cast(table.column(self.id_column), pa.string())
        seqs = event_seqs(ids)
        if not pc.any(bad).as_py() and pc.count_distinct(seqs).as_py() == len(seqs):
            keep = None  # the usual batch: every event good, each id once
            refused: list[tuple[int, str]] = []
            repeated = 0
        else:
            keep, refused, repeated = [], [], 0
            seen: set[int] = set()
            flags = bad.to_pylist()
            for position, seq in enumerate(seqs.to_pylist()):
                if flags[position]:
                    single = self._parse_rows([payloads[position]], now=now)
                    reason = single.refused[0][1] if single.refused else "refused"
                    refused.append((position, reason))
                elif seq in seen:
                    repeated += 1
                else:
                    seen.add(seq)
                    keep.append(position)
        arrays["__event_id"], arrays["__seq"] = ids, seqs
        columns = [arrays[f.name] for f in self.arrow]
        if keep is not None:
            take = pa.array(keep, pa.int64())
            columns = [pc.take(c, take) for c in columns]
        return ParsedBatch(
            table=pa.Table.from_arrays(columns, schema=self.arrow),
            refused=refused,
            repeated=repeated,
        )

    def _parse_rows(
        self, events: Sequence[bytes | str | dict[str, Any]], *, now: datetime
    ) -> ParsedBatch:
        """Each event checked on its own (the reference the columnar path agrees with)."""
        limit = now.timestamp() + self.max_future_us / 1e6
        values: dict[str, list[Any]] = {name: [] for name, _, _ in self.columns}
        ids: list[str] = []
        seqs: list[int] = []
        seen: set[int] = set()
        refused: list[tuple[int, str]] = []
        repeated = 0
        columns = self.columns
        ts_name = self.timestamp
        for position, raw in enumerate(events):
            try:
                event = decode(raw)
                text = isinstance(event, TextFields)
                row: list[Any] = []
                for name, check, required in columns:
                    value = event.get(name)
                    if value is None:
                        if required:
                            raise ValueError(f"missing field {name!r}")
                        row.append(None)
                        continue
                    if check is not None:
                        try:
                            if text and isinstance(value, str):
                                value = from_text(value, check)
                            value = check(value)
                        except ValueError as exc:
                            raise ValueError(f"field {name!r}: {exc}") from None
                    row.append(value)
                    if name == ts_name:
                        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
                        if moment.timestamp() > limit:
                            raise ValueError(
                                f"field {name!r}: {moment.isoformat()} is more than "
                                f"{self.max_future_us // 1_000_000} s in the future"
                            )
                if self.id_column is not None:
                    event_id = str(event[self.id_column])
                else:
                    event_id = hashlib.sha256(
                        json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
                    ).hexdigest()
            except ValueError as exc:
                refused.append((position, str(exc)))
                continue
            seq = event_seq(event_id)
            if seq in seen:
                repeated += 1
                continue
            seen.add(seq)
            for (name, _, _), value in zip(columns, row, strict=True):
                values[name].append(value)
            ids.append(event_id)
            seqs.append(seq)
        arrays = []
        for field in self.arrow:
            if field.name == "__event_id":
                arrays.append(pa.array(ids, pa.string()))
            elif field.name == "__seq":
                arrays.append(pa.array(seqs, pa.int64()))
            else:
                try:
                    arrays.append(pa.array(values[field.name], field.type))
                except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
                    # a value Arrow cannot hold (e.g. an integer too large): refuse one by one
                    return self._one_by_one(events, now=now, problem=f"{field.name}: {exc}")
        table = pa.Table.from_arrays(arrays, schema=self.arrow)
        return ParsedBatch(table=table, refused=refused, repeated=repeated)

    def _one_by_one(
        self, events: Sequence[bytes | str | dict[str, Any]], *, now: datetime, problem: str
    ) -> ParsedBatch:
        tables, refused, repeated, seen = [], [], 0, set()
        for position, raw in enumerate(events):
            try:
                single = self._parse_rows([raw], now=now) if len(events) > 1 else None
            except RecursionError:  # pragma: no cover - defensive
                single = None
            if single is None:
                refused.append((position, f"a value does not fit its column ({problem})"))
                continue
            if single.refused:
                refused.append((position, single.refused[0][1]))
                continue
            seq = single.table.column("__seq")[0].as_py()
            if seq in seen:
                repeated += 1
                continue
            seen.add(seq)
            tables.append(single.table)
        table = pa.concat_tables(tables) if tables else self.arrow.empty_table()
        return ParsedBatch(table=table, refused=refused, repeated=repeated)

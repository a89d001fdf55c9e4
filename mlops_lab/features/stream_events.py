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

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from mlops_lab.errors import InvalidInputError

__all__ = ["EventSchema", "ParsedBatch", "event_seq"]

_SEQ_BASE = 1 << 62
_SEQ_MASK = (1 << 62) - 1

Checker = Callable[[Any], Any]  # returns the value to store, or raises ValueError(reason)


def event_seq(event_id: str) -> int:
    """The ``__seq`` of an event id (see the module doc)."""
    digest = hashlib.blake2b(event_id.encode(), digest_size=8).digest()
    return _SEQ_BASE | (int.from_bytes(digest, "big") & _SEQ_MASK)


def _integer(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValueError(f"expected an integer, got {_shown(value)}")
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {_shown(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    return float(value)


def _string(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {_shown(value)}")
    return value


def _boolean(value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_shown(value)}")
    return value


def _date(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"expected a date (YYYY-MM-DD), got {_shown(value)}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"expected a date (YYYY-MM-DD), got {value!r}") from None


def _timestamp(naive: bool) -> Checker:
    def check(value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError(f"expected an ISO 8601 time with a zone, got {_shown(value)}")
        try:
            stamp = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected an ISO 8601 time with a zone, got {value!r}") from None
        if stamp.tzinfo is None or stamp.utcoffset() is None:
            raise ValueError(f"the time {value!r} has no zone (add Z or +00:00)")
        stamp = stamp.astimezone(UTC)
        return stamp.replace(tzinfo=None) if naive else stamp

    return check


def _shown(value: Any) -> str:
    kind = "null" if value is None else type(value).__name__
    text = json.dumps(value, default=str)
    return f"{kind} {text[:40]}"


def _checker(kind: pa.DataType) -> Checker | None:
    if pa.types.is_integer(kind):
        return _integer
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return _number
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _string
    if pa.types.is_boolean(kind):
        return _boolean
    if pa.types.is_timestamp(kind):
        return _timestamp(naive=kind.tz is None)
    if pa.types.is_date(kind):
        return _date
    return None  # anything else: taken as given, cast by Arrow


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
            (f.name, _checker(f.type), f.name in required_set) for f in source
        ]
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
                event = _decode(raw)
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
                single = self.parse([raw], now=now) if len(events) > 1 else None
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


def _decode(raw: bytes | str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        event = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed JSON ({exc})") from None
    if not isinstance(event, dict):
        raise ValueError(f"expected a JSON object, got {type(event).__name__}")
    return event

"""One streamed event's values checked against their column's type (see stream_events.py).

A checker takes a JSON value and returns the value to store, or raises ``ValueError``
with the reason (it becomes the dead letter's). An event given as text fields
(:class:`TextFields`: a Redis entry's own fields) has its numbers and booleans read from
their text first.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

__all__ = ["Checker", "TextFields", "checker", "decode", "from_text"]

Checker = Callable[[Any], Any]  # returns the value to store, or raises ValueError(reason)


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


def checker(kind: pa.DataType) -> Checker | None:
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


class TextFields(dict[str, Any]):
    """An event given as field/value text pairs (a Redis stream entry's own fields, not
    one JSON ``event`` field): numbers and booleans are read from their text."""


def from_text(value: str, check: Checker) -> Any:
    if check is _integer:
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"expected an integer, got {value!r}") from None
    if check is _number:
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
    if check is _boolean:
        known = {"true": True, "1": True, "false": False, "0": False}
        if value.lower() not in known:
            raise ValueError(f"expected true or false, got {value!r}")
        return known[value.lower()]
    return value


def decode(raw: bytes | str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        event = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed JSON ({exc})") from None
    if not isinstance(event, dict):
        raise ValueError(f"expected a JSON object, got {type(event).__name__}")
    return event

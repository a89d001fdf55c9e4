"""What a data check says: its one-line message, and its values as JSON."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

__all__ = ["check_message", "duration", "jsonable"]


def check_message(
    kind: str, column: str | None, passed: bool, expected: Any, observed: Any, failing: int | None
) -> str:
    who = f"{column}: " if column else ""
    rows = f"{failing} row{'s' if failing != 1 else ''}"
    if kind == "exists":
        return f"{who}present"
    if kind == "dtype":
        return f"{who}{observed} is {'' if passed else 'not '}{expected}"
    if kind == "nulls":
        return f"{who}no nulls" if passed else f"{who}{rows} with a null value"
    if kind == "unique":
        if passed:
            return f"{who}values are unique" if column else f"{', '.join(expected)} unique"
        values = f"{observed} value{'s' if observed != 1 else ''}"
        return f"{who}{rows} share a value with another row ({values} repeated)"
    if kind in ("min", "max"):
        side = "below" if kind == "min" else "above"
        if passed:
            return f"{who}{kind} {observed} within bound {expected}"
        return f"{who}{rows} {side} {kind} {expected} (observed {kind} {observed})"
    if kind == "allowed":
        if passed:
            return f"{who}every value allowed"
        return f"{who}{rows} with values not allowed: {json.dumps(observed)}"
    if kind == "pattern":
        if passed:
            return f"{who}every value matches {expected}"
        return f"{who}{rows} not matching {expected}"
    if kind == "strict":
        return "no undeclared columns" if passed else f"undeclared columns: {', '.join(observed)}"
    if kind == "rows":
        bounds = " and ".join(f"{'>=' if k == 'min' else '<='} {v}" for k, v in expected.items())
        return f"{observed} rows ({'within' if passed else 'not'} {bounds})"
    if kind == "freshness":
        age, latest = observed["age"], observed["latest"]
        verdict = "within" if passed else "older than"
        return f"{column}: latest {latest} is {age} old ({verdict} {expected['max_age']})"
    return "passed" if passed else "failed"


def duration(seconds: float) -> str:
    span = timedelta(seconds=round(seconds))
    if abs(seconds) >= 86400:
        return f"{seconds / 86400:.1f}d"
    if abs(seconds) >= 3600:
        return f"{seconds / 3600:.1f}h"
    return str(span)


def jsonable(value: Any) -> Any:
    """A value read from DuckDB as JSON: times as ISO text, NaN as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)

"""Window features: the one rule for "the last 7 days' sum of amount", written down once.

**A window ``w`` as of time ``t`` covers the entity's events with
``t - w < event_time <= t``** (event times at microsecond precision). An
event exactly ``w`` before ``t`` is out; an event at ``t`` itself is in. Only
the event time counts: an event recorded late (its created timestamp after its
event time) belongs to the windows of its event time, offline as soon as its
dataset version exists and online as soon as it is materialized.

Over the non-null values of the column in the window:

- ``count``: how many (0 for an empty window); ``count_distinct``: how many
  distinct (0 for an empty window);
- ``sum``, ``avg``, ``min``, ``max``: null for an empty window;
- ``stddev``: the sample standard deviation, null for fewer than two values;
- ``last``: the value of the latest event (ties on event time go to the later
  created timestamp, then to the later row of the source), null when empty.

Where the rule is applied, each against the same events:

- training frames: each window as of each entity row's own timestamp
  (:func:`window_sql`, a range join of the entity rows against the events);
- the online store: each window as of the request time, ``now`` unless an
  explicit ``as_of`` is given (:class:`WindowAggregator`, over the events of
  the widest window that the online store keeps per entity);
- statistics and histograms of a window view: as of the source's last event
  time, one value per entity that has any event in the source
  (:data:`STATS_AS_OF`).

A window view's table holds its events, not precomputed values: the join keys,
``event_timestamp``, ``created_timestamp``, ``__seq`` (the order above, unique
within the version) and the aggregated columns, sorted by key and ``__seq``. A
streamed event's ``__seq`` is a hash of its id (see stream_events.py), so events are
ordered by event time, then ``__seq``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from mlops_lab.errors import InvalidInputError
from mlops_lab.features.definitions import FeatureViewDefinition, duration_label

__all__ = [
    "EVENTS_FORMAT",
    "STATS_AS_OF",
    "WindowAggregator",
    "WindowFeature",
    "describe",
    "micros",
    "window_features",
    "window_sql",
]

EVENTS_FORMAT = "events"  # table_format of a window view version's table
STATS_AS_OF = "the source's last event time, one value per entity with events in the source"
SEQ = "__seq"

WindowFeature = tuple[str, str, str, int]  # name, function, column, window seconds

_SQL = {
    "avg": "avg({c})",
    "sum": "sum({c})",
    "min": "min({c})",
    "max": "max({c})",
    "count": "count({c})",
    "stddev": "stddev_samp({c})",
    "count_distinct": "count(DISTINCT {c})",
    "last": "arg_max({c}, (b.event_timestamp, b.__seq))",
}
_WORDS = {
    "avg": "average",
    "sum": "sum",
    "min": "minimum",
    "max": "maximum",
    "count": "number of non-null values",
    "stddev": "sample standard deviation",
    "count_distinct": "number of distinct values",
    "last": "latest value",
}


def window_features(definition: FeatureViewDefinition) -> list[WindowFeature]:
    return [
        (name, function, a.column, seconds)
        for a in definition.aggregations
        for name, function, seconds in a.features()
    ]


def describe(function: str, column: str, seconds: int) -> str:
    """The feature in words, e.g. 'sum of amount over the 7 days before the row's time'."""
    label = duration_label(seconds)
    units = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    amount, unit = int(label[:-1]), units[label[-1]]
    span = f"the {amount} {unit[:-1] if amount == 1 else unit}"
    return (
        f"{_WORDS[function]} of {column} over {span} up to and including the row's time "
        f"(events with time in (t - {label}, t]; "
        f"{'0' if function.startswith('count') else 'null'} when there are none)"
    )


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def window_sql(
    *,
    rows: str,
    events: str,
    keys: Sequence[str],
    features: Sequence[WindowFeature],
    ts: str = "__ts",
    row: str = "__row",
) -> str:
    """One row per row of ``rows`` (``row`` id, join ``keys``, timestamp ``ts``) with each
    feature as of that row's timestamp: a LEFT range join against ``events``, so rows
    without events keep count 0 and nulls."""
    widest = max(seconds for *_, seconds in features)
    parts = []
    for name, function, column, seconds in features:
        value = _SQL[function].format(c=f"b.{_q(column)}")
        conditions = [f"b.{_q(column)} IS NOT NULL"] if function == "last" else []
        if seconds < widest:
            conditions.append(f"b.event_timestamp > e.{ts} - to_seconds({seconds})")
        if conditions:
            value += f" FILTER (WHERE {' AND '.join(conditions)})"
        parts.append(f"{value} AS {_q(name)}")
    on = " AND ".join(f"e.{_q(k)} = b.{_q(k)}" for k in keys)
    return (
        f"SELECT e.{row}, {', '.join(parts)} FROM {rows} e LEFT JOIN {events} b "
        f"ON {on} AND b.event_timestamp <= e.{ts} "
        f"AND b.event_timestamp > e.{ts} - to_seconds({widest}) GROUP BY e.{row}"
    )


def micros(moment: Any, what: str = "as_of") -> int:
    """A timezone-aware time as microseconds since the epoch (the windows' precision)."""
    import pandas as pd

    if isinstance(moment, str):
        try:
            moment = pd.Timestamp(moment)
        except ValueError as exc:
            raise InvalidInputError(f"{what} {moment!r} is not a time: {exc}") from None
    if not isinstance(moment, datetime):  # pd.Timestamp is a datetime
        raise InvalidInputError(
            f"{what} must be a timezone-aware datetime, got {type(moment).__name__}."
        )
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise InvalidInputError(
            f"{what} {moment.isoformat()} has no timezone: windows are exact only for a "
            "timezone-aware time, e.g. datetime.now(UTC) or pd.Timestamp(..., tz='UTC')."
        )
    stamp = pd.Timestamp(moment)
    return int(stamp.value // 1000)


class WindowAggregator:
    """Each window feature as of a time, from one entity's events (the online path).

    ``columns`` maps an aggregated column to its events: a sorted list of event
    times (microseconds) and the matching non-null values, in event time order (ties in
    ``__seq`` order).
    The plan (per column, per window, the functions) is made once, so a lookup
    bisects once per column and window and slices once per window.
    """

    def __init__(self, features: Sequence[WindowFeature]) -> None:
        self.features = list(features)
        self.widest = max((s for *_, s in features), default=0) * 1_000_000
        plan: dict[str, dict[int, list[tuple[str, str]]]] = {}
        for name, function, column, seconds in features:
            plan.setdefault(column, {}).setdefault(seconds * 1_000_000, []).append((name, function))
        self._plan = [
            (
                column,
                [
                    (width, [(name, _FUNCTIONS[f]) for name, f in funcs], _empty(funcs))
                    for width, funcs in windows.items()
                ],
            )
            for column, windows in plan.items()
        ]
        self._all_empty = {
            name: (0 if function.startswith("count") else None) for name, function, _, _ in features
        }

    def aggregate(
        self,
        columns: dict[str, tuple[Sequence[int], Sequence[Any]]] | None,
        at: int,
        out: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The features as of ``at`` (microseconds), written into ``out`` (a new dict by
        default)."""
        if out is None:
            out = {}
        if not columns:
            out.update(self._all_empty)
            return out
        for column, windows in self._plan:
            events = columns.get(column)
            if events is None:
                for _, _, empty in windows:
                    out.update(empty)
                continue
            times, values = events
            hi = bisect_right(times, at)
            for width, calls, empty in windows:
                lo = bisect_right(times, at - width, 0, hi)
                if lo == hi:
                    out.update(empty)
                    continue
                window = values[lo:hi]
                for name, function in calls:
                    out[name] = function(window)
        return out


def _empty(funcs: list[tuple[str, str]]) -> dict[str, Any]:
    return {name: (0 if function.startswith("count") else None) for name, function in funcs}


def _avg(window: Sequence[Any]) -> Any:
    return sum(window) / len(window)


def _last(window: Sequence[Any]) -> Any:
    return window[-1]


def _count_distinct(window: Sequence[Any]) -> int:
    return len(set(window))


def _stddev(window: Sequence[Any]) -> float | None:
    n = len(window)  # the sample standard deviation: null below two values
    if n < 2:
        return None
    mean = math.fsum(window) / n
    return math.sqrt(math.fsum((v - mean) ** 2 for v in window) / (n - 1))


# Each function over a non-empty window (see the module doc); builtins where they fit.
_FUNCTIONS: dict[str, Callable[[Sequence[Any]], Any]] = {
    "count": len,
    "sum": sum,
    "avg": _avg,
    "min": min,
    "max": max,
    "last": _last,
    "count_distinct": _count_distinct,
    "stddev": _stddev,
}

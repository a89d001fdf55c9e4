"""Feature store definitions: entities, window aggregations and feature views (no I/O)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from mlops_lab.errors import InvalidInputError

__all__ = [
    "AGGREGATE_FUNCTIONS",
    "Aggregation",
    "Entity",
    "FeatureViewDefinition",
    "parse_duration",
    "validate_identifier",
]

AGGREGATE_FUNCTIONS = ("avg", "sum", "min", "max", "count", "stddev", "last", "count_distinct")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def validate_identifier(value: Any, what: str) -> str:
    """Names that end up in SQL: letters, digits and '_' only (nothing can be injected)."""
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise InvalidInputError(
            f"Invalid {what} {value!r}: use letters, digits and '_', starting with a letter "
            "or '_' (at most 63 characters)."
        )
    return value


def parse_duration(value: Any, what: str = "duration") -> int:
    """'7d', '12h', '30m', '90s', '2w' or a number of seconds -> seconds."""
    if isinstance(value, timedelta) and value.total_seconds() >= 1:
        return int(value.total_seconds())
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        match = _DURATION.fullmatch(value.strip())
        if match and int(match.group(1)) > 0:
            return int(match.group(1)) * _UNITS[match.group(2)]
    raise InvalidInputError(
        f"Invalid {what} {value!r}: use a positive number with a unit, e.g. '7d', '12h', '30m'."
    )


def duration_label(seconds: int) -> str:
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNITS[unit] == 0 and unit != "w":
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True, kw_only=True)
class Entity:
    name: str
    join_keys: tuple[str, ...]
    description: str = ""

    def __post_init__(self) -> None:
        validate_identifier(self.name, "entity name")
        if not self.join_keys:
            raise InvalidInputError(f"Entity {self.name!r} needs at least one join key.")
        for key in self.join_keys:
            validate_identifier(key, f"join key of entity {self.name!r}")


@dataclass(frozen=True, kw_only=True)
class Aggregation:
    """``functions`` of ``column`` over each window, as of the time asked for.

    The semantics (one rule, used by training frames, online reads and statistics) are
    in :mod:`mlops_lab.features.windows`.
    """

    column: str
    functions: tuple[str, ...]
    windows: tuple[str, ...]

    def __post_init__(self) -> None:
        validate_identifier(self.column, "aggregated column")
        if not self.functions or not self.windows:
            raise InvalidInputError(
                f"Aggregation of {self.column!r} needs at least one function and one window."
            )
        for function in self.functions:
            if function not in AGGREGATE_FUNCTIONS:
                raise InvalidInputError(
                    f"Unknown aggregate function {function!r} "
                    f"(one of {', '.join(AGGREGATE_FUNCTIONS)})."
                )
        if len(set(self.functions)) != len(self.functions):
            raise InvalidInputError(f"Aggregation of {self.column!r} repeats a function.")
        seconds = [parse_duration(window, "window") for window in self.windows]
        if len(set(seconds)) != len(seconds):
            raise InvalidInputError(f"Aggregation of {self.column!r} repeats a window.")

    def features(self) -> list[tuple[str, str, int]]:
        """(feature name, function, window seconds) for every window and function."""
        out = []
        for window in self.windows:
            seconds = parse_duration(window)
            for function in self.functions:
                name = f"{self.column}_{function}_{duration_label(seconds)}"
                out.append((name, function, seconds))
        return out

    def feature_names(self) -> list[str]:
        return [name for name, _, _ in self.features()]


@dataclass(frozen=True, kw_only=True)
class FeatureViewDefinition:
    """What a feature view computes; its versions differ by this (and the source version)."""

    name: str
    entity: str
    source: str  # dataset name
    source_version: int | None = None  # None: the latest at registration
    timestamp: str = "event_timestamp"
    created_timestamp: str | None = None
    transform: str | None = None  # SQL over the relation `source`
    # Source code of a pandas transform (DataFrame -> DataFrame) applied before `transform`;
    # kept for the record, the diff and the version digest: the function itself is passed
    # to register_view, never loaded from this text.
    python_transform: str | None = None
    aggregations: tuple[Aggregation, ...] = ()
    features: tuple[str, ...] | None = None  # plain columns kept (default: all others)
    ttl: str | None = None
    owner: str = ""
    tags: tuple[str, ...] = ()
    description: str = ""
    feature_descriptions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_identifier(self.name, "feature view name")
        validate_identifier(self.entity, "entity name")
        validate_identifier(self.timestamp, "timestamp column")
        if self.created_timestamp is not None:
            validate_identifier(self.created_timestamp, "created timestamp column")
        for column in self.features or ():
            validate_identifier(column, "feature column")
        for tag in self.tags:
            if not isinstance(tag, str) or not re.fullmatch(r"[\w.-]{1,64}", tag):
                raise InvalidInputError(f"Invalid tag {tag!r}: letters, digits, '_', '.', '-'.")
        if self.ttl is not None:
            parse_duration(self.ttl, "ttl")
        if self.transform is not None and not self.transform.strip():
            raise InvalidInputError(f"Feature view {self.name!r}: the transform is empty.")
        if self.aggregations and self.features:
            raise InvalidInputError(
                f"Feature view {self.name!r} mixes window aggregations with plain features "
                f"({', '.join(self.features)}): a window view's values are aggregates as of the "
                "time asked for. Use the 'last' function for the latest value in a window, or "
                "register the plain columns as a view of their own."
            )
        names = [name for a in self.aggregations for name in a.feature_names()]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise InvalidInputError(
                f"Feature view {self.name!r} defines {', '.join(repeated)} more than once."
            )

    @property
    def windowed(self) -> bool:
        """A window view: its values are aggregates of events as of the time asked for."""
        return bool(self.aggregations)

    @property
    def widest_window_seconds(self) -> int:
        return max((s for a in self.aggregations for _, _, s in a.features()), default=0)

    @property
    def ttl_seconds(self) -> int | None:
        return parse_duration(self.ttl, "ttl") if self.ttl is not None else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["aggregations"] = [asdict(a) for a in self.aggregations]
        for key in ("tags", "features"):
            if data[key] is not None:
                data[key] = list(data[key])
        for aggregation in data["aggregations"]:
            aggregation["functions"] = list(aggregation["functions"])
            aggregation["windows"] = list(aggregation["windows"])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureViewDefinition:
        values = dict(data)
        values["aggregations"] = tuple(
            Aggregation(
                column=a["column"], functions=tuple(a["functions"]), windows=tuple(a["windows"])
            )
            for a in values.get("aggregations", ())
        )
        values["tags"] = tuple(values.get("tags", ()))
        if values.get("features") is not None:
            values["features"] = tuple(values["features"])
        return cls(**values)

    def digest(self, source_hash: str) -> str:
        """Identity of a version: the definition plus the exact source content."""
        payload = {**self.to_dict(), "source_hash": source_hash, "source_version": None}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

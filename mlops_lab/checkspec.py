"""Data checks declared per dataset in ``mlops_lab.yaml``'s ``datasets:`` section (parsing only).

Every new version of a dataset is checked against its declaration (in DuckDB, by
:mod:`mlops_lab.datachecks`), in the spirit of pandera's ``DataFrameSchema`` and Great
Expectations' column expectations::

    datasets:
      customers:
        checks:
          columns:
            customer_id: {dtype: string, nulls: false, unique: true, pattern: "C[0-9]+"}
            tenure: {dtype: integer, min: 0, max: 120}
            plan: {allowed: [basic, pro]}
            signup: {}              # only: the column exists
          strict: false             # true: no columns besides those listed
          unique: [customer_id, day]  # a compound key: no two rows share these values
          rows: {min: 100, max: 1000000}
          freshness: {column: event_at, max_age: 2d}

Each declared rule becomes one named check (``columns.tenure.max``, ``rows``,
``freshness``, ...). :func:`parse_dataset_checks` lists every problem at once
(:class:`ChecksSpecError`), naming the key (``datasets.customers.checks.columns.tenure.mn``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mlops_lab.project import FieldChecker, parse_duration_seconds

__all__ = [
    "COLUMN_RULES",
    "DTYPES",
    "ChecksSpecError",
    "ColumnRules",
    "DatasetChecks",
    "parse_dataset_checks",
]

# The logical dtypes a column may declare (each matches a family of DuckDB types).
DTYPES = ("string", "integer", "float", "number", "boolean", "timestamp", "date")
COLUMN_RULES = ("dtype", "nulls", "unique", "min", "max", "allowed", "pattern")
_DATASET_KEYS = ("checks",)
_CHECKS_KEYS = ("columns", "strict", "unique", "rows", "freshness")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$")


class ChecksSpecError(ValueError):
    """The ``datasets:`` section is not valid; ``problems`` lists each, naming its key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, kw_only=True)
class ColumnRules:
    """What one column must satisfy (a rule left out is not checked)."""

    name: str
    dtype: str | None = None
    nulls: bool = True  # False: no null (nor NaN) value
    unique: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[Any, ...] | None = None
    pattern: str | None = None  # a regular expression every (non-null) value matches in full

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in COLUMN_RULES:
            value = getattr(self, key)
            if key == "nulls":
                if not value:
                    out[key] = False
            elif key == "unique":
                if value:
                    out[key] = True
            elif value is not None:
                out[key] = list(value) if key == "allowed" else value
        return out


@dataclass(frozen=True, kw_only=True)
class DatasetChecks:
    """The checks declared for one dataset."""

    dataset: str
    columns: tuple[ColumnRules, ...] = ()
    strict: bool = False
    unique: tuple[str, ...] = ()  # a compound key
    rows_min: int | None = None
    rows_max: int | None = None
    freshness_column: str | None = None
    freshness_max_age: str | None = None  # as written (2d, 36h)
    freshness_max_age_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The declaration, in the shape ``mlops_lab.yaml`` takes."""
        out: dict[str, Any] = {"columns": {c.name: c.to_dict() for c in self.columns}}
        if self.strict:
            out["strict"] = True
        if self.unique:
            out["unique"] = list(self.unique)
        rows = {k: v for k, v in (("min", self.rows_min), ("max", self.rows_max)) if v is not None}
        if rows:
            out["rows"] = rows
        if self.freshness_column is not None:
            out["freshness"] = {
                "column": self.freshness_column,
                "max_age": self.freshness_max_age,
            }
        return out


def parse_dataset_checks(value: Any, *, where: str = "datasets") -> dict[str, DatasetChecks]:
    """The checks of each dataset in ``value`` (the ``datasets:`` mapping);
    :class:`ChecksSpecError` lists every problem when it is not valid."""
    check = FieldChecker()
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ChecksSpecError([f"{where}: must be a mapping of dataset: {{checks: ...}}"])
    out: dict[str, DatasetChecks] = {}
    for name, entry in value.items():
        here = f"{where}.{name}"
        if not isinstance(name, str) or not _NAME.match(name):
            check.bad(here, f"{name!r} is not a dataset name (letters, digits, _ . -)")
            continue
        spec = check.mapping(here, entry or {}, _DATASET_KEYS)
        if spec is None:
            continue
        parsed = _checks(check, f"{here}.checks", name, spec.get("checks") or {})
        if parsed is not None:
            out[name] = parsed
    if check.problems:
        raise ChecksSpecError(check.problems)
    return out


def _checks(check: FieldChecker, where: str, name: str, value: Any) -> DatasetChecks | None:
    spec = check.mapping(where, value, _CHECKS_KEYS)
    if spec is None:
        return None
    columns: list[ColumnRules] = []
    raw_columns = spec.get("columns") or {}
    if not isinstance(raw_columns, dict):
        check.bad(f"{where}.columns", "must be a mapping of column: {rule: value}")
        raw_columns = {}
    for column, rules in raw_columns.items():
        parsed = _column(check, f"{where}.columns.{column}", str(column), rules)
        if parsed is not None:
            columns.append(parsed)
    strict = _flag(check, f"{where}.strict", spec.get("strict", False))
    unique = _names(check, f"{where}.unique", spec.get("unique"))
    rows_min = rows_max = None
    if spec.get("rows") is not None:
        rows = check.mapping(f"{where}.rows", spec["rows"], ("min", "max"))
        if rows is not None:
            rows_min = _count(check, f"{where}.rows.min", rows.get("min"))
            rows_max = _count(check, f"{where}.rows.max", rows.get("max"))
            if rows_min is None and rows_max is None and "min" not in rows and "max" not in rows:
                check.bad(f"{where}.rows", "needs min or max")
            if rows_min is not None and rows_max is not None and rows_min > rows_max:
                check.bad(f"{where}.rows", f"min {rows_min} is above max {rows_max}")
    column = age_text = None
    age = None
    if spec.get("freshness") is not None:
        fresh = check.mapping(f"{where}.freshness", spec["freshness"], ("column", "max_age"))
        if fresh is not None:
            column = check.text(
                f"{where}.freshness.column", fresh.get("column"), required=True, name=True
            )
            if fresh.get("max_age") is None:
                check.bad(f"{where}.freshness.max_age", "is required (e.g. 2d, 36h, 90m)")
            else:
                try:
                    age = parse_duration_seconds(fresh["max_age"])
                    age_text = str(fresh["max_age"])
                except ValueError as exc:
                    check.bad(f"{where}.freshness.max_age", f"{exc} (or 2d)")
    return DatasetChecks(
        dataset=name,
        columns=tuple(columns),
        strict=bool(strict),
        unique=unique,
        rows_min=rows_min,
        rows_max=rows_max,
        freshness_column=column if age is not None else None,
        freshness_max_age=age_text,
        freshness_max_age_s=age,
    )


def _column(check: FieldChecker, where: str, name: str, value: Any) -> ColumnRules | None:
    spec = check.mapping(where, value if value is not None else {}, COLUMN_RULES)
    if spec is None:
        return None
    before = len(check.problems)
    dtype = spec.get("dtype")
    if dtype is not None and dtype not in DTYPES:
        check.bad(f"{where}.dtype", f"must be one of {', '.join(DTYPES)}, got {dtype!r}")
    nulls = _flag(check, f"{where}.nulls", spec.get("nulls", True))
    unique = _flag(check, f"{where}.unique", spec.get("unique", False))
    low = check.number(f"{where}.min", spec.get("min"))
    high = check.number(f"{where}.max", spec.get("max"))
    if low is not None and high is not None and low > high:
        check.bad(where, f"min {low:g} is above max {high:g}")
    allowed = spec.get("allowed")
    if allowed is not None and (
        not isinstance(allowed, list)
        or not allowed
        or not all(isinstance(v, str | int | float | bool) for v in allowed)
    ):
        check.bad(f"{where}.allowed", f"must be a non-empty list of values, got {allowed!r}")
    pattern = spec.get("pattern")
    if pattern is not None:
        try:
            if not isinstance(pattern, str):
                raise re.error("not a string")
            re.compile(pattern)
        except re.error as exc:
            check.bad(f"{where}.pattern", f"{pattern!r} is not a regular expression ({exc})")
    if len(check.problems) > before:
        return None
    return ColumnRules(
        name=name,
        dtype=dtype,
        nulls=bool(nulls),
        unique=bool(unique),
        min=_integral(low),
        max=_integral(high),
        allowed=tuple(allowed) if allowed is not None else None,
        pattern=pattern,
    )


def _flag(check: FieldChecker, where: str, value: Any) -> bool | None:
    if not isinstance(value, bool):
        check.bad(where, f"must be true or false, got {value!r}")
        return None
    return value


def _count(check: FieldChecker, where: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        check.bad(where, f"must be a whole number >= 0, got {value!r}")
        return None
    return value


def _names(check: FieldChecker, where: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if (
        not isinstance(value, list)
        or len(value) < 1
        or not all(isinstance(v, str) and v for v in value)
    ):
        check.bad(where, f"must be a list of column names, got {value!r}")
        return ()
    return tuple(value)


def _integral(value: float | None) -> float | None:
    """A bound as written: ``0`` stays an int in messages and JSON."""
    if value is not None and float(value).is_integer():
        return int(value)
    return value

"""A dataset version's declared checks, evaluated in DuckDB over its Parquet file.

Every row-level check is one SQL statement over a view ``data`` of the file::

    WITH bad AS (<the rows that break the rule>)
    SELECT <observed>, (SELECT count(*) FROM bad), (SELECT list(b) FROM <first rows of bad> b)

giving what was observed (the smallest value, the null count...), how many rows break
the rule and a sample of them with their row numbers (0-based, the frame's order).
Whole-table checks (dtype, strict, rows, freshness) read the schema or one aggregate.
Nulls are left to the ``nulls`` rule: ``min``, ``max``, ``allowed``, ``pattern`` and
``unique`` judge the values that are present (as pandera and Great Expectations do).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import duckdb

from mlops_lab.checkspec import ColumnRules, DatasetChecks
from mlops_lab.datachecks.text import check_message, duration, jsonable

__all__ = ["SAMPLE_ROWS", "CheckResult", "evaluate_checks"]

SAMPLE_ROWS = 5
_ROW = "__mlops_lab_row"
_STRING = ("VARCHAR", "STRING", "TEXT", "UUID", "ENUM")
_INTEGER = (
    *("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"),
    *("UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"),
)
_FLOAT = ("FLOAT", "DOUBLE", "REAL", "DECIMAL")
_FAMILIES: dict[str, Callable[[str], bool]] = {
    "string": lambda t: t.startswith(_STRING),
    "integer": lambda t: t in _INTEGER,
    "float": lambda t: t.startswith(_FLOAT),
    "number": lambda t: t in _INTEGER or t.startswith(_FLOAT),
    "boolean": lambda t: t == "BOOLEAN",
    "timestamp": lambda t: t.startswith("TIMESTAMP"),
    "date": lambda t: t == "DATE",
}


_UNREADABLE: dict[str, Any] = {
    "name": "readable",
    "kind": "readable",
    "column": None,
    "passed": False,
    "expected": True,
    "observed": False,
    "failing_rows": None,
    "sample": [],
}


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """One check's verdict on one dataset version."""

    name: str  # columns.tenure.max, rows, freshness, unique, strict
    kind: str  # exists, dtype, nulls, unique, min, max, allowed, pattern, strict, rows, ...
    column: str | None
    passed: bool
    expected: Any
    observed: Any
    failing_rows: int | None  # rows that break it (None: a check of the whole table)
    sample: list[dict[str, Any]]  # up to SAMPLE_ROWS of them: {"row": n, "values": {...}}
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "column": self.column,
            "passed": self.passed,
            "expected": self.expected,
            "observed": self.observed,
            "failing_rows": self.failing_rows,
            "sample": self.sample,
            "message": self.message,
        }


def evaluate_checks(
    checks: DatasetChecks,
    source: Path | bytes,
    *,
    now: datetime | None = None,
    sample_rows: int = SAMPLE_ROWS,
) -> list[CheckResult]:
    """Every check of ``checks`` on the Parquet file ``source`` (a path, or its bytes)."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        try:
            _open(con, source)
        except duckdb.Error as exc:  # not Parquet DuckDB can read: one failed check says so
            problem = f"the version cannot be read as Parquet: {exc}"
            return [CheckResult(**_UNREADABLE, message=problem)]
        types = {
            str(row[0]): str(row[1]).upper()
            for row in con.execute("DESCRIBE data").fetchall()
            if row[0] != _ROW
        }
        run = _Evaluation(con, types, sample_rows)
        results: list[CheckResult] = []
        for column in checks.columns:
            results.extend(run.column(column))
        if checks.strict:
            results.append(run.strict(checks))
        if checks.unique:
            results.append(run.unique(list(checks.unique), "", None))
        if checks.rows_min is not None or checks.rows_max is not None:
            results.append(run.rows(checks.rows_min, checks.rows_max))
        if checks.freshness_column is not None:
            results.append(run.freshness(checks, now or datetime.now(UTC)))
        return results
    finally:
        con.close()


def _open(con: duckdb.DuckDBPyConnection, source: Path | bytes) -> None:
    if isinstance(source, Path):
        path = "'" + str(source).replace("'", "''") + "'"
        con.execute(
            f"CREATE VIEW data AS SELECT * RENAME (file_row_number AS {_ROW}) "
            f"FROM read_parquet({path}, file_row_number = true)"
        )
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(source))
    table = table.append_column(_ROW, pa.array(range(table.num_rows), pa.int64()))
    con.register("data", table)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Evaluation:
    def __init__(
        self, con: duckdb.DuckDBPyConnection, types: dict[str, str], sample_rows: int
    ) -> None:
        self.con = con
        self.types = types
        self.sample_rows = sample_rows

    # -- one SQL per row-level check ----------------------------------------------------

    def _rows(
        self, bad: str, observed: str, params: list[Any]
    ) -> tuple[Any, int, list[dict[str, Any]]]:
        row = self.con.execute(
            f"WITH bad AS ({bad}) SELECT ({observed}) AS observed, "
            "(SELECT count(*) FROM bad) AS failing, "
            f"(SELECT list(b ORDER BY b.{_ROW}) FROM "
            f"(SELECT * FROM bad ORDER BY {_ROW} LIMIT {int(self.sample_rows)}) b) AS sample",
            params,
        ).fetchone()
        assert row is not None
        sample = [
            {"row": int(r.pop(_ROW)), "values": {k: jsonable(v) for k, v in r.items()}}
            for r in (row[2] or [])
        ]
        return jsonable(row[0]), int(row[1]), sample

    def column(self, rules: ColumnRules) -> list[CheckResult]:
        where = f"columns.{rules.name}"
        declared = _declared(rules)
        if rules.name not in self.types:
            have = ", ".join(self.types) or "none"
            return [
                CheckResult(
                    name=f"{where}.{kind}",
                    kind=kind,
                    column=rules.name,
                    passed=False,
                    expected=expected,
                    observed=None,
                    failing_rows=None,
                    sample=[],
                    message=f"column {rules.name!r} is missing (columns: {have})",
                )
                for kind, expected in declared
            ]
        out = []
        for kind, expected in declared:
            if kind == "exists":
                out.append(self._verdict(where, kind, rules.name, True, expected, True, None, []))
            elif kind == "dtype":
                out.append(self.dtype(where, rules.name, str(expected)))
            elif kind == "unique":
                out.append(self.unique([rules.name], where, rules.name))
            else:
                out.append(self.values(where, kind, rules, expected))
        return out

    def dtype(self, where: str, column: str, expected: str) -> CheckResult:
        actual = self.types[column]
        ok = _FAMILIES[expected](actual)
        return self._verdict(where, "dtype", column, ok, expected, actual, None, [])

    def values(self, where: str, kind: str, rules: ColumnRules, expected: Any) -> CheckResult:
        col = _q(rules.name)
        present = f"{col} IS NOT NULL"
        numeric = _FAMILIES["number"](self.types[rules.name])
        params: list[Any] = []
        if kind == "nulls":
            nan = f" OR isnan({col})" if self.types[rules.name] in ("FLOAT", "DOUBLE") else ""
            bad = f"SELECT * FROM data WHERE {col} IS NULL{nan}"
            observed = "SELECT count(*) FROM bad"
        elif kind in ("min", "max") and not numeric:
            problem = f"{kind} needs a numeric column; {rules.name} is {self.types[rules.name]}"
            return self._verdict(where, kind, rules.name, False, expected, None, None, [], problem)
        elif kind in ("min", "max"):
            op, agg = ("<", "min") if kind == "min" else (">", "max")
            bad = f"SELECT * FROM data WHERE {col} {op} ?"
            observed, params = f"SELECT {agg}({col}) FROM data", [expected]
        elif kind == "allowed":
            values = list(expected)
            as_numbers = numeric and all(_is_number(v) for v in values)
            cast = col if as_numbers else f"CAST({col} AS VARCHAR)"
            marks = ", ".join("?" if as_numbers else "CAST(? AS VARCHAR)" for _ in values)
            bad = f"SELECT * FROM data WHERE {present} AND {cast} NOT IN ({marks})"
            observed = (
                "SELECT coalesce(list(v), []) FROM "
                f"(SELECT DISTINCT {col} AS v FROM bad ORDER BY 1 LIMIT 10)"
            )
            params = values
        else:  # pattern
            bad = (
                f"SELECT * FROM data WHERE {present} AND "
                f"NOT regexp_full_match(CAST({col} AS VARCHAR), ?)"
            )
            observed, params = "SELECT count(*) FROM bad", [expected]
        try:
            seen, failing, sample = self._rows(bad, observed, params)
        except duckdb.Error as exc:  # e.g. min on a string column
            return self._verdict(
                where, kind, rules.name, False, expected, None, None, [], problem=str(exc)
            )
        return self._verdict(where, kind, rules.name, failing == 0, expected, seen, failing, sample)

    def unique(self, columns: list[str], where: str, column: str | None) -> CheckResult:
        """No two rows share a value of ``column`` (or of the compound key ``columns``)."""
        expected: Any = columns if column is None else True
        missing = [c for c in columns if c not in self.types]
        if missing:
            problem = f"column(s) missing: {', '.join(missing)}"
            return self._verdict(where, "unique", column, False, expected, None, None, [], problem)
        keys = ", ".join(_q(c) for c in columns)
        present = " AND ".join(f"{_q(c)} IS NOT NULL" for c in columns)
        bad = (
            f"SELECT * EXCLUDE (__n) FROM (SELECT *, count(*) OVER (PARTITION BY {keys}) AS __n "
            f"FROM data WHERE {present}) WHERE __n > 1"
        )
        observed = f"SELECT count(*) FROM (SELECT DISTINCT {keys} FROM bad)"
        seen, failing, sample = self._rows(bad, observed, [])
        return self._verdict(where, "unique", column, failing == 0, expected, seen, failing, sample)

    # -- whole-table checks -------------------------------------------------------------

    def strict(self, checks: DatasetChecks) -> CheckResult:
        declared = [c.name for c in checks.columns]
        extra = [c for c in self.types if c not in declared]
        return self._verdict("", "strict", None, not extra, declared, extra, None, [])

    def rows(self, low: int | None, high: int | None) -> CheckResult:
        row = self.con.execute("SELECT count(*) FROM data").fetchone()
        count = int(row[0]) if row else 0
        ok = (low is None or count >= low) and (high is None or count <= high)
        expected = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
        return self._verdict("", "rows", None, ok, expected, count, None, [])

    def freshness(self, checks: DatasetChecks, now: datetime) -> CheckResult:
        column = str(checks.freshness_column)
        expected = {"column": column, "max_age": checks.freshness_max_age}
        kind = self.types.get(column)
        if kind is None or not (kind.startswith("TIMESTAMP") or kind == "DATE"):
            problem = (
                f"column {column!r} is missing"
                if kind is None
                else f"column {column!r} is {kind}, not a timestamp or date"
            )
            return self._verdict("", "freshness", column, False, expected, None, None, [], problem)
        row = self.con.execute(f"SELECT max({_q(column)}) FROM data").fetchone()
        latest = row[0] if row else None
        if latest is None:
            return self._verdict(
                "", "freshness", column, False, expected, None, None, [], "the column is empty"
            )
        if not isinstance(latest, datetime):
            latest = datetime.combine(latest, time())
        if latest.tzinfo is None:
            latest = latest.replace(tzinfo=UTC)
        age = (now - latest).total_seconds()
        ok = age <= float(checks.freshness_max_age_s or 0)
        observed = {"latest": latest.isoformat(), "age": duration(age)}
        return self._verdict("", "freshness", column, ok, expected, observed, None, [])

    # -- the verdict ----------------------------------------------------------------------

    def _verdict(
        self,
        where: str,
        kind: str,
        column: str | None,
        passed: bool,
        expected: Any,
        observed: Any,
        failing: int | None,
        sample: list[dict[str, Any]],
        problem: str | None = None,
    ) -> CheckResult:
        name = f"{where}.{kind}" if where else kind
        return CheckResult(
            name=name,
            kind=kind,
            column=column,
            passed=passed,
            expected=expected,
            observed=observed,
            failing_rows=failing,
            sample=sample,
            message=problem or check_message(kind, column, passed, expected, observed, failing),
        )


def _declared(rules: ColumnRules) -> list[tuple[str, Any]]:
    """The column's rules in a fixed order (a column with none is checked to exist)."""
    out: list[tuple[str, Any]] = []
    if rules.dtype is not None:
        out.append(("dtype", rules.dtype))
    if not rules.nulls:
        out.append(("nulls", False))
    if rules.unique:
        out.append(("unique", True))
    for kind in ("min", "max", "allowed", "pattern"):
        value = getattr(rules, kind)
        if value is not None:
            out.append((kind, list(value) if kind == "allowed" else value))
    return out or [("exists", True)]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)

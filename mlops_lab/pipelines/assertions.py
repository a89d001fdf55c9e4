"""Stage assertions: what a stage's outputs must satisfy before they are committed.

A stage declares them under ``expect:`` in ``mlops_lab.yaml``::

    - name: train
      notebook: notebooks/train.ipynb
      expect:
        - {metric: roc_auc, min: 0.8}              # a metric the stage logged (last step)
        - {dataset: features, rows: {min: 1000}}   # rows: N, or {min, max}; columns: [...]
        - {model: churn, signature: unchanged}     # vs the model's latest registered version

The runner checks them after the stage's notebook succeeds and before its outputs are
committed (:func:`check_expectations`, read from the stage's manifest entries); one that
fails fails the stage, whose error gives expected against observed, and nothing it
produced is registered. Each result is kept with the stage run (its ``checks``), as a
dict ``{kind, name, check, status, expected, observed, message}``.

A stage's expectations are part of its cache key: a cached result was checked against
the same ones, and changing a threshold runs the stage again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlops_lab.catalog import Catalog

__all__ = [
    "Expectation",
    "check_expectations",
    "failure_message",
    "parse_expectations",
    "signature_changes",
]

_KINDS = ("metric", "dataset", "model")
_FIELDS = {
    "metric": {"metric", "min", "max"},
    "dataset": {"dataset", "rows", "columns"},
    "model": {"model", "signature"},
}


@dataclass(frozen=True, kw_only=True)
class Expectation:
    kind: str  # metric | dataset | model
    name: str
    min: float | None = None  # a metric's value, or a dataset's row count
    max: float | None = None
    columns: tuple[str, ...] = ()  # a dataset has at least these columns
    signature_unchanged: bool = False  # a model's input signature is its last version's

    def describe(self) -> str:
        """``metric roc_auc >= 0.8``, ``dataset features rows in [10, 20]``..."""
        if self.kind == "model":
            return f"model {self.name} signature unchanged"
        what = f"{self.kind} {self.name}" + (" rows" if self.kind == "dataset" else "")
        parts = []
        if self.min is not None or self.max is not None:
            parts.append(f"{what} {_bounds(self.min, self.max)}")
        if self.columns:
            parts.append(f"dataset {self.name} has columns {', '.join(self.columns)}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """As declared in ``mlops_lab.yaml``."""
        if self.kind == "model":
            return {"model": self.name, "signature": "unchanged"}
        if self.kind == "metric":
            bounds = {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}
            return {"metric": self.name, **bounds}
        data: dict[str, Any] = {"dataset": self.name}
        if self.min is not None or self.max is not None:
            if self.min is not None and self.min == self.max:
                data["rows"] = int(self.min)
            else:
                data["rows"] = {
                    k: int(v) for k, v in (("min", self.min), ("max", self.max)) if v is not None
                }
        if self.columns:
            data["columns"] = list(self.columns)
        return data


def _bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"= {low:g}" if low == high else f"in [{low:g}, {high:g}]"
    return f">= {low:g}" if low is not None else f"<= {high:g}"


# -- the declaration ------------------------------------------------------------------


def parse_expectations(value: Any, where: str, problems: list[str]) -> tuple[Expectation, ...]:
    """A stage's ``expect:`` list, each problem appended to ``problems`` (nothing raised)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(
            f"{where}: 'expect' must be a list such as [{{metric: roc_auc, min: 0.8}}], "
            f"got {value!r}"
        )
        return ()
    found = []
    for index, item in enumerate(value):
        expectation = _parse_one(item, f"{where}: expect[{index}]", problems)
        if expectation is not None:
            found.append(expectation)
    return tuple(found)


def _parse_one(item: Any, where: str, problems: list[str]) -> Expectation | None:
    kinds = [k for k in _KINDS if isinstance(item, Mapping) and k in item]
    if len(kinds) != 1:
        problems.append(
            f"{where} must name exactly one of metric, dataset or model, e.g. "
            f"{{metric: roc_auc, min: 0.8}}, {{dataset: features, rows: {{min: 1000}}}} or "
            f"{{model: churn, signature: unchanged}}; got {item!r}"
        )
        return None
    assert isinstance(item, Mapping)
    kind = kinds[0]
    name = item[kind]
    if not isinstance(name, str) or not name:
        problems.append(f"{where}: {kind} must be a name, got {name!r}")
        return None
    where = f"{where} ({kind} {name})"
    unknown = sorted(set(item) - _FIELDS[kind])
    if unknown:
        fields = ", ".join(sorted(_FIELDS[kind] - {kind}))
        problems.append(
            f"{where}: unknown field(s) {', '.join(unknown)} (a {kind} expectation takes: {fields})"
        )
        return None
    if kind == "metric":
        bounds = _range(item, where, problems)
        if bounds is None:
            return None
        if bounds == (None, None):
            problems.append(f"{where}: give 'min', 'max' or both")
            return None
        return Expectation(kind=kind, name=name, min=bounds[0], max=bounds[1])
    if kind == "dataset":
        return _parse_dataset(item, name, where, problems)
    if item.get("signature") != "unchanged":
        problems.append(f"{where}: 'signature' must be 'unchanged', got {item.get('signature')!r}")
        return None
    return Expectation(kind=kind, name=name, signature_unchanged=True)


def _parse_dataset(
    item: Mapping[str, Any], name: str, where: str, problems: list[str]
) -> Expectation | None:
    rows = item.get("rows")
    low = high = None
    if isinstance(rows, int) and not isinstance(rows, bool) and rows >= 0:
        low = high = float(rows)
    elif isinstance(rows, Mapping) and rows and set(rows) <= {"min", "max"}:
        bounds = _range(rows, f"{where}: rows", problems)
        if bounds is None:
            return None
        low, high = bounds
    elif rows is not None:
        problems.append(f"{where}: 'rows' must be a count or {{min: N, max: N}}, got {rows!r}")
        return None
    columns = item.get("columns")
    if columns is not None and (
        not isinstance(columns, list) or not all(isinstance(c, str) and c for c in columns)
    ):
        problems.append(f"{where}: 'columns' must be a list of column names, got {columns!r}")
        return None
    if rows is None and not columns:
        problems.append(f"{where}: give 'rows', 'columns' or both")
        return None
    return Expectation(kind="dataset", name=name, min=low, max=high, columns=tuple(columns or ()))


def _range(
    raw: Mapping[str, Any], where: str, problems: list[str]
) -> tuple[float | None, float | None] | None:
    """``raw``'s min and max (each a number or absent); None after a problem."""
    before = len(problems)
    low, high = _number(raw, "min", where, problems), _number(raw, "max", where, problems)
    if low is not None and high is not None and low > high:
        problems.append(f"{where}: min {low:g} is above max {high:g}")
    return None if len(problems) > before else (low, high)


def _number(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{where}: {key!r} must be a number, got {value!r}")
        return None
    return float(value)


# -- the check ------------------------------------------------------------------------


def check_expectations(
    catalog: Catalog, expectations: tuple[Expectation, ...], entries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The result of each expectation against a stage's manifest ``entries`` (what it
    logged, saved and registered, not yet committed); a model's signature is compared with
    its latest version in ``catalog``."""
    results = []
    for expectation in expectations:
        if expectation.kind == "metric":
            status, observed, message = _check_metric(expectation, entries)
        elif expectation.kind == "dataset":
            status, observed, message = _check_dataset(expectation, entries)
        else:
            status, observed, message = _check_model(catalog, expectation, entries)
        results.append(
            {
                "kind": "assertion",
                "name": expectation.describe(),
                "status": status,
                "expected": expectation.to_dict(),
                "observed": observed,
                "message": message,
            }
        )
    return results


def failure_message(results: list[dict[str, Any]]) -> str:
    """One line per failed result, for the stage's error."""
    return "; ".join(r["message"] for r in results if r["status"] == "failed")


def _last(entries: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any] | None:
    found = [e for e in entries if e.get("type") == kind and e.get("name") == name]
    return found[-1] if found else None


_VERBS = {"metric": "logged", "dataset": "saved", "model": "registered"}


def _absent(expectation: Expectation, entries: list[dict[str, Any]]) -> tuple[str, Any, str]:
    """The stage did not produce what the expectation is about: a failure naming what it did."""
    kind, verb = expectation.kind, _VERBS[expectation.kind]
    names = sorted({str(e.get("name")) for e in entries if e.get("type") == kind})
    made = ", ".join(names) if names else "none"
    return "failed", None, f"{kind} {expectation.name} was not {verb} by the stage ({verb}: {made})"


def _within(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _expected(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"exactly {low:g}" if low == high else f"between {low:g} and {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}"


def _check_metric(expectation: Expectation, entries: list[dict[str, Any]]) -> tuple[str, Any, str]:
    logged = [e for e in entries if e.get("type") == "metric" and e.get("name") == expectation.name]
    what = f"metric {expectation.name}"
    if not logged:
        return _absent(expectation, entries)
    # the last value at the highest step, as the run's metrics are shown
    value = float(max(enumerate(logged), key=lambda p: (p[1].get("step") or 0, p[0]))[1]["value"])
    wanted = _expected(expectation.min, expectation.max)
    if _within(value, expectation.min, expectation.max):
        return "passed", value, f"{what} = {value:g} ({wanted})"
    return "failed", value, f"{what} = {value:g}, expected {wanted}"


def _check_dataset(expectation: Expectation, entries: list[dict[str, Any]]) -> tuple[str, Any, str]:
    entry = _last(entries, "dataset", expectation.name)
    what = f"dataset {expectation.name}"
    if entry is None:
        return _absent(expectation, entries)
    rows = int(entry.get("row_count") or 0)
    columns = [str(c.get("name")) for c in entry.get("columns") or [] if isinstance(c, dict)]
    observed = {"rows": rows, "columns": columns}
    problems = []
    if (expectation.min is not None or expectation.max is not None) and not _within(
        rows, expectation.min, expectation.max
    ):
        problems.append(f"has {rows} rows, expected {_expected(expectation.min, expectation.max)}")
    missing = [c for c in expectation.columns if c not in columns]
    if missing:
        problems.append(
            f"lacks column(s) {', '.join(missing)} (columns: {', '.join(columns) or 'none'})"
        )
    if problems:
        return "failed", observed, f"{what} " + " and ".join(problems)
    return "passed", observed, f"{what} has {rows} rows"


def _check_model(
    catalog: Catalog, expectation: Expectation, entries: list[dict[str, Any]]
) -> tuple[str, Any, str]:
    entry = _last(entries, "model", expectation.name)
    what = f"model {expectation.name}"
    if entry is None:
        return _absent(expectation, entries)
    current = entry.get("signature")
    rows = catalog.read(
        "SELECT version, signature FROM model_versions WHERE name = ? "
        "ORDER BY version DESC LIMIT 1",
        [expectation.name],
    )
    if not rows:
        return "passed", current, f"{what}: first version, no earlier signature to compare"
    version, raw = rows[0]
    before = json.loads(raw) if isinstance(raw, str) else raw
    differences = signature_changes(before, current)
    if differences:
        return (
            "failed",
            current,
            f"{what} signature changed since version {version}: " + "; ".join(differences),
        )
    return "passed", current, f"{what} signature is version {version}'s"


def signature_changes(before: Any, after: Any) -> list[str]:
    """What differs between two model signatures: input columns (name and kind), output."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        if before == after:
            return []
        return [f"signature {_shown(before)} -> {_shown(after)}"]
    old = {i["name"]: i.get("kind") for i in before.get("inputs", [])}
    new = {i["name"]: i.get("kind") for i in after.get("inputs", [])}
    changes = []
    added = [f"{n} ({k})" for n, k in new.items() if n not in old]
    removed = [f"{n} ({k})" for n, k in old.items() if n not in new]
    changed = [f"{n} {old[n]} -> {k}" for n, k in new.items() if n in old and old[n] != k]
    if added:
        changes.append(f"inputs added: {', '.join(added)}")
    if removed:
        changes.append(f"inputs removed: {', '.join(removed)}")
    if changed:
        changes.append(f"input kinds changed: {', '.join(changed)}")
    if not (added or removed) and list(old) != list(new):
        changes.append(f"input order changed: {', '.join(old)} -> {', '.join(new)}")
    if before.get("output") != after.get("output"):
        changes.append(f"output {_output(before)} -> {_output(after)}")
    return changes


def _shown(signature: Any) -> str:
    if signature is None:
        return "none (no X_sample given)"
    if isinstance(signature, dict):
        return ", ".join(str(i.get("name")) for i in signature.get("inputs", [])) or "no inputs"
    return str(signature)


def _output(signature: dict[str, Any]) -> str:
    output = signature.get("output") or {}
    classes = output.get("classes")
    return str(output.get("kind", "unknown")) + (f" {classes}" if classes else "")

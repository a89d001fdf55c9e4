"""The project definition: what the project is for, read from ``mlops_lab.yaml``'s ``project:``.

One place states the business problem, the objective metric and its minimum, the
guardrails (per slice), the serving SLO, the drift tolerance, the gate's rule and the
owners. The gate (``compare``), ``evaluate``, ``check_drift`` and the SLO watcher read
their defaults from it (explicit arguments still win), and every alert it causes names
the rule it enforces (:attr:`Rule.name`, e.g. ``project.objective`` or
``project.guardrails[0]``)::

    project:
      problem: Predict which customers will churn within 30 days
      task: classification        # or regression
      entity: customer
      label: churned
      objective: {metric: roc_auc, min: 0.85}
      guardrails:
        - {metric: recall, min: 0.70, slice: segment}   # every segment
      gate: {min_improvement: 0.0}  # or {non_inferiority: 0.01}
      serving: {p99_ms: 20, error_rate: 0.01, window: 60s}
      drift: {max_drifted_share: 0.2}
      owners: {science: churn-science, engineering: ml-platform}

:func:`parse_project` checks a mapping and lists every problem at once
(:class:`ProjectError`), naming the field (``project.guardrails[0].min``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from mlops_lab.metric_direction import higher_is_better

__all__ = [
    "FieldChecker",
    "GateRule",
    "ProjectDefinition",
    "ProjectError",
    "Rule",
    "ServingSLO",
    "parse_duration_seconds",
    "parse_project",
    "rule_checks",
]

TASKS = ("classification", "regression")
_KEYS = (
    "problem",
    "task",
    "entity",
    "label",
    "objective",
    "guardrails",
    "gate",
    "serving",
    "drift",
    "owners",
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")


class ProjectError(ValueError):
    """The ``project:`` section is not valid; ``problems`` lists each, naming its field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A bound on a metric: overall, or in every value of ``slice`` (a column)."""

    name: str  # where it is stated: project.objective, project.guardrails[1]
    metric: str
    min: float | None = None
    max: float | None = None
    slice: str | None = None

    def breached_by(self, value: float | None) -> bool:
        """Whether ``value`` is on the wrong side of a bound (a missing value breaches)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return True
        return (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        )

    def bound_text(self) -> str:
        parts = []
        if self.min is not None:
            parts.append(f">= {self.min:g}")
        if self.max is not None:
            parts.append(f"<= {self.max:g}")
        where = f" in every {self.slice}" if self.slice else ""
        return f"{self.metric} {' and '.join(parts)}{where}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"metric": self.metric}
        for key in ("min", "max", "slice"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True, kw_only=True)
class GateRule:
    """How a challenger must compare to the champion on the objective metric.

    ``min_improvement``: the lower end of the improvement's interval reaches it, and
    the improvement itself is above zero (an identical model is *no better*).
    ``non_inferiority``: the lower end is above minus this margin (not worse by more).
    """

    min_improvement: float | None = 0.0
    non_inferiority: float | None = None

    @property
    def threshold(self) -> float:
        """The lowest acceptable lower end of the improvement's interval."""
        if self.non_inferiority is not None:
            return -self.non_inferiority
        return self.min_improvement or 0.0

    def passes(self, difference: float, ci_low: float) -> bool:
        if self.non_inferiority is not None:
            return ci_low >= -self.non_inferiority
        return ci_low >= (self.min_improvement or 0.0) and difference > 0

    def text(self) -> str:
        if self.non_inferiority is not None:
            return f"non-inferiority margin {self.non_inferiority:g}"
        return f"minimum improvement {self.min_improvement or 0.0:g} (and better than zero)"

    def to_dict(self) -> dict[str, Any]:
        if self.non_inferiority is not None:
            return {"non_inferiority": self.non_inferiority}
        return {"min_improvement": self.min_improvement or 0.0}


@dataclass(frozen=True, kw_only=True)
class ServingSLO:
    """The model server's service level: p99 latency and error rate over ``window_s``."""

    p99_ms: float | None = None
    error_rate: float | None = None
    window_s: float = 60.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"window": f"{self.window_s:g}s"}
        if self.p99_ms is not None:
            out["p99_ms"] = self.p99_ms
        if self.error_rate is not None:
            out["error_rate"] = self.error_rate
        return out


@dataclass(frozen=True, kw_only=True)
class ProjectDefinition:
    problem: str
    task: str
    objective: Rule
    entity: str | None = None
    label: str | None = None
    guardrails: tuple[Rule, ...] = ()
    gate: GateRule = field(default_factory=GateRule)
    serving: ServingSLO | None = None
    max_drifted_share: float | None = None
    owners: dict[str, str] = field(default_factory=dict)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The objective, then the guardrails."""
        return (self.objective, *self.guardrails)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"problem": self.problem, "task": self.task}
        if self.entity:
            out["entity"] = self.entity
        if self.label:
            out["label"] = self.label
        out["objective"] = self.objective.to_dict()
        out["guardrails"] = [g.to_dict() for g in self.guardrails]
        out["gate"] = self.gate.to_dict()
        if self.serving is not None:
            out["serving"] = self.serving.to_dict()
        if self.max_drifted_share is not None:
            out["drift"] = {"max_drifted_share": self.max_drifted_share}
        out["owners"] = dict(self.owners)
        return out


def parse_duration_seconds(value: Any) -> float:
    """``60``, ``"60s"``, ``"500ms"``, ``"5m"``, ``"1h"``, ``"2d"`` as seconds (ValueError
    otherwise)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration such as 60s, 500ms, 5m or 1h")
        unit = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}[match.group(2) or "s"]
        seconds = float(match.group(1)) * unit
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{value!r} must be a positive duration")
    return seconds


class FieldChecker:
    """Collects every problem of a parsed mapping, each naming its field (``a.b[0].c``)."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def bad(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def mapping(self, where: str, value: Any, known: tuple[str, ...]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.bad(where, f"must be a mapping, got {_kind(value)}")
            return None
        unknown = sorted(str(k) for k in value if k not in known)
        if unknown:
            self.bad(where, f"unknown key(s) {', '.join(unknown)} (known: {', '.join(known)})")
        return value

    def text(self, where: str, value: Any, *, required: bool, name: bool = False) -> str | None:
        if value is None:
            if required:
                self.bad(where, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.bad(where, f"must be a non-empty string, got {value!r}")
            return None
        if name and not _NAME.match(value):
            self.bad(where, f"{value!r} is not a name (letters, digits, _ . -)")
            return None
        return value.strip()

    def number(
        self, where: str, value: Any, *, low: float | None = None, high: float | None = None
    ) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.bad(where, f"must be a number, got {value!r}")
            return None
        number = float(value)
        if not math.isfinite(number):
            self.bad(where, f"must be finite, got {value!r}")
            return None
        if (low is not None and number < low) or (high is not None and number > high):
            span = f"between {low:g} and {high:g}" if high is not None else f">= {low:g}"
            self.bad(where, f"must be {span}, got {number:g}")
            return None
        return number

    def rule(self, where: str, value: Any, *, sliced: bool) -> Rule | None:
        keys = ("metric", "min", "max", "slice") if sliced else ("metric", "min", "max")
        spec = self.mapping(where, value, keys)
        if spec is None:
            return None
        metric = self.text(f"{where}.metric", spec.get("metric"), required=True, name=True)
        low = self.number(f"{where}.min", spec.get("min"))
        high = self.number(f"{where}.max", spec.get("max"))
        slice_ = self.text(f"{where}.slice", spec.get("slice"), required=False, name=True)
        if metric is None:
            return None
        if low is None and high is None and "min" not in spec and "max" not in spec:
            better = "min" if higher_is_better(metric) else "max"
            self.bad(where, f"needs a bound: {better}: VALUE")
            return None
        if low is not None and high is not None and low > high:
            self.bad(where, f"min {low:g} is above max {high:g}")
            return None
        return Rule(name=where, metric=metric, min=low, max=high, slice=slice_)


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def parse_project(value: Any, *, where: str = "project") -> ProjectDefinition:
    """The definition in ``value`` (the ``project:`` mapping); :class:`ProjectError` lists
    every problem when it is not valid."""
    check = FieldChecker()
    spec = check.mapping(where, value, _KEYS)
    if spec is None:
        raise ProjectError(check.problems)
    problem = check.text(f"{where}.problem", spec.get("problem"), required=True)
    task = spec.get("task", "classification")
    if task not in TASKS:
        check.bad(f"{where}.task", f"must be one of {', '.join(TASKS)}, got {task!r}")
    entity = check.text(f"{where}.entity", spec.get("entity"), required=False, name=True)
    label = check.text(f"{where}.label", spec.get("label"), required=False, name=True)
    objective = None
    if "objective" not in spec:
        check.bad(f"{where}.objective", "is required ({metric: roc_auc, min: 0.85})")
    else:
        objective = check.rule(f"{where}.objective", spec["objective"], sliced=False)
    guardrails: list[Rule] = []
    raw_guardrails = spec.get("guardrails") or []
    if not isinstance(raw_guardrails, list):
        check.bad(f"{where}.guardrails", f"must be a list, got {_kind(raw_guardrails)}")
        raw_guardrails = []
    for i, item in enumerate(raw_guardrails):
        rule = check.rule(f"{where}.guardrails[{i}]", item, sliced=True)
        if rule is not None:
            guardrails.append(rule)
    gate = GateRule()
    if spec.get("gate") is not None:
        g = check.mapping(f"{where}.gate", spec["gate"], ("min_improvement", "non_inferiority"))
        if g is not None:
            improvement = check.number(f"{where}.gate.min_improvement", g.get("min_improvement"))
            margin = check.number(f"{where}.gate.non_inferiority", g.get("non_inferiority"), low=0)
            if improvement is not None and margin is not None:
                check.bad(f"{where}.gate", "state one rule: min_improvement or non_inferiority")
            elif margin is not None:
                gate = GateRule(min_improvement=None, non_inferiority=margin)
            else:
                gate = GateRule(min_improvement=improvement or 0.0)
    serving = None
    if spec.get("serving") is not None:
        s = check.mapping(f"{where}.serving", spec["serving"], ("p99_ms", "error_rate", "window"))
        if s is not None:
            before = len(check.problems)
            p99 = check.number(f"{where}.serving.p99_ms", s.get("p99_ms"), low=0)
            rate = check.number(f"{where}.serving.error_rate", s.get("error_rate"), low=0, high=1)
            window = 60.0
            if s.get("window") is not None:
                try:
                    window = parse_duration_seconds(s["window"])
                except ValueError as exc:
                    check.bad(f"{where}.serving.window", str(exc))
            if p99 is None and rate is None and len(check.problems) == before:
                check.bad(f"{where}.serving", "needs p99_ms or error_rate")
            serving = ServingSLO(p99_ms=p99, error_rate=rate, window_s=window)
    drifted = None
    if spec.get("drift") is not None:
        d = check.mapping(f"{where}.drift", spec["drift"], ("max_drifted_share",))
        if d is not None:
            drifted = check.number(
                f"{where}.drift.max_drifted_share", d.get("max_drifted_share"), low=0, high=1
            )
    owners: dict[str, str] = {}
    raw_owners = spec.get("owners") or {}
    if not isinstance(raw_owners, dict):
        check.bad(f"{where}.owners", f"must be a mapping of role: team, got {_kind(raw_owners)}")
    else:
        for role, team in raw_owners.items():
            text = check.text(f"{where}.owners.{role}", team, required=True)
            if text is not None:
                owners[str(role)] = text
    if check.problems or problem is None or objective is None:
        raise ProjectError(check.problems)
    return ProjectDefinition(
        problem=problem,
        task=str(task),
        entity=entity,
        label=label,
        objective=objective,
        guardrails=tuple(guardrails),
        gate=gate,
        serving=serving,
        max_drifted_share=drifted,
        owners=owners,
    )


def rule_checks(
    rules: tuple[Rule, ...],
    metrics: dict[str, Any],
    slice_metrics: list[dict[str, Any]] | None,
    *,
    subject: str,
) -> list[dict[str, Any]]:
    """Each rule judged on an evaluation's numbers: one check per rule (a sliced rule is
    judged on its worst slice, and every slice that breaks it is listed).

    ``metrics`` are the overall numbers, ``slice_metrics`` the per-slice ones as
    ``evaluate`` stores them (``[{"column", "value", "rows", "metrics"}]``). ``met`` is
    None when the rule could not be judged (the metric or the slice was not measured).
    """
    checks = []
    for rule in rules:
        check: dict[str, Any] = {
            "rule": rule.name,
            "text": rule.bound_text(),
            "metric": rule.metric,
            "slice": rule.slice,
            "subject": subject,
            "value": None,
            "met": None,
            "breaches": [],
        }
        if rule.slice is None:
            value = metrics.get(rule.metric)
            if value is not None:
                check["value"] = float(value)
                check["met"] = not rule.breached_by(float(value))
            else:
                check["why_unjudged"] = f"{rule.metric} was not measured"
        else:
            rows = [s for s in slice_metrics or [] if s.get("column") == rule.slice]
            values = [(s["value"], s.get("metrics", {}).get(rule.metric)) for s in rows]
            judged = [(v, float(m)) for v, m in values if m is not None]
            if not judged:
                check["why_unjudged"] = (
                    f"{rule.metric} per {rule.slice} was not measured "
                    f"(evaluate with slices=[{rule.slice!r}])"
                )
            else:
                higher = rule.min is not None
                worst = (
                    min(judged, key=lambda p: p[1]) if higher else max(judged, key=lambda p: p[1])
                )
                check["value"] = worst[1]
                check["worst_slice"] = worst[0]
                check["breaches"] = [
                    {"slice_value": v, "value": m} for v, m in judged if rule.breached_by(m)
                ]
                check["met"] = not check["breaches"]
        checks.append(check)
    return checks

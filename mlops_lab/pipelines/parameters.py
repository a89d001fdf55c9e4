"""A run's parameter values: the notebook's defaults with overrides applied and checked.

An override has the default's type (an int is accepted for a float); a ``None``
default (papermill's idiom for a required parameter) or one that is an
expression takes any value. A notebook without a parameters cell has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from mlops_lab.errors import PipelineSpecError
from mlops_lab.pipelines.notebook import NotebookInfo, ParameterSpec

__all__ = ["apply_parameters", "check_parameter", "parse_override"]


def check_parameter(spec: ParameterSpec, value: Any) -> Any:
    """Return ``value`` (an int widened for a float) or raise ``TypeError``."""
    expected = spec.type
    if expected in ("none", "expression"):
        return value
    if expected == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    actual = type(value)
    ok = {
        "bool": actual is bool,
        "int": actual is int,
        "float": actual is float,
        "str": actual is str,
        "list": actual is list,
        "dict": actual is dict,
    }.get(expected, True)
    if not ok:
        raise TypeError(
            f"expects {expected} (default {spec.default!r}), got {type(value).__name__} {value!r}"
        )
    return value


def apply_parameters(
    info: NotebookInfo,
    values: Mapping[str, Any],
    *,
    notebook: str,
    where: str = "",
    problems: list[str],
) -> dict[str, Any]:
    """The notebook's defaults with ``values`` applied; each bad value adds a problem."""
    parameters = {p.name: p.default for p in info.parameters.values()}
    for key, value in values.items():
        spec = info.parameters.get(key)
        if spec is None and info.parameters_cell is None:
            problems.append(
                f"{where}parameter {key!r} cannot be set: {notebook} has no cell tagged "
                "'parameters', so it runs with zero parameters (add one with "
                f"`mlops-lab handoff {notebook} --add-parameters`)"
            )
            continue
        if spec is None:
            defined = ", ".join(info.parameters) or "none"
            problems.append(
                f"{where}parameter {key!r} is not defined in the parameters cell of {notebook} "
                f"(defined: {defined})"
            )
            continue
        try:
            parameters[key] = check_parameter(spec, value)
        except TypeError as exc:
            problems.append(f"{where}parameter {key!r} {exc}")
    return parameters


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key=value`` (the value as YAML: 3 -> int, true -> bool, [1, 2] -> list)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise PipelineSpecError(f"-p {text!r} must look like name=value")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, value

"""Pipeline specifications from ``mlops_lab.yaml``, validated against their notebooks.

::

    pipelines:
      churn:
        description: Train and evaluate the churn model
        stages:
          - name: generate
            notebook: notebooks/01_generate_data.ipynb
            parameters: {n_customers: 2000}
            outputs: {datasets: [transactions]}
          - name: features
            notebook: notebooks/02_features.ipynb
            needs: [generate]
            inputs: {datasets: [transactions]}
            outputs: {datasets: [customer_features]}
            expect:                    # checked before its outputs are committed
              - {dataset: customer_features, rows: {min: 1000}}
            lint: true                 # ruff on the notebook before it runs

Stage parameters override the defaults of the notebook's ``parameters``
cell and must have the same type (an int is accepted for a float; a ``None``
default accepts any value). A notebook without a ``parameters`` cell is a
stage with zero parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_lab.errors import PipelineNotFoundError, PipelineSpecError
from mlops_lab.pipelines.assertions import Expectation, parse_expectations
from mlops_lab.pipelines.notebook import NotebookInfo, ParameterSpec, read_notebook
from mlops_lab.pipelines.parameters import apply_parameters
from mlops_lab.workspace import Workspace

__all__ = [
    "INPUT_KINDS",
    "OUTPUT_KINDS",
    "PipelineSpec",
    "StageSpec",
    "load_pipeline",
    "load_pipelines",
]

# optional_datasets: read when they exist (served requests with outcomes, which arrive
# after the first run); like datasets, a new version is new data for CT.
INPUT_KINDS = ("datasets", "optional_datasets", "feature_views")
OUTPUT_KINDS = ("datasets", "models", "metrics", "artifacts")
_STAGE_KEYS = {
    "name",
    "notebook",
    "parameters",
    "needs",
    "inputs",
    "outputs",
    "timeout",
    "cell_timeout",
    "kernel",
    "expect",
    "lint",
}
_PIPELINE_KEYS = {"description", "stages"}


@dataclass(frozen=True, kw_only=True)
class StageSpec:
    name: str
    notebook: str  # relative to the workspace root
    parameters: dict[str, Any] = field(default_factory=dict)  # full set: defaults + overrides
    needs: tuple[str, ...] = ()
    inputs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    outputs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    timeout: float | None = None  # seconds for the whole stage (from its first cell's start)
    cell_timeout: float | None = None  # seconds any one cell may take
    kernel: str | None = None  # kernelspec name; None: the notebook's (or the workspace's Python)
    # checked after it runs, before its outputs are committed (mlops_lab.pipelines.assertions)
    expect: tuple[Expectation, ...] = ()
    lint: bool = False  # ruff on its notebook before it runs (mlops_lab.pipelines.lint)
    source_hash: str = ""
    parameter_specs: dict[str, ParameterSpec] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "notebook": self.notebook,
            "parameters": self.parameters,
            "needs": list(self.needs),
            "inputs": {k: list(v) for k, v in self.inputs.items()},
            "outputs": {k: list(v) for k, v in self.outputs.items()},
            "timeout": self.timeout,
            "cell_timeout": self.cell_timeout,
            "kernel": self.kernel,
            "expect": [e.to_dict() for e in self.expect],
            "lint": self.lint,
        }


@dataclass(frozen=True, kw_only=True)
class PipelineSpec:
    name: str
    description: str
    stages: tuple[StageSpec, ...]  # in a dependency order

    def stage(self, name: str) -> StageSpec:
        for stage in self.stages:
            if stage.name == name:
                return stage
        known = ", ".join(s.name for s in self.stages)
        raise PipelineSpecError(f"pipeline {self.name!r} has no stage {name!r} (stages: {known})")

    def downstream(self, name: str) -> set[str]:
        """``name`` and every stage that (transitively) needs it."""
        found = {name}
        for stage in self.stages:  # dependency order: parents come first
            if found.intersection(stage.needs):
                found.add(stage.name)
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "stages": [s.to_dict() for s in self.stages],
        }


def _names(value: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(f"{where} must be a list of names, got {value!r}")
        return ()
    return tuple(value)


def _io(
    value: Any, kinds: tuple[str, ...], where: str, problems: list[str]
) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"{where} must be a mapping of {', '.join(kinds)} to names")
        return {}
    result: dict[str, tuple[str, ...]] = {}
    for kind, names in value.items():
        if kind not in kinds:
            problems.append(
                f"{where} has unknown kind {kind!r} (expected one of {', '.join(kinds)})"
            )
            continue
        result[kind] = _names(names, f"{where}.{kind}", problems)
    return result


def _stage(
    workspace: Workspace,
    pipeline: str,
    raw: Any,
    index: int,
    overrides: Mapping[str, Any],
    problems: list[str],
) -> StageSpec | None:
    where = f"pipeline {pipeline!r} stage {index + 1}"
    if not isinstance(raw, Mapping):
        problems.append(f"{where} must be a mapping with at least 'name' and 'notebook'")
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        problems.append(f"{where}: 'name' must be an identifier (letters, digits, _), got {name!r}")
        return None
    where = f"pipeline {pipeline!r} stage {name!r}"
    for key in sorted(set(raw) - _STAGE_KEYS):
        problems.append(
            f"{where}: unknown field {key!r} (fields: {', '.join(sorted(_STAGE_KEYS))})"
        )
    notebook = raw.get("notebook")
    if not isinstance(notebook, str) or not notebook.endswith(".ipynb"):
        problems.append(f"{where}: 'notebook' must be a path to an .ipynb file, got {notebook!r}")
        return None
    path = (workspace.root / notebook).resolve()
    if not path.is_relative_to(workspace.root):
        problems.append(f"{where}: notebook {notebook!r} is outside the workspace")
        return None
    if not path.is_file():
        problems.append(f"{where}: notebook {notebook} does not exist")
        return None
    try:
        info: NotebookInfo = read_notebook(path)
    except PipelineSpecError as exc:
        problems.extend(f"{where}: {p}" for p in exc.problems)
        return None
    if info.parameters_problem:
        problems.append(f"{where}: {info.parameters_problem}")
        return None
    given = raw.get("parameters") or {}
    if not isinstance(given, Mapping):
        problems.append(f"{where}: 'parameters' must be a mapping")
        given = {}
    parameters = apply_parameters(
        info, {**given, **overrides}, notebook=notebook, where=f"{where}: ", problems=problems
    )
    timeout = _seconds(raw, "timeout", where, problems)
    cell_timeout = _seconds(raw, "cell_timeout", where, problems)
    kernel = raw.get("kernel")
    if kernel is not None and (not isinstance(kernel, str) or not kernel.strip()):
        problems.append(f"{where}: 'kernel' must be a kernelspec name (`jupyter kernelspec list`)")
        kernel = None
    lint = raw.get("lint", False)
    if not isinstance(lint, bool):
        problems.append(f"{where}: 'lint' must be true or false, got {lint!r}")
        lint = False
    return StageSpec(
        name=name,
        notebook=notebook,
        parameters=parameters,
        needs=_names(raw.get("needs"), f"{where} 'needs'", problems),
        inputs=_io(raw.get("inputs"), INPUT_KINDS, f"{where} 'inputs'", problems),
        outputs=_io(raw.get("outputs"), OUTPUT_KINDS, f"{where} 'outputs'", problems),
        timeout=timeout,
        cell_timeout=cell_timeout,
        kernel=kernel,
        expect=parse_expectations(raw.get("expect"), where, problems),
        lint=lint,
        source_hash=info.source_hash,
        parameter_specs=info.parameters,
    )


def _seconds(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        problems.append(f"{where}: {key!r} must be a positive number of seconds")
        return None
    return float(value)


def _order(pipeline: str, stages: list[StageSpec], problems: list[str]) -> tuple[StageSpec, ...]:
    """Stages in dependency order; reports unknown needs and cycles (printing the cycle)."""
    by_name = {s.name: s for s in stages}
    for stage in stages:
        for need in stage.needs:
            if need not in by_name:
                problems.append(
                    f"pipeline {pipeline!r} stage {stage.name!r} needs unknown stage {need!r} "
                    f"(stages: {', '.join(by_name)})"
                )
    ordered: list[StageSpec] = []
    state: dict[str, str] = {}  # name -> "visiting" | "done"

    def visit(name: str, path: list[str]) -> bool:
        if state.get(name) == "done":
            return True
        if state.get(name) == "visiting":
            cycle = [*path[path.index(name) :], name]
            problems.append(f"pipeline {pipeline!r} has a cycle: {' -> '.join(cycle)}")
            return False
        state[name] = "visiting"
        for need in by_name[name].needs:
            if need in by_name and not visit(need, [*path, name]):
                return False
        state[name] = "done"
        ordered.append(by_name[name])
        return True

    for stage in stages:
        if not visit(stage.name, []):
            break
    return tuple(ordered)


def _parse_pipeline(
    workspace: Workspace, name: str, raw: Any, overrides: Mapping[str, Any], problems: list[str]
) -> PipelineSpec | None:
    if not isinstance(raw, Mapping):
        problems.append(f"pipeline {name!r} must be a mapping with a 'stages' list")
        return None
    for key in sorted(set(raw) - _PIPELINE_KEYS):
        problems.append(f"pipeline {name!r}: unknown field {key!r} (fields: description, stages)")
    raw_stages = raw.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        problems.append(f"pipeline {name!r}: 'stages' must be a non-empty list")
        return None
    stages: list[StageSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(raw_stages):
        stage = _stage(workspace, name, item, index, overrides, problems)
        if stage is None:
            continue
        if stage.name in seen:
            problems.append(f"pipeline {name!r} has two stages named {stage.name!r}")
            continue
        seen.add(stage.name)
        stages.append(stage)
    description = raw.get("description") or ""
    return PipelineSpec(
        name=name, description=str(description), stages=_order(name, stages, problems)
    )


def load_pipelines(workspace: Workspace) -> dict[str, PipelineSpec]:
    """Every pipeline of the workspace, validated; raises listing all problems."""
    problems: list[str] = []
    pipelines: dict[str, PipelineSpec] = {}
    for name, raw in workspace.config.pipelines.items():
        spec = _parse_pipeline(workspace, str(name), raw, {}, problems)
        if spec is not None:
            pipelines[str(name)] = spec
    if problems:
        raise PipelineSpecError(*problems)
    return pipelines


def load_pipeline(
    workspace: Workspace, name: str | None = None, *, overrides: Mapping[str, Any] | None = None
) -> PipelineSpec:
    """One pipeline (the only one when ``name`` is None), with ``-p`` overrides applied.

    An override applies to every stage whose notebook defines that parameter;
    naming a parameter no stage defines is an error.
    """
    defined = workspace.config.pipelines
    if name is None:
        if len(defined) != 1:
            raise PipelineNotFoundError("(none given)", list(defined))
        name = next(iter(defined))
    if name not in defined:
        raise PipelineNotFoundError(name, list(defined))
    problems: list[str] = []
    base = _parse_pipeline(workspace, name, defined[name], {}, problems)
    if problems or base is None:
        raise PipelineSpecError(*problems)
    overrides = dict(overrides or {})
    if not overrides:
        return base
    unknown = [k for k in overrides if not any(k in s.parameter_specs for s in base.stages)]
    if unknown:
        raise PipelineSpecError(
            *(f"-p {k}: no stage of pipeline {name!r} defines parameter {k!r}" for k in unknown)
        )
    stages = []
    for stage in base.stages:
        mine = {k: v for k, v in overrides.items() if k in stage.parameter_specs}
        raw = {**_raw_stage(defined[name], stage.name)}
        checked = _stage(workspace, name, raw, 0, mine, problems)
        if checked is not None:
            stages.append(checked)
    if problems:
        raise PipelineSpecError(*problems)
    return PipelineSpec(name=base.name, description=base.description, stages=tuple(stages))


def _raw_stage(raw_pipeline: Mapping[str, Any], stage: str) -> Mapping[str, Any]:
    for item in raw_pipeline["stages"]:
        if item.get("name") == stage:
            return item  # type: ignore[no-any-return]
    raise AssertionError(stage)


def notebook_path(workspace: Workspace, stage: StageSpec) -> Path:
    return workspace.root / stage.notebook

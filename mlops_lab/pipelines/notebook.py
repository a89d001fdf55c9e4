"""What the runner needs to know about a notebook, read without executing it.

- the ``parameters``-tagged cell and the literal defaults it assigns;
- the code hash: cell types and sources only, so re-saving a notebook (new
  outputs, execution counts or metadata) does not change it.
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_lab.errors import PipelineSpecError

__all__ = ["NotebookInfo", "ParameterSpec", "cells_of", "read_notebook", "source_hash"]

PARAMETER_TYPES: dict[type, str] = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    list: "list",
    dict: "dict",
}


@dataclass(frozen=True, kw_only=True)
class ParameterSpec:
    name: str
    type: str  # one of PARAMETER_TYPES' names, or "none"
    default: Any


@dataclass(frozen=True, kw_only=True)
class NotebookInfo:
    path: Path
    source_hash: str
    parameters_cell: int | None  # index among all cells
    parameters: dict[str, ParameterSpec]
    # Why the parameters cell cannot be read (not valid Python), if it cannot: the
    # handoff reports it; a pipeline refuses to run the notebook.
    parameters_problem: str | None = None


def cells_of(path: Path) -> list[Any]:
    """The notebook's cells as stored (nbformat 4 JSON); unreadable notebooks raise."""
    # Plain JSON, not nbformat: importing nbformat (jsonschema) costs about a second,
    # which every CLI call would pay.
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PipelineSpecError(f"notebook {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PipelineSpecError(f"notebook {path} cannot be read as a notebook: {exc}") from exc
    if not isinstance(document, dict) or document.get("nbformat") != 4:
        raise PipelineSpecError(
            f"notebook {path} is not in nbformat 4 (open and save it in JupyterLab to convert it)"
        )
    cells = document.get("cells")
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        raise PipelineSpecError(f"notebook {path} has no valid 'cells' list")
    return cells


def source_hash(cells: list[Any]) -> str:
    """SHA-256 over each cell's type and source, and which cell is tagged ``parameters``
    (where papermill injects a run's values); outputs, counts and other metadata aside."""
    canonical = json.dumps(
        [
            [cell.get("cell_type", ""), _source(cell)]
            + (["parameters"] if _is_parameters(cell) else [])
            for cell in cells
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _is_parameters(cell: Any) -> bool:
    tags = (cell.get("metadata") or {}).get("tags") or []
    return cell.get("cell_type") == "code" and "parameters" in tags


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _type_name(value: Any) -> str:
    if value is None:
        return "none"
    return PARAMETER_TYPES.get(type(value), type(value).__name__)


def _parse_parameters(
    path: Path, index: int, source: str
) -> tuple[dict[str, ParameterSpec], str | None]:
    """The parameters' defaults, or why the cell cannot be read."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return {}, (
            f"the parameters cell (cell {index + 1}) of {path} is not valid Python: {exc.msg} "
            f"at line {exc.lineno}"
        )
    found: dict[str, ParameterSpec] = {}
    for node in tree.body:
        targets: list[ast.expr]
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            try:
                default = ast.literal_eval(value)
            except ValueError:
                default = None
                kind = "expression"
            else:
                kind = _type_name(default)
            found[target.id] = ParameterSpec(name=target.id, type=kind, default=default)
    return found, None


def read_notebook(path: Path) -> NotebookInfo:
    """Parse a notebook's parameters cell and code hash."""
    cells = cells_of(path)
    parameters_cell = next((i for i, cell in enumerate(cells) if _is_parameters(cell)), None)
    parameters, problem = (
        _parse_parameters(path, parameters_cell, _source(cells[parameters_cell]))
        if parameters_cell is not None
        else ({}, None)
    )
    return NotebookInfo(
        path=path,
        source_hash=source_hash(cells),
        parameters_cell=parameters_cell,
        parameters=parameters,
        parameters_problem=problem,
    )

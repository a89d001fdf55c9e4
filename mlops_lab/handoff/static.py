"""Handoff checks that read the saved notebook without running it.

Code is analysed with :mod:`ast` cell by cell (IPython magics and shell lines
are blanked first, cell magics of other languages skipped: :mod:`.magics`); a
cell that still does not parse is reported, not guessed.
"""

from __future__ import annotations

import ast
import builtins
import itertools
from dataclasses import dataclass, field
from typing import Any

from mlops_lab.handoff.findings import Finding
from mlops_lab.handoff.magics import PYTHON_CELL_MAGICS, prepare, saved_error
from mlops_lab.pipelines.notebook import PARAMETER_TYPES, NotebookInfo

__all__ = ["CellCode", "check_execution_order", "check_parameters", "parse_cells"]

# "none": a None default, papermill's idiom for a required parameter (a run may give any value).
SUPPORTED = set(PARAMETER_TYPES.values()) | {"none"}
_BUILTINS = set(dir(builtins)) | {"display", "get_ipython", "In", "Out", "__file__"}


@dataclass(frozen=True, kw_only=True)
class CellCode:
    index: int  # among all cells
    source: str
    execution_count: int | None
    tree: ast.Module | None  # None: not Python (after blanking magics)
    defines: set[str] = field(default_factory=set)
    reads: dict[str, int] = field(default_factory=dict)  # name -> first line
    magic: str | None = None  # its cell magic (%%bash -> "bash"); tree is None unless Python
    writes: tuple[str, ...] = ()  # files it writes (%%writefile)
    saved_error: tuple[str, str] | None = None  # (ename, evalue) of an error output saved in it
    has_code: bool = True  # more than blank lines and comments

    @property
    def not_python(self) -> bool:
        """A cell magic whose body is another language: not analysed, not an error."""
        return self.magic is not None and self.magic not in PYTHON_CELL_MAGICS


def parse_cells(cells: list[dict[str, Any]]) -> list[CellCode]:
    parsed = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        prepared = prepare(source)
        tree = prepared.tree
        defines, reads = _names(tree) if tree is not None else (set(), {})
        parsed.append(
            CellCode(
                index=index,
                source=source,
                tree=tree,
                defines=defines,
                reads=reads,
                execution_count=cell.get("execution_count"),
                magic=prepared.magic,
                writes=prepared.writes,
                saved_error=saved_error(cell),
                has_code=any(
                    line.strip() and not line.lstrip().startswith("#")
                    for line in source.splitlines()
                ),
            )
        )
    return parsed


def _names(tree: ast.Module) -> tuple[set[str], dict[str, int]]:
    """Names a cell binds at top level (or anywhere by assignment), and names it reads first."""
    defines: set[str] = set()
    reads: dict[str, int] = {}
    local_scopes: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for arg in ast.walk(node.args):
                if isinstance(arg, ast.arg):
                    local_scopes.add(id(arg))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Store | ast.Del):
                defines.add(node.id)
            elif node.id not in reads:
                reads[node.id] = node.lineno
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defines.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                defines.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.arg):
            defines.add(node.arg)  # parameters of functions defined here: not outside reads
        elif isinstance(node, ast.ExceptHandler) and node.name:
            defines.add(node.name)
        elif isinstance(node, ast.alias):
            pass
    return defines, reads


def check_parameters(info: NotebookInfo) -> Finding:
    if info.parameters_problem is not None:
        return Finding(
            check="parameters",
            status="fail",
            cell=info.parameters_cell,
            message=info.parameters_problem[0].upper()
            + info.parameters_problem[1:]
            + ": papermill cannot read its defaults, and a run cannot set them.",
        )
    if info.parameters_cell is None:
        return Finding(
            check="parameters",
            status="warn",
            message="No cell is tagged 'parameters': the stage runs with zero parameters, and "
            "a run cannot change any value. To offer some, add a parameters cell: "
            "`mlops-lab handoff NOTEBOOK --add-parameters` (or 'Add a parameters cell' in the "
            "Handoffs view) moves the first code cell's literal assignments into a new cell "
            "tagged 'parameters'.",
            details={"contract": {}, "fix": "add_parameters"},
        )
    bad = {n: p.type for n, p in info.parameters.items() if p.type not in SUPPORTED}
    contract = {n: {"type": p.type, "default": p.default} for n, p in info.parameters.items()}
    if bad:
        listed = ", ".join(f"{n} ({t})" for n, t in bad.items())
        return Finding(
            check="parameters",
            status="fail",
            cell=info.parameters_cell,
            message=f"Parameter default(s) that are not literals of a supported type "
            f"(int, float, str, bool, list, dict, or None for any value): {listed}.",
            details={"contract": contract, "unsupported": bad},
        )
    return Finding(
        check="parameters",
        status="pass",
        cell=info.parameters_cell,
        message=f"{len(contract)} parameter(s): "
        + (
            ", ".join(
                f"{n}: {_shown_type(c['type'])} = {c['default']!r}" for n, c in contract.items()
            )
            or "none"
        ),
        details={"contract": contract},
    )


def _shown_type(kind: str) -> str:
    return "none (any value)" if kind == "none" else kind


def check_execution_order(cells: list[CellCode]) -> list[Finding]:
    findings = []
    executed = [c for c in cells if c.execution_count is not None]
    for earlier, later in itertools.pairwise(executed):
        if (
            later.execution_count is not None
            and earlier.execution_count is not None
            and (later.execution_count < earlier.execution_count)
        ):
            findings.append(
                Finding(
                    check="execution_order",
                    status="warn",
                    cell=later.index,
                    message=f"Cell {later.index + 1} ran (#{later.execution_count}) before cell "
                    f"{earlier.index + 1} above it (#{earlier.execution_count}): the saved outputs "
                    "came from another order than top to bottom.",
                )
            )
    if executed:
        last_run = executed[-1].index
        for cell in cells:
            if cell.execution_count is None and cell.index < last_run and cell.has_code:
                findings.append(
                    Finding(
                        check="execution_order",
                        status="warn",
                        cell=cell.index,
                        message=f"Cell {cell.index + 1} was not run, although cells below it were.",
                    )
                )
    defined_before: set[str] = set()
    for position, cell in enumerate(cells):
        if cell.not_python:
            continue  # %%bash, %%html...: another language
        if cell.tree is None:
            findings.append(
                Finding(
                    check="execution_order",
                    status="warn",
                    cell=cell.index,
                    message=f"Cell {cell.index + 1} is not valid Python; it was not analysed.",
                )
            )
            continue
        defined_later = {name for c in cells[position + 1 :] for name in c.defines}
        for name, line in cell.reads.items():
            if name in defined_before or name in cell.defines or name in _BUILTINS:
                continue
            if name in defined_later:
                where = next(c.index for c in cells[position + 1 :] if name in c.defines)
                findings.append(
                    Finding(
                        check="execution_order",
                        status="warn",
                        cell=cell.index,
                        message=f"Cell {cell.index + 1} (line {line}) reads {name!r}, defined only "
                        f"in cell {where + 1} below it: hidden state from an earlier session.",
                        details={"name": name, "defined_in": where + 1},
                    )
                )
        defined_before |= cell.defines
    findings += _saved_failures(cells)
    if not findings:
        findings.append(
            Finding(
                check="execution_order",
                status="pass",
                message="Cells were run top to bottom; no name is read before "
                "the cell that defines it.",
            )
        )
    return findings


def _saved_failures(cells: list[CellCode]) -> list[Finding]:
    """A saved KeyboardInterrupt (the run never finished) or error (saved after a failure)."""
    findings = []
    for cell in cells:
        if cell.saved_error is None:
            continue
        name, value = cell.saved_error
        shown = f"{name}: {value}" if value else name
        message = (
            f"Cell {cell.index + 1} was interrupted (a KeyboardInterrupt is saved in its output): "
            "the scientist never finished this run, so the outputs saved below it are missing "
            "or come from an earlier run."
            if name == "KeyboardInterrupt"
            else f"Cell {cell.index + 1} has a saved error output ({shown[:200]}): the notebook "
            "was saved after a failure, so its saved outputs are not those of a complete run."
        )
        findings.append(
            Finding(
                check="execution_order",
                status="warn",
                cell=cell.index,
                message=message,
                details={"error": name},
            )
        )
    return findings

"""Handoff checks that read the saved notebook without running it.

Code is analysed with :mod:`ast` cell by cell (IPython magics and shell lines
are blanked first, cell magics of other languages skipped: :mod:`.magics`); a
cell that still does not parse is reported, not guessed.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_lab.handoff.findings import Finding
from mlops_lab.handoff.magics import PYTHON_CELL_MAGICS, prepare, saved_error
from mlops_lab.pipelines.notebook import PARAMETER_TYPES, NotebookInfo

__all__ = ["CellCode", "check_execution_order", "check_parameters", "check_paths", "parse_cells"]

# "none": a None default, papermill's idiom for a required parameter (a run may give any value).
SUPPORTED = set(PARAMETER_TYPES.values()) | {"none"}
_BUILTINS = set(dir(builtins)) | {"display", "get_ipython", "In", "Out", "__file__"}
# Calls that read a file named by their first argument.
_READERS = {
    "open",
    "read_csv",
    "read_parquet",
    "read_json",
    "read_excel",
    "read_table",
    "read_feather",
    "read_pickle",
    "read_orc",
    "read_sas",
    "read_stata",
    "read_hdf",
    "loadtxt",
    "genfromtxt",
    "load",
    "read_text",
    "read_bytes",
    "imread",
    "read_file",
}
# Calls that check for a file named by their first argument (os.path.isfile("x"), ...),
# and methods that do on a literal Path (Path("x").exists()).
_PROBES = {"isfile", "isdir", "exists", "getsize", "lexists"}
_PATH_PROBES = {"exists", "is_file", "is_dir"}
# Calls that fetch a URL given as their first argument (besides the readers).
_FETCHERS = {"urlopen", "urlretrieve", "get", "Request", "read_html", "read_xml"}
_URL = re.compile(r"^(https?|s3|gs|ftp)://", re.IGNORECASE)
_WINDOWS_ABSOLUTE = re.compile(r"^[A-Za-z]:[\\/]")


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


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal_target(node: ast.Call) -> tuple[str, str] | None:
    """(what the call does, the literal path or URL) for a file read, probe or fetch."""
    name = _call_name(node)
    if node.args and isinstance(node.args[0], ast.Constant):
        target = node.args[0].value
        if isinstance(target, str) and _URL.match(target) and name in _READERS | _FETCHERS:
            return "network", target
        if isinstance(target, str) and name in _READERS:
            return "reads", target
        if isinstance(target, str) and name in _PROBES:
            return "checks", target
    func = node.func
    if (
        name in _PATH_PROBES
        and isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Call)
        and _call_name(func.value) in ("Path", "PurePath")
        and func.value.args
        and isinstance(func.value.args[0], ast.Constant)
        and isinstance(func.value.args[0].value, str)
    ):
        return "checks", func.value.args[0].value
    return None


def _network_finding(cell: CellCode, node: ast.Call, url: str) -> Finding:
    return Finding(
        check="paths",
        status="warn",
        cell=cell.index,
        message=f"Cell {cell.index + 1} (line {node.lineno}) reads {url!r} over the network: "
        "its results depend on what the server answers, and an engineer's run may have no "
        "access. Save the data once as a dataset (ctx.save_dataset) and read it with "
        "ctx.load_dataset, which pins its version.",
        details={"url": url, "line": node.lineno},
    )


def check_paths(cells: list[CellCode], notebook: Path, root: Path) -> list[Finding]:
    findings = []
    written = {path for cell in cells for path in cell.writes}  # %%writefile: made here
    for cell in cells:
        if cell.tree is None:
            continue
        reported: set[str] = set()
        for node in ast.walk(cell.tree):
            if (
                isinstance(node, ast.Call)
                and (found := _literal_target(node)) is not None
                and found[1] not in reported
                and found[1] not in written
            ):
                action, target = found
                reported.add(target)
                if action == "network":
                    findings.append(_network_finding(cell, node, target))
                else:
                    verb = "reads" if action == "reads" else "checks for"
                    findings.append(
                        Finding(
                            check="paths",
                            status="warn",
                            cell=cell.index,
                            message=f"Cell {cell.index + 1} (line {node.lineno}) {verb} the file "
                            f"{target!r}, which is not a declared input: an engineer's run may "
                            "not have it. Save it once as a dataset (ctx.save_dataset) and read "
                            "it with ctx.load_dataset, which pins its version."
                            + (
                                f" Also, {problem}"
                                if (problem := _path_problem(target, notebook, root))
                                else ""
                            ),
                            details={"path": target, "line": node.lineno},
                        )
                    )
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                problem = _path_problem(node.value, notebook, root)
                if problem and node.value not in reported:
                    reported.add(node.value)
                    findings.append(
                        Finding(
                            check="paths",
                            status="warn",
                            cell=cell.index,
                            message=f"Cell {cell.index + 1} (line {node.lineno}): {problem}",
                            details={"path": node.value, "line": node.lineno},
                        )
                    )
    if not findings:
        findings.append(
            Finding(
                check="paths",
                status="pass",
                message="No absolute paths and no undeclared file reads.",
            )
        )
    return findings


def _path_problem(text: str, notebook: Path, root: Path) -> str | None:
    if "\n" in text or " " in text or len(text) < 3 or "://" in text:
        return None
    if (
        text.startswith("~/")
        or _WINDOWS_ABSOLUTE.match(text)
        or (text.startswith("/") and text.count("/") >= 2)
    ):
        return (
            f"the absolute path {text!r} exists only on one machine; use a path in the "
            "workspace or a dataset."
        )
    if text.startswith("..") and ("/" in text or os.sep in text):
        resolved = (notebook.parent / text).resolve()
        if not resolved.is_relative_to(root.resolve()):
            return f"the path {text!r} points outside the workspace."
    return None

"""The fix offered for a notebook without a ``parameters`` cell: add one.

The first code cell's top-level assignments of literals (int, float, str,
bool, list, dict, None) are *moved* into a new cell tagged ``parameters``
placed just before it: left in place they would override the values papermill
injects after the tagged cell. A first cell made of nothing else is just
tagged. With nothing to move, an empty tagged cell (a comment) is added.
Everything else of the notebook (outputs, metadata, cell ids, its nbformat
minor version) stays as it was.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from mlops_lab.errors import ConflictError, InvalidInputError
from mlops_lab.handoff.magics import prepare
from mlops_lab.workspace import Workspace

__all__ = ["add_parameters_cell", "split_literals"]

_LITERALS = (bool, int, float, str, list, dict, type(None))
EMPTY = (
    "# Parameters: the values a run may change, as literal assignments (name = value).\n"
    "# `mlops-lab run --notebook NOTEBOOK -p name=value` overrides them."
)


def _literal_names(node: ast.stmt) -> list[str] | None:
    """The names a ``name = <literal>`` statement assigns, or None for any other statement."""
    if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
        names = [node.target.id]
    else:
        return None
    try:
        value = ast.literal_eval(node.value)  # type: ignore[arg-type]
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return names if isinstance(value, _LITERALS) else None


def _mentioned(node: ast.AST) -> set[str]:
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    for item in ast.walk(node):
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(item.name)
        elif isinstance(item, ast.alias):
            names.add((item.asname or item.name).split(".")[0])
    return names


def split_literals(source: str) -> tuple[list[str], str, list[str], bool]:
    """(moved source lines, the source left, the parameter names, whether all of it moves).

    A literal assignment moves only if nothing before it in the cell mentions its
    name (moving it up must not change what the cell does) and it shares no line
    with another statement.
    """
    prepared = prepare(source)
    tree = prepared.tree
    if tree is None or prepared.magic is not None:
        return [], source, [], False
    lines = source.splitlines(keepends=True)
    spans = [(s.lineno, s.end_lineno or s.lineno) for s in tree.body]
    seen: set[str] = set()
    moved: set[int] = set()  # 1-based line numbers
    names: list[str] = []
    for index, node in enumerate(tree.body):
        assigned = _literal_names(node)
        first, last = spans[index]
        shares = any(
            j != index and not (end < first or start > last) for j, (start, end) in enumerate(spans)
        )
        if assigned and not shares and not (set(assigned) & seen):
            moved.update(range(first, last + 1))
            names += [n for n in assigned if n not in names]
        seen |= _mentioned(node)
    kept = [line for number, line in enumerate(lines, 1) if number not in moved]
    code_left = any(line.strip() and not line.lstrip().startswith("#") for line in kept)
    taken = [line for number, line in enumerate(lines, 1) if number in moved]
    return taken, "".join(kept).strip("\n"), names, bool(moved) and not code_left


def add_parameters_cell(workspace: Workspace, notebook: str | Path) -> dict[str, Any]:
    """Insert (or tag) the ``parameters`` cell; say what was done."""
    import nbformat
    from nbformat.v4 import new_code_cell

    from mlops_lab.handoff.contract import relative_notebook

    relative = relative_notebook(workspace, notebook)
    path = workspace.root / relative
    try:
        document = nbformat.read(path, as_version=nbformat.NO_CONVERT)  # type: ignore[no-untyped-call]
    except Exception as exc:  # nbformat raises several kinds for an unreadable file
        raise InvalidInputError(f"{relative} cannot be read as a notebook: {exc}") from exc
    if document.get("nbformat") != 4:
        raise InvalidInputError(
            f"{relative} is not in nbformat 4: open and save it in JupyterLab to convert it."
        )
    cells = document.cells
    tagged = next(
        (
            i
            for i, c in enumerate(cells)
            if c.cell_type == "code" and "parameters" in (c.metadata.get("tags") or [])
        ),
        None,
    )
    if tagged is not None:
        raise ConflictError(
            f"{relative} already has a parameters cell (cell {tagged + 1}); put the values a "
            "run may change there."
        )
    first = next(
        (i for i, c in enumerate(cells) if c.cell_type == "code" and c.source.strip()), None
    )
    answer: dict[str, Any] = {"notebook": relative, "moved": [], "tagged_existing": False}
    if first is not None:
        taken, kept, names, all_of_it = split_literals(cells[first].source)
        if all_of_it:
            cells[first].metadata["tags"] = [
                *(cells[first].metadata.get("tags") or []),
                "parameters",
            ]
            _write(document, path)
            listed = ", ".join(names)
            return {
                **answer,
                "cell": first + 1,
                "moved": names,
                "tagged_existing": True,
                "message": f"Cell {first + 1} holds only literal assignments ({listed}): "
                "tagged it 'parameters'. Check the notebook again.",
            }
        if taken:
            cells[first].source = kept
            cell = _new_cell(document, "".join(taken).strip("\n"), new_code_cell)
            cells.insert(first, cell)
            _write(document, path)
            return {
                **answer,
                "cell": first + 1,
                "moved": names,
                "message": f"Moved {len(names)} literal assignment(s) ({', '.join(names)}) from "
                f"the first code cell into a new cell {first + 1} tagged 'parameters', just "
                f"before it (now cell {first + 2}). Check the notebook again.",
            }
    where = first if first is not None else len(cells)
    cells.insert(where, _new_cell(document, EMPTY, new_code_cell))
    _write(document, path)
    reason = (
        "the first code cell assigns no literal at its top level"
        if first is not None
        else "the notebook has no code cell"
    )
    return {
        **answer,
        "cell": where + 1,
        "message": f"Nothing to move ({reason}): added an empty cell {where + 1} tagged "
        "'parameters'; assign the values a run may change there, then check the notebook again.",
    }


def _new_cell(document: Any, source: str, new_code_cell: Any) -> Any:
    cell = new_code_cell(source, metadata={"tags": ["parameters"]})
    if document.get("nbformat_minor", 0) < 5:
        cell.pop("id", None)  # cell ids came with nbformat 4.5
    return cell


def _write(document: Any, path: Path) -> None:
    import nbformat

    nbformat.write(document, path, version=nbformat.NO_CONVERT)  # type: ignore[no-untyped-call]

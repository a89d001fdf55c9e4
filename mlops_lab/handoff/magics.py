"""IPython syntax in a saved cell, made ready for :mod:`ast`; what a saved cell's outputs tell.

- A cell magic (``%%bash``, ``%%html``, ``%%writefile path``...) makes the cell
  something other than Python: it is skipped by the Python analysis (not
  "invalid Python"); ``%%writefile path`` writes that file. The bodies of
  ``%%time``, ``%%timeit``, ``%%capture`` and ``%%prun`` are Python, analysed
  without their magic line.
- Line magics and ``!shell`` lines are blanked (a ``pass`` keeps an indented
  block valid); ``x = !ls`` and ``x = %time f()`` become ``x = get_ipython()``:
  the cell still binds ``x``.
- A saved ``KeyboardInterrupt`` or error output means the notebook was saved
  in the middle of a run or after a failure.
"""

from __future__ import annotations

import ast
import re
import shlex
from dataclasses import dataclass
from typing import Any

__all__ = ["PYTHON_CELL_MAGICS", "PreparedCell", "prepare", "saved_error"]

#: Cell magics whose body is Python run in the user's namespace.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
_CELL_MAGIC = re.compile(r"^%%(\w+)(.*)$")
_LINE_MAGIC = re.compile(r"^(\s*)[%!]")
# `x = !ls`, `a, b = %sx ls`, `out = %time f()`: an assignment from a magic or shell command.
_ASSIGNED_MAGIC = re.compile(r"^(\s*[A-Za-z_][\w\s,.\[\]()*]*?)=\s*[%!]")


@dataclass(frozen=True, kw_only=True)
class PreparedCell:
    tree: ast.Module | None  # None: not Python (a cell magic) or not valid Python
    magic: str | None = None  # the cell magic, e.g. "bash"
    writes: tuple[str, ...] = ()  # files the cell writes (%%writefile)


def prepare(source: str) -> PreparedCell:
    """Parse a cell's source as IPython would run it (line numbers kept)."""
    lines = source.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    found = _CELL_MAGIC.match(lines[first].strip()) if first is not None else None
    if found is not None and first is not None:
        magic = found.group(1)
        if magic not in PYTHON_CELL_MAGICS:
            return PreparedCell(tree=None, magic=magic, writes=_writefile(magic, found.group(2)))
        lines = [*([""] * (first + 1)), *lines[first + 1 :]]  # the body, same line numbers
    return PreparedCell(tree=_parse(lines), magic=found.group(1) if found else None)


def _writefile(magic: str, arguments: str) -> tuple[str, ...]:
    if magic != "writefile":
        return ()
    try:
        words = [w for w in shlex.split(arguments) if not w.startswith("-")]
    except ValueError:
        return ()
    return tuple(words[:1])


def _parse(lines: list[str]) -> ast.Module | None:
    """Blank magic lines (or put a ``pass``, for an indented block); parse."""
    for filler in ("", "pass"):
        cleaned = []
        for line in lines:
            assigned = _ASSIGNED_MAGIC.match(line)
            if assigned is not None:
                cleaned.append(f"{assigned.group(1).rstrip()} = get_ipython()")
            elif (magic := _LINE_MAGIC.match(line)) is not None:
                cleaned.append(f"{magic.group(1)}{filler}" if filler else "")
            else:
                cleaned.append(line)
        try:
            return ast.parse("\n".join(cleaned))
        except SyntaxError:
            continue
    return None


def saved_error(cell: dict[str, Any]) -> tuple[str, str] | None:
    """The (name, value) of the first error output saved in a code cell, if any."""
    for output in cell.get("outputs") or ():
        if isinstance(output, dict) and output.get("output_type") == "error":
            return str(output.get("ename") or "Error"), str(output.get("evalue") or "")
    return None

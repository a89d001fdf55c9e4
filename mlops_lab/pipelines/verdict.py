"""How far a run went, read from papermill's executed copy, and how to say it.

papermill marks every cell of the copy it executes: ``metadata.papermill``
holds ``start_time`` (None until the cell starts) and ``exception`` (True
for the cell that raised). That record, not papermill's return, decides
whether a notebook ran top to bottom:

- ``sys.exit(0)`` and a bare ``raise SystemExit`` end the run *without* an
  error from papermill: the cell is marked as raised, the cells below never
  start (``exit()`` in IPython does not stop anything: every cell runs);
- a line magic's ``UsageError`` raises with no ``error`` output (only a
  stream line), and papermill reports ``CellExecutionError`` with an empty
  value;
- a dead kernel (``os._exit``, a crash, the run's deadline) and a per-cell
  timeout mark no cell as raised: the cell running then is the last one that
  started.

Cell numbers are mapped back to the saved notebook with
:mod:`mlops_lab.pipelines.cellmap`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_lab.pipelines.cellmap import INSERTED_TAGS, align, cell_number

__all__ = ["Verdict", "examine", "listed_cells", "read_cells", "strip_ansi"]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)): ?(.*)$")


def strip_ansi(text: str | None) -> str | None:
    """``text`` without terminal colour codes (IPython colours its tracebacks)."""
    return None if text is None else _ANSI.sub("", text)


@dataclass(frozen=True, kw_only=True)
class Verdict:
    executed_cell: int | None  # index in the executed copy of the cell that raised or was running
    saved_cell: int | None  # the same cell in the saved notebook (0-based), None if inserted
    raised: bool  # the cell raised (else it was running when the kernel stopped)
    not_run: tuple[int, ...]  # saved notebook indexes (0-based) of code cells never started
    error_name: str | None = None  # from the cell's outputs, when it has any
    error_value: str | None = None
    traceback: str | None = None

    @property
    def complete(self) -> bool:
        return self.executed_cell is None and not self.not_run


def read_cells(path: Path) -> list[Any] | None:
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells")
    except (OSError, ValueError, AttributeError):
        return None
    return cells if isinstance(cells, list) else None


def _papermill(cell: Any) -> dict[str, Any]:
    meta = (cell.get("metadata") or {}).get("papermill") if isinstance(cell, dict) else None
    return meta if isinstance(meta, dict) else {}


def _inserted(cell: Any) -> bool:
    tags = (cell.get("metadata") or {}).get("tags") or []
    return bool(INSERTED_TAGS & {t for t in tags if isinstance(t, str)})


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _text(output: dict[str, Any]) -> str:
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else str(text)


def _error_of(cell: Any) -> tuple[str | None, str | None, str | None]:
    """(name, value, traceback) from a cell's outputs: its error, else an error-like line."""
    outputs = [o for o in cell.get("outputs") or () if isinstance(o, dict)]
    for output in outputs:
        if output.get("output_type") == "error":
            trace = output.get("traceback") or []
            return (
                output.get("ename"),
                output.get("evalue"),
                strip_ansi("\n".join(trace)) if trace else None,
            )
    for output in reversed(outputs):
        if output.get("output_type") != "stream":
            continue
        for line in reversed(strip_ansi(_text(output)).splitlines()):  # type: ignore[union-attr]
            found = _ERROR_LINE.match(line.strip())
            if found:
                return found.group(1), found.group(2), None
    return None, None, None


def examine(saved: Sequence[Any], executed: Sequence[Any], *, finished: bool) -> Verdict:
    """What the executed copy says; ``finished``: papermill returned without raising."""
    code = [
        (index, cell)
        for index, cell in enumerate(executed)
        if isinstance(cell, dict) and cell.get("cell_type") == "code"
    ]
    stopped = next((i for i, c in code if _papermill(c).get("exception") is True), None)
    raised = stopped is not None
    if stopped is None and not finished:
        started = [i for i, c in code if _papermill(c).get("start_time")]
        stopped = started[-1] if started else None
    to_saved = {e: s for s, e in align(saved, executed)}
    not_run = tuple(
        to_saved[index]
        for index, cell in code
        if index in to_saved
        and (stopped is None or index > stopped)
        and not _papermill(cell).get("start_time")
        and not _inserted(cell)
        and _source(cell).strip()
    )
    if stopped is None:
        return Verdict(executed_cell=None, saved_cell=None, raised=False, not_run=not_run)
    name, value, trace = _error_of(executed[stopped]) if raised else (None, None, None)
    return Verdict(
        executed_cell=stopped,
        saved_cell=to_saved.get(stopped),
        raised=raised,
        not_run=not_run,
        error_name=name,
        error_value=value,
        traceback=trace,
    )


def listed_cells(indexes: Sequence[int]) -> str:
    """``cell 3`` or ``cells 3, 4 and 5`` (saved notebook, from 1)."""
    numbers = [str(cell_number(i)) for i in indexes]
    if len(numbers) == 1:
        return f"cell {numbers[0]}"
    return f"cells {', '.join(numbers[:-1])} and {numbers[-1]}"


def judge(
    saved: Sequence[Any],
    executed: Path,
    error: BaseException | None,
    *,
    timeout: float | None,
    cell_timeout: float | None,
    timed_out: bool,
    cancelled: bool = False,
) -> dict[str, Any]:
    """The :class:`~mlops_lab.pipelines.executor.StageOutcome` fields saying how the run ended.

    ``saved``: the notebook's cells as run; ``error``: what papermill raised (None: it
    returned). Never an empty message.
    """
    ran = read_cells(executed)
    verdict = examine(saved, ran, finished=error is None) if ran is not None else None
    if error is None and (verdict is None or verdict.complete):
        return {"ok": True}
    verdict = verdict or Verdict(executed_cell=None, saved_cell=None, raised=False, not_run=())
    where = f"cell {cell_number(verdict.saved_cell)}" if verdict.saved_cell is not None else ""
    kind = type(error).__name__ if error is not None else ""
    name = getattr(error, "ename", None) or kind or None
    # The exception's own message ("" for a bare `assert`), not papermill's banner text.
    value = (
        str(getattr(error, "evalue", None) or "")
        if hasattr(error, "evalue")
        else (str(error) if error is not None else "")
    )
    trace = getattr(error, "traceback", None)
    traceback = strip_ansi("\n".join(trace)) if isinstance(trace, list) and trace else None
    early = False
    if cancelled:
        name = "Cancelled"
        value = "Cancelled" + (f" while {where} was running" if where else "")
        early = True
    elif timed_out:
        name = "RunTimeout"
        value = f"The run went past its {timeout:g} s limit (for the whole run)" + (
            f" while {where} was running" if where else " before any cell ran"
        )
        early = True
    elif kind == "CellTimeoutError":
        name = "CellTimeout"
        value = f"{where.capitalize() or 'A cell'} ran longer than the per-cell limit of " + (
            f"{cell_timeout:g} s" if cell_timeout else "the run"
        )
        early = True
    elif kind == "DeadKernelError":
        value = (
            "The kernel died"
            + (f" in {where}" if where else "")
            + (" (the process exited or crashed: os._exit, a native crash, out of memory)")
        )
        early = True
    elif verdict.raised and (error is None or name == "CellExecutionError"):
        # sys.exit(0) (papermill returns), or an error without an error output (a magic's
        # UsageError: papermill names only CellExecutionError).
        name = verdict.error_name or ("SystemExit" if error is None else name)
        value = verdict.error_value or ""
        traceback = verdict.traceback or traceback
        early = error is None
    elif error is None:  # papermill returned, yet some cells never started
        name, value, early = "IncompleteRun", "The run ended before every cell ran", True
    if name == "SystemExit" and verdict.raised:  # sys.exit(n), exit code or not
        early = True
        shown = f"{name}: {value}" if value else name
        value = f"The notebook stopped itself in {where or 'a cell'} ({shown})"
    if not value:
        # Shown after the error's name ("AssertionError: raised without a message").
        value = "raised without a message" if name else f"The run failed in {where or 'a cell'}"
    if early and verdict.not_run:
        value += f"; {listed_cells(verdict.not_run)} did not run"
    return {
        "ok": False,
        "timed_out": timed_out,
        "error_cell": verdict.saved_cell,
        "executed_cell": verdict.executed_cell,
        "not_run": verdict.not_run,
        "error_name": name or "RunError",
        "error_value": strip_ansi(value),
        "traceback": traceback,
    }

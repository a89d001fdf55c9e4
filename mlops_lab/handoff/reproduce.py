"""Reproduction: does the clean run give what the notebook already holds?

The outputs saved in the notebook are compared with the clean run's executed
copy, cell by cell (:mod:`mlops_lab.handoff.outputs` says what is compared and
what ignored); where the scientist logged metrics through
``mlops_lab.context()`` in an interactive run, those are compared too. Both go
into one ``reproduction`` finding.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlops_lab.handoff import clean_run as dynamic
from mlops_lab.handoff.causes import NOT_SEEN, likely_cause
from mlops_lab.handoff.findings import Finding
from mlops_lab.handoff.outputs import compare_outputs, has_outputs, normalise
from mlops_lab.handoff.static import parse_cells
from mlops_lab.pipelines.cellmap import align, cell_number

__all__ = ["MAX_SHOWN", "check_reproduction", "describe", "differing_cells", "executed_cells"]

#: Differing cells listed in a finding (the first ones, top to bottom).
MAX_SHOWN = 5


def executed_cells(path: Path) -> list[dict[str, Any]]:
    """The cells of an executed copy (papermill's output notebook)."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells")
    except (OSError, ValueError, AttributeError):
        return []
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def differing_cells(
    saved: Sequence[dict[str, Any]],
    a: Sequence[dict[str, Any]],
    b: Sequence[dict[str, Any]],
    *,
    names: tuple[str, str],
    rel_tol: float,
    only_saved_outputs: bool = False,
) -> tuple[int, list[dict[str, Any]]]:
    """(cells compared, differences) between the cells ``a`` and ``b``, both aligned with the
    saved notebook's cells; each difference names its cell (from 1) and the two sides ``names``.

    ``only_saved_outputs``: compare only the cells that ran when saved and kept outputs
    (``a`` is then the saved notebook itself).
    """
    in_a = dict(align(saved, a))
    in_b = dict(align(saved, b))
    compared, found = 0, []
    for index, cell in enumerate(saved):
        if cell.get("cell_type") != "code" or index not in in_a or index not in in_b:
            continue
        if only_saved_outputs and not has_outputs(cell):
            continue
        compared += 1
        difference = compare_outputs(
            normalise(a[in_a[index]]), normalise(b[in_b[index]]), rel_tol=rel_tol
        )
        if difference is not None:
            found.append({"cell": cell_number(index), **difference.to_dict(*names)})
    return compared, found


def describe(row: dict[str, Any], a: str, b: str) -> str:
    """One difference in a sentence: cell 3: 0.9386 -> 0.8947 (likely cause: ...)."""
    if row.get("numbers"):
        change = ", ".join(f"{x} -> {y}" for x, y in row["numbers"][:3])
    else:
        change = f"{row[a]!r} -> {row[b]!r}"
    cause = f" (likely cause: {row['cause']})" if row.get("cause") else ""
    return f"cell {row['cell']}: {change}{cause}"


def _saved_part(
    saved: list[dict[str, Any]], run: dynamic.CleanRun, rel_tol: float
) -> tuple[str, str, dict[str, Any], int | None]:
    """(status, message, details, first differing cell's index) of saved vs clean outputs."""
    if not any(has_outputs(c) for c in saved):
        return (
            "warn",
            "No outputs are saved in the notebook: nothing saved to compare with.",
            {},
            None,
        )
    compared, rows = differing_cells(
        saved,
        saved,
        executed_cells(run.executed),
        names=("saved", "clean"),
        rel_tol=rel_tol,
        only_saved_outputs=True,
    )
    details = {"compared_cells": compared, "differing_cells": len(rows), "cells": rows[:MAX_SHOWN]}
    cells = parse_cells(saved)
    for row in rows[:MAX_SHOWN]:  # where the code shows one (the saved run may differ otherwise)
        cause = likely_cause(cells, row["cell"] - 1, row, ("saved", "clean"))
        if cause != NOT_SEEN:
            row["cause"] = cause
    if not rows:
        return (
            "pass",
            f"The clean run reproduces the saved outputs of {compared} cell(s).",
            details,
            None,
        )
    listed = "; ".join(describe(r, "saved", "clean") for r in rows[:3])
    more = f" (and {len(rows) - 3} more)" if len(rows) > 3 else ""
    message = (
        f"The clean run's outputs differ from the saved ones in {len(rows)} of {compared} "
        f"cell(s): {listed}{more}."
    )
    return "fail", message, details, rows[0]["cell"] - 1


def check_reproduction(
    saved: list[dict[str, Any]],
    run: dynamic.CleanRun,
    interactive: tuple[str | None, dict[str, float], Any],
    *,
    rel_tol: float,
) -> Finding:
    """One ``reproduction`` finding: the saved outputs and, where logged, the interactive
    run's metrics against the clean run ``run``."""
    status, message, details, cell = _saved_part(saved, run, rel_tol)
    details["rel_tol"] = rel_tol
    if interactive[0] is None:
        return Finding(
            check="reproduction", status=status, message=message, cell=cell, details=details
        )
    metrics = dynamic.check_reproduction(run, interactive, rel_tol=rel_tol)
    details.update(metrics.details)
    rank = {"pass": 0, "warn": 1, "fail": 2}
    if status == "warn":  # nothing saved: the logged metrics are the whole comparison
        status, message = metrics.status, f"{metrics.message} {message}"
    else:
        status = max(status, metrics.status, key=rank.__getitem__)
        message = f"{message} {metrics.message}"
    return Finding(check="reproduction", status=status, message=message, cell=cell, details=details)

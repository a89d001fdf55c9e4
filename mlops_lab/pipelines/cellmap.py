"""One cell numbering: the saved notebook's cells, counted from 1, as JupyterLab shows them.

papermill executes a *copy* of the notebook: it drops the error banners an
earlier failed run left in it, inserts an ``injected-parameters`` cell after the
``parameters`` cell and, when a cell fails, an error banner at the top. Every
cell number a user sees (CLI, REST, panels, reports) is the position of the
cell in the notebook as saved, from 1; :func:`align` maps the executed copy's
cells back to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "BANNER_TAG",
    "INSERTED_TAGS",
    "align",
    "by_execution_count",
    "cell_number",
    "saved_index",
]

BANNER_TAG = "papermill-error-cell-tag"
#: Tags of the cells papermill adds to the executed copy.
INSERTED_TAGS = frozenset({BANNER_TAG, "injected-parameters"})


def _tags(cell: Any) -> set[str]:
    tags = (cell.get("metadata") or {}).get("tags") or [] if isinstance(cell, dict) else []
    return {t for t in tags if isinstance(t, str)}


def cell_number(index: int | None) -> int | None:
    """A 0-based index among all the saved notebook's cells as users count it (from 1)."""
    return None if index is None else index + 1


def align(saved: Sequence[Any], executed: Sequence[Any]) -> list[tuple[int, int]]:
    """Pairs (saved index, executed index), both 0-based, of the cells both copies hold.

    The saved notebook's own error banners (from an earlier papermill run) are
    not executed; the executed copy's inserted cells have no saved counterpart.
    A notebook saved from papermill's output keeps its injected-parameters
    cell, which papermill replaces (or runs as is): left out on both sides.
    The remaining cells correspond one to one, in order.
    """
    kept = [i for i, cell in enumerate(saved) if not INSERTED_TAGS & _tags(cell)]
    ran = [i for i, cell in enumerate(executed) if not INSERTED_TAGS & _tags(cell)]
    return list(zip(kept, ran, strict=False))


def saved_index(
    saved: Sequence[Any], executed: Sequence[Any], executed_index: int | None
) -> int | None:
    """The saved notebook's index of the executed copy's cell ``executed_index``.

    None when the index is None or names a cell papermill inserted.
    """
    if executed_index is None:
        return None
    return next((s for s, e in align(saved, executed) if e == executed_index), None)


def by_execution_count(
    saved: Sequence[Any], executed: Sequence[Any]
) -> Callable[[int | None], int | None]:
    """Execution count in the executed copy -> the saved notebook's cell number (from 1).

    What a kernel reports while it runs (e.g. the observer's ``cell``) is an
    execution count; users see the saved cell. None for counts no saved cell
    had (papermill's injected cell, the kernel's start-up: count 0).
    """
    by_count = {
        cell.get("execution_count"): index
        for index, cell in enumerate(executed)
        if isinstance(cell, dict)
        and cell.get("cell_type") == "code"
        and cell.get("execution_count")
    }

    def number(count: int | None) -> int | None:
        index = by_count.get(count)
        return cell_number(saved_index(saved, executed, index))

    return number

"""The saved notebook's cells and the executed copy's, aligned (one cell numbering, #13)."""

from __future__ import annotations

from mlops_lab.pipelines.cellmap import align, cell_number, saved_index


def _cell(source: str, *tags: str) -> dict:
    return {"cell_type": "code", "source": source, "metadata": {"tags": list(tags)}}


def test_inserted_cells_and_old_banners_are_mapped_around() -> None:
    saved = [
        _cell("old banner", "papermill-error-cell-tag"),  # left by an earlier failed run
        _cell("n = 1", "parameters"),
        _cell("print(n)"),
        _cell("1 / 0"),
    ]
    executed = [
        _cell("new banner", "papermill-error-cell-tag"),
        _cell("n = 1", "parameters"),
        _cell("n = 2", "injected-parameters"),
        _cell("print(n)"),
        _cell("1 / 0"),
    ]
    assert align(saved, executed) == [(1, 1), (2, 3), (3, 4)]
    assert saved_index(saved, executed, 4) == 3  # the failing cell
    assert cell_number(saved_index(saved, executed, 4)) == 4  # JupyterLab's "Cell 4/4"
    assert saved_index(saved, executed, 2) is None  # papermill's injected cell
    assert saved_index(saved, executed, None) is None and cell_number(None) is None

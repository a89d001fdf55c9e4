"""The saved notebook's cells and the executed copy's, aligned (one cell numbering, #13)."""

from __future__ import annotations

from mlops_lab.pipelines.cellmap import align, by_execution_count, cell_number, saved_index


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


def test_execution_counts_name_the_saved_cells_from_one() -> None:
    saved = [_cell("n = 1", "parameters"), {"cell_type": "markdown", "source": "x"}, _cell("f()")]
    executed = [
        {**_cell("n = 1", "parameters"), "execution_count": 1},
        {**_cell("n = 2", "injected-parameters"), "execution_count": 2},
        {"cell_type": "markdown", "source": "x", "metadata": {}},
        {**_cell("f()"), "execution_count": 3},
    ]
    number = by_execution_count(saved, executed)
    assert [number(count) for count in (1, 2, 3, 0, None)] == [1, None, 3, None, None]

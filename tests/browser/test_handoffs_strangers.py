"""The Handoffs view on notebooks nobody here wrote (#13), in the dark theme.

A notebook with no parameters cell whose saved score came from unseeded
randomness: the reproduction and determinism differences side by side, the
likely cause, and the offered fix (a parameters cell added on disk). A second
notebook with the same file name in another folder: checking it from its
toolbar asks for another stage name instead of taking the first one's over.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output
from playwright.sync_api import Page, expect
from test_handoffs_panel import CHECK_TIMEOUT, CLIP, api, check, notebook_panel, open_view, row

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory

pytestmark = pytest.mark.browser

SCORE = "import numpy as np\nscores = np.random.rand(n)\nprint(f'{label} {scores.mean():.4f}')"


def write(path: Path, *cells: object) -> None:
    notebook = new_notebook(cells=list(cells))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


@pytest.mark.allow_console_error(
    r"status of 409 \(Conflict\)", reason="a stage name already taken is refused on purpose"
)
def test_a_strangers_notebook_its_differences_fix_and_stage_name(
    start_lab: LabFactory, page: Page, tmp_path: Path, screenshots_dir: Path
) -> None:
    root = tmp_path / "strangers"
    server = start_lab(root, theme="JupyterLab Dark")
    write(
        root / "pm" / "report.ipynb",
        new_code_cell("n = 200\nlabel = 'accuracy'", execution_count=1),
        new_code_cell(
            SCORE,
            execution_count=2,
            outputs=[new_output("stream", name="stdout", text="accuracy 0.4871\n")],
        ),
    )
    write(root / "team_b" / "report.ipynb", new_code_cell("print('team b')"))
    first = check(server, "pm/report.ipynb")
    assert first["stage"] == "report" and first["status"] == "failing"

    # Team B's notebook of the same name, checked from its toolbar: a dialog offers a
    # free stage name; the first notebook keeps its stage.
    panel = open_view(page, server, notebook="team_b/report.ipynb")
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    notebook_panel(page).get_by_test_id("mlops-check-handoff").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text(
        "Stage report already runs pm/report.ipynb: use team_b_report instead?",
        timeout=CHECK_TIMEOUT,
    )
    page.screenshot(path=screenshots_dir / "handoffs-stage-taken-dark.png")
    dialog.get_by_role("button", name="Use team_b_report").click()
    detail = panel.get_by_test_id("mlops-handoff-detail")
    expect(detail.get_by_test_id("mlops-handoff-notebook")).to_have_text(
        "team_b/report.ipynb", timeout=CHECK_TIMEOUT
    )
    stages = {h["notebook"]: h["stage"] for h in api(server, "handoffs")["handoffs"]}
    assert stages == {"pm/report.ipynb": "report", "team_b/report.ipynb": "team_b_report"}
    # Ready, and not a stage of mlops_lab.yaml yet: adding it is asked, with the change shown.
    expect(dialog.get_by_test_id("mlops-stage-diff")).to_contain_text(
        "name: team_b_report", timeout=CHECK_TIMEOUT
    )
    config = (root / "mlops_lab.yaml").read_text()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert (root / "mlops_lab.yaml").read_text() == config

    # The stranger's report: what differs, side by side, and why it likely does.
    detail.get_by_test_id("mlops-handoff-back").click()
    row(panel, "pm/report.ipynb").locator(".jp-mlops-handoff-open").click()
    expect(detail.get_by_test_id("mlops-handoff-notebook")).to_have_text("pm/report.ipynb")
    reproduction = detail.locator('[data-check="reproduction"]')
    expect(reproduction.get_by_test_id("mlops-handoff-differences")).to_be_visible()
    expect(reproduction.get_by_test_id("mlops-handoff-difference").first).to_contain_text("0.4871")
    determinism = detail.locator('[data-check="determinism"]')
    expect(determinism.get_by_test_id("mlops-handoff-cause").first).to_contain_text("randomness")
    determinism.scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "handoffs-differences-dark.png", clip=CLIP)

    # The offered fix: the first cell's literals move into a cell tagged parameters.
    parameters = detail.locator('[data-check="parameters"]')
    expect(parameters.locator('[data-testid="mlops-handoff-finding"]')).to_have_attribute(
        "data-result", "warn"
    )
    parameters.get_by_test_id("mlops-handoff-add-parameters").click()
    expect(detail.get_by_test_id("mlops-handoffs-notice")).to_contain_text("Check again")
    saved = nbformat.read(root / "pm" / "report.ipynb", as_version=4)
    assert saved.cells[0].metadata.get("tags") == ["parameters"]
    assert "n = 200" in saved.cells[0].source
    assert saved.cells[1].outputs, "the saved outputs are kept"
    refreshed = {h["notebook"]: h for h in api(server, "handoffs")["handoffs"]}
    assert refreshed["pm/report.ipynb"]["status"] == "stale"

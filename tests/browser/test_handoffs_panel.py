"""The Handoffs view of the MLOps sidebar and the notebook's "Check handoff" button.

Real JupyterLab on a workspace with a dataset and notebooks checked by the
`mlops-lab handoff` CLI (clean runs in real kernels), an interactive run
recorded by `mlops_lab.context()` as a notebook's kernel would, Debian Chromium.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import pytest
from conftest import show_view, widen_sidebar
from nbformat.v4 import new_code_cell, new_notebook
from playwright.sync_api import Locator, Page, expect

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory, LabServer

pytestmark = pytest.mark.browser

PANEL = "#mlops-lab-panel"
# The sidebar (wide enough for its six tabs) and part of the main area.
CLIP = {"x": 0, "y": 0, "width": 760, "height": 800}
SIDEBAR_WIDTH = 520
CHECK_TIMEOUT = 120_000  # a check runs the notebook in a fresh kernel

GOOD = (
    "import mlops_lab\n"
    "ctx = mlops_lab.context()\n"
    "numbers = ctx.load_dataset('numbers')\n"
    "total = float(numbers.x.sum() * factor)\n"
    "ctx.log_metric('total', total)\n"
    "ctx.log_metric('rows', len(numbers))"
)
BAD = [
    "import pandas as pd\nraw = pd.read_csv('/home/ana/x.csv')",
    "print(threshold * rows)",
    "threshold = 0.5",
]
FIXED = ["import pandas as pd", "threshold = 0.5", "print(threshold * rows)"]

SAVE_NUMBERS = """
import sys
import pandas as pd
import mlops_lab
from mlops_lab.datasets import save_dataset

save_dataset(mlops_lab.open_workspace(sys.argv[1]), "numbers", pd.DataFrame({"x": [1, 2, 3]}))
"""


def write_notebook(path: Path, parameters: str, *cells: str) -> None:
    """A python3 notebook: a ``parameters``-tagged cell, then code cells."""
    notebook = new_notebook(
        cells=[
            new_code_cell(parameters, metadata={"tags": ["parameters"]}),
            *(new_code_cell(c) for c in cells),
        ]
    )
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)


def run_interactively(server: LabServer, notebook: str, *cells: str) -> None:
    """Run cells as the notebook's kernel in JupyterLab would (it knows its session)."""
    env = {**server.env, "JPY_SESSION_NAME": notebook}
    result = subprocess.run(
        [sys.executable, "-c", "\n".join(cells)],
        cwd=server.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def check(server: LabServer, notebook: str) -> dict[str, Any]:
    """`mlops-lab handoff NOTEBOOK --json`, as a scientist would from a terminal."""
    script = Path(sys.executable).parent / "mlops-lab"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "mlops_lab"]
    result = subprocess.run(
        [*command, "handoff", notebook, "--json"],
        cwd=server.root,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.stdout, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def api(server: LabServer, path: str) -> Any:
    """GET a route of the REST API, as the view does."""
    request = urllib.request.Request(
        f"{server.base_url}/mlops-lab/api/{path}",
        headers={"Authorization": f"token {server.token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def workspace(start_lab: LabFactory, root: Path, *, theme: str | None = None) -> LabServer:
    """A workspace with a dataset, a notebook that passes and one that fails, both checked."""
    server = start_lab(root, theme=theme)
    server.python(SAVE_NUMBERS, str(root))
    write_notebook(root / "good.ipynb", "factor = 2.0", GOOD)
    write_notebook(root / "bad.ipynb", "rows = 3", *BAD)
    run_interactively(server, "good.ipynb", "factor = 2.0", GOOD)
    assert check(server, "bad.ipynb")["status"] == "failing"
    assert check(server, "good.ipynb")["status"] == "ready"
    return server


def open_view(page: Page, server: LabServer, *, notebook: str | None = None) -> Locator:
    """Load JupyterLab (with a notebook open), open the MLOps sidebar wide, show Handoffs."""
    if notebook:
        page.goto(f"{server.base_url}/lab/tree/{notebook}?token={server.token}")
    else:
        page.goto(server.lab_url)
    tab = page.locator('.jp-SideBar .lm-TabBar-tab[data-id="mlops-lab-panel"]')
    expect(tab).to_be_visible(timeout=60_000)
    if notebook:
        expect(notebook_panel(page).locator(".jp-Cell").first).to_be_visible(timeout=60_000)
    else:
        expect(page.locator(".jp-Launcher")).to_be_focused(timeout=60_000)
    tab.click()
    panel = page.locator(PANEL)
    expect(panel).to_be_visible()
    widen_sidebar(page, SIDEBAR_WIDTH)
    show_view(panel, "Handoffs")
    return panel


def notebook_panel(page: Page) -> Locator:
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def row(panel: Locator, notebook: str) -> Locator:
    return panel.locator(f'[data-testid="mlops-handoff-row"][data-notebook="{notebook}"]')


def expect_counts(scope: Locator, counts: dict[str, int]) -> None:
    for result in ("pass", "warn", "fail"):
        count = scope.locator(f'[data-testid="mlops-handoff-count"][data-result="{result}"]')
        expect(count).to_have_text(str(counts[result]))


def test_handoffs_list_findings_cells_report_check_again_and_stale(
    start_lab: LabFactory, page: Page, tmp_path: Path, screenshots_dir: Path
) -> None:
    root = tmp_path / "ws"
    server = workspace(start_lab, root)
    served = {h["notebook"]: h for h in api(server, "handoffs")["handoffs"]}
    assert set(served) == {"good.ipynb", "bad.ipynb"}

    panel = open_view(page, server)
    tabs = panel.locator(".jp-mlops-tabs .lm-TabBar-tab")
    expect(tabs.first).to_have_text("Overview")
    labels = [t.title() for t in tabs.all_inner_texts()]
    assert labels.index("Handoffs") == labels.index("Evaluations") + 1 and labels[-1] == "Runs"
    handoffs = panel.get_by_test_id("mlops-handoffs")
    # Newest first, each with its status badge and counts as the API has them.
    expect(handoffs.get_by_test_id("mlops-handoff-row")).to_have_count(2)
    expect(handoffs.get_by_test_id("mlops-handoff-row").first).to_have_attribute(
        "data-notebook", "good.ipynb"
    )
    for notebook, status in (("good.ipynb", "ready"), ("bad.ipynb", "failing")):
        badge = row(panel, notebook).get_by_test_id("mlops-handoff-status")
        expect(badge).to_have_text(status)
        expect(badge).to_have_attribute("data-handoff-status", status)
        expect_counts(row(panel, notebook), served[notebook]["counts"])
    assert served["bad.ipynb"]["counts"]["fail"] >= 1
    page.screenshot(path=screenshots_dir / "handoffs-list.png", clip=CLIP)

    # The failing notebook: findings by check, in check order, with their cells.
    row(panel, "bad.ipynb").locator(".jp-mlops-handoff-open").click()
    detail = panel.get_by_test_id("mlops-handoff-detail")
    expect(detail.get_by_test_id("mlops-handoff-notebook")).to_have_text("bad.ipynb")
    expect(detail.get_by_test_id("mlops-handoff-status")).to_have_text("failing")
    bad = served["bad.ipynb"]
    checks = detail.get_by_test_id("mlops-handoff-check")
    expect(checks.first).to_have_attribute("data-check", "parameters")
    findings = detail.get_by_test_id("mlops-handoff-finding")
    expect(findings).to_have_count(len(bad["findings"]))
    for i, finding in enumerate(bad["findings"]):
        expect(findings.nth(i)).to_have_attribute("data-result", finding["status"])
        expect(findings.nth(i)).to_contain_text(finding["message"])
        cell = findings.nth(i).get_by_test_id("mlops-handoff-cell")
        if finding["cell"] is None:
            expect(cell).to_have_count(0)
        else:
            expect(cell).to_have_text(f"cell {finding['cell']}")
    failing = detail.locator('[data-testid="mlops-handoff-finding"][data-result="fail"]')
    expect(failing).to_have_count(bad["counts"]["fail"])
    expect(failing.first).to_contain_text("FileNotFoundError")
    expect(failing.first.get_by_test_id("mlops-handoff-cell")).to_have_text("cell 2")
    hidden = detail.locator('[data-check="execution_order"] [data-testid="mlops-handoff-finding"]')
    expect(hidden).to_have_attribute("data-result", "warn")
    expect(hidden.get_by_test_id("mlops-handoff-cell")).to_have_text("cell 3")
    # The checks after a failed clean run did not run; the environment was checked before it.
    for skipped in ("outputs", "reproduction"):
        expect(detail.locator(f'[data-check="{skipped}"]')).to_have_attribute(
            "data-result", "skipped"
        )
    expect(detail.locator('[data-check="environment"]')).to_have_attribute("data-result", "pass")
    expect(detail.get_by_test_id("mlops-handoff-run")).to_have_count(0)
    parameter = detail.get_by_test_id("mlops-handoff-parameter")
    expect(parameter).to_have_text("rowsint3")
    page.screenshot(path=screenshots_dir / "handoffs-failing.png", clip=CLIP)

    # The report, rendered as Markdown.
    report = detail.get_by_test_id("mlops-handoff-report")
    report.locator("summary").click()
    expect(report.locator(".jp-RenderedMarkdown h1")).to_contain_text("bad.ipynb")
    expect(report.locator(".jp-RenderedMarkdown h1")).to_contain_text("is FAILING")
    expect(report.locator(".jp-RenderedMarkdown table").first.locator("tbody tr")).to_have_count(
        len(bad["findings"])
    )
    report.locator(".jp-RenderedMarkdown h1").scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "handoffs-report.png", clip=CLIP)
    report.locator("summary").click()

    # "cell 3" (counted from 1, as JupyterLab does) opens the notebook with that cell active.
    hidden.get_by_test_id("mlops-handoff-cell").click()
    expect(page.locator(".jp-mod-current.lm-TabBar-tab", has_text="bad.ipynb")).to_be_visible()
    active = notebook_panel(page).locator(".jp-Cell.jp-mod-active")
    expect(active).to_contain_text("print(threshold * rows)")
    expect(active).to_be_in_viewport()
    expect(notebook_panel(page).locator(".jp-Cell").nth(2)).to_contain_class("jp-mod-active")
    # The finding's number is the one JupyterLab's status bar shows ("Cell N/M").
    shown = hidden.get_by_test_id("mlops-handoff-cell").inner_text()
    expect(page.locator("#jp-main-statusbar")).to_contain_text(f"Cell {shown.split()[-1]}/")
    # Saved as it is open (its kernel's language info may have changed its metadata), so
    # JupyterLab does not ask about it when it is changed on disk below.
    expect(page.locator(".jp-StatusBar-Widget")).to_contain_text(["Idle"], timeout=60_000)
    page.keyboard.press("Control+s")
    expect(page.locator(".jp-mod-current.lm-TabBar-tab")).not_to_contain_class("jp-mod-dirty")

    # The executed notebook of the failed clean run, at its failing cell.
    detail.get_by_test_id("mlops-handoff-open-failing").click()
    executed = page.locator(".jp-mod-current.lm-TabBar-tab", has_text="bad.ipynb")
    expect(executed).to_have_attribute("title", re.compile(r"Path: mlops-lab-runs/"))
    active = notebook_panel(page).locator(".jp-Cell.jp-mod-active")
    expect(active).to_contain_text("/home/ana/x.csv")
    expect(active).to_contain_text("FileNotFoundError")
    expect(detail.get_by_test_id("mlops-handoffs-action-error")).to_have_count(0)

    # Fixed on disk, checked again: ready, with a clean run that can run as a stage.
    # Writing the stage to mlops_lab.yaml is the user's explicit choice, in a dialog.
    write_notebook(root / "bad.ipynb", "rows = 3", *FIXED)
    config_before = (root / "mlops_lab.yaml").read_text()
    detail.get_by_test_id("mlops-handoff-check-again").click()
    expect(detail.get_by_test_id("mlops-handoff-check-again")).to_have_text("Checking…")
    expect(detail.get_by_test_id("mlops-handoff-check-again")).to_be_disabled()
    dialog = page.locator(".jp-Dialog")
    expect(dialog.get_by_test_id("mlops-stage-diff")).to_contain_text(
        "+      - name: bad", timeout=CHECK_TIMEOUT
    )
    dialog.get_by_role("button", name="Add to mlops_lab.yaml").click()
    expect(detail.get_by_test_id("mlops-handoff-status")).to_have_text("ready")
    expect(detail.get_by_test_id("mlops-handoff-check-again")).to_have_text("Check again")
    expect(detail.get_by_test_id("mlops-handoffs-notice")).to_contain_text(
        "stage bad of pipeline handoff written to mlops_lab.yaml"
    )
    config_after = (root / "mlops_lab.yaml").read_text()
    assert config_after != config_before and "name: bad" in config_after
    fixed = {h["notebook"]: h for h in api(server, "handoffs")["handoffs"]}["bad.ipynb"]
    assert fixed["status"] == "ready" and fixed["id"] != bad["id"]
    expect(detail).to_have_attribute("data-handoff-id", fixed["id"])
    expect_counts(detail, fixed["counts"])
    expect(
        detail.locator('[data-testid="mlops-handoff-finding"][data-result="fail"]')
    ).to_have_count(0)
    expect(detail.get_by_test_id("mlops-handoff-open-failing")).to_have_count(0)

    # A ready notebook: the metrics of the interactive run reproduce.
    detail.get_by_test_id("mlops-handoff-back").click()
    row(panel, "good.ipynb").locator(".jp-mlops-handoff-open").click()
    expect(detail.get_by_test_id("mlops-handoff-notebook")).to_have_text("good.ipynb")
    metrics = detail.get_by_test_id("mlops-handoff-metric")
    expect(metrics).to_have_count(2)
    total = detail.locator('[data-testid="mlops-handoff-metric"][data-metric="total"]')
    expect(total.locator("td")).to_have_text(["total", "12", "12", ""])
    expect(total).to_have_attribute("data-same", "yes")
    expect(detail.get_by_test_id("mlops-handoff-input")).to_have_text(["numbers@1"])
    expect(detail.get_by_test_id("mlops-handoff-parameter")).to_have_text("factorfloat2.0")
    expect(detail.get_by_test_id("mlops-handoff-environment")).to_contain_text("Python 3.")
    page.screenshot(path=screenshots_dir / "handoffs-ready.png", clip=CLIP)
    detail.get_by_test_id("mlops-handoff-metrics").scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "handoffs-contract.png", clip=CLIP)

    # Editing the notebook on disk makes its handoff stale.
    write_notebook(root / "good.ipynb", "factor = 3.0", GOOD)
    detail.get_by_test_id("mlops-handoff-refresh").click()
    expect(detail.get_by_test_id("mlops-handoff-status")).to_have_text("stale")
    expect(detail.get_by_test_id("mlops-handoff-stale")).to_contain_text("it was ready")
    expect(detail.get_by_test_id("mlops-handoff-run")).to_have_count(0)
    detail.get_by_test_id("mlops-handoff-back").click()
    badge = row(panel, "good.ipynb").get_by_test_id("mlops-handoff-status")
    expect(badge).to_have_text("stale")
    expect(row(panel, "bad.ipynb").get_by_test_id("mlops-handoff-status")).to_have_text("ready")
    page.screenshot(path=screenshots_dir / "handoffs-stale.png", clip=CLIP)

    # A ready stage runs from the view, shown in the Runs view.
    row(panel, "bad.ipynb").locator(".jp-mlops-handoff-open").click()
    detail.get_by_test_id("mlops-handoff-run").click()
    expect(panel.locator(".jp-mlops-tabs .lm-mod-current")).to_have_text("Runs")
    started = [r for r in api(server, "runs?limit=50")["runs"] if r["pipeline"] == "handoff"]
    assert started, api(server, "runs?limit=50")
    runs = panel.get_by_test_id("mlops-runs")
    expect(
        runs.locator(f'[data-testid="mlops-run"][data-run-id="{started[0]["id"]}"]')
    ).to_be_visible()


def test_check_handoff_from_the_notebook_toolbar_in_the_dark_theme(
    start_lab: LabFactory, page: Page, tmp_path: Path, screenshots_dir: Path
) -> None:
    root = tmp_path / "dark"
    server = workspace(start_lab, root, theme="JupyterLab Dark")
    write_notebook(
        root / "fresh.ipynb",
        "n = 3",
        "import mlops_lab\nctx = mlops_lab.context()\nctx.log_metric('total', n * scale)",
        "scale = 2",
    )

    panel = open_view(page, server, notebook="fresh.ipynb")
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    handoffs = panel.get_by_test_id("mlops-handoffs")
    expect(handoffs.get_by_test_id("mlops-handoff-row")).to_have_count(2)
    page.screenshot(path=screenshots_dir / "handoffs-list-dark.png", clip=CLIP)

    # The toolbar button checks the open notebook and shows its handoff.
    button = notebook_panel(page).get_by_test_id("mlops-check-handoff")
    expect(button).to_contain_text("Check handoff")
    panel.locator(".jp-mlops-tabs .lm-TabBar-tab", has_text="Overview").click()
    button.click()
    expect(panel.locator(".jp-mlops-tabs .lm-mod-current")).to_have_text("Handoffs")
    checking = panel.get_by_test_id("mlops-handoff-checking")
    expect(checking).to_have_attribute("data-notebook", "fresh.ipynb")
    expect(checking).to_contain_text("Checking…")
    detail = panel.get_by_test_id("mlops-handoff-detail")
    expect(detail.get_by_test_id("mlops-handoff-notebook")).to_have_text(
        "fresh.ipynb", timeout=CHECK_TIMEOUT
    )
    served = {h["notebook"]: h for h in api(server, "handoffs")["handoffs"]}
    fresh = served["fresh.ipynb"]
    assert fresh["status"] == "failing"
    expect(detail.get_by_test_id("mlops-handoff-status")).to_have_text("failing")
    expect_counts(detail, fresh["counts"])
    page.screenshot(path=screenshots_dir / "handoffs-failing-dark.png", clip=CLIP)

    # Its "cell 2" link (counted from 1, as JupyterLab does) activates that cell.
    order = detail.locator('[data-check="execution_order"] [data-testid="mlops-handoff-finding"]')
    expect(order.get_by_test_id("mlops-handoff-cell")).to_have_text("cell 2")
    notebook_panel(page).locator(".jp-Cell").nth(0).click()
    order.get_by_test_id("mlops-handoff-cell").click()
    cells = notebook_panel(page).locator(".jp-Cell")
    expect(cells.nth(1)).to_contain_class("jp-mod-active")
    expect(page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab")).to_have_count(1)

    # Fixed in the editor (unsaved): the button saves, then checks; now ready.
    editor = cells.nth(1).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(
        "import mlops_lab\nctx = mlops_lab.context()\nctx.log_metric('total', n * 2)"
    )
    expect(page.locator(".jp-mod-current.lm-TabBar-tab")).to_contain_class("jp-mod-dirty")
    button.click()
    expect(detail.get_by_test_id("mlops-handoff-status")).to_have_text(
        "ready", timeout=CHECK_TIMEOUT
    )
    # Not a stage of mlops_lab.yaml: asked, with the change shown; Cancel writes nothing.
    config_before = (root / "mlops_lab.yaml").read_text()
    dialog = page.locator(".jp-Dialog")
    expect(dialog.get_by_test_id("mlops-stage-diff")).to_contain_text("+      - name: fresh")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(detail.get_by_test_id("mlops-handoffs-notice")).to_contain_text(
        "mlops_lab.yaml was not changed"
    )
    assert (root / "mlops_lab.yaml").read_text() == config_before
    expect(page.locator(".jp-mod-current.lm-TabBar-tab")).not_to_contain_class("jp-mod-dirty")
    ready = {h["notebook"]: h for h in api(server, "handoffs")["handoffs"]}["fresh.ipynb"]
    assert ready["status"] == "ready" and ready["contract"]["outputs"] == {"metrics": ["total"]}
    expect_counts(detail, ready["counts"])
    expect(detail.get_by_test_id("mlops-handoff-output")).to_have_text(["metricstotal"])
    page.screenshot(path=screenshots_dir / "handoffs-ready-dark.png", clip=CLIP)
    detail.get_by_test_id("mlops-handoff-back").click()
    expect(handoffs.get_by_test_id("mlops-handoff-row")).to_have_count(3)
    expect(handoffs.get_by_test_id("mlops-handoff-row").first).to_have_attribute(
        "data-notebook", "fresh.ipynb"
    )

"""The Runs view of the MLOps sidebar: start, follow, compare, cancel and debug runs.

Real JupyterLab, real runner subprocesses, real kernels, Debian Chromium.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pytest
from conftest import open_mlops
from nbformat.v4 import new_code_cell, new_notebook
from playwright.sync_api import Locator, Page, expect

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory, LabServer

pytestmark = pytest.mark.browser

PANEL = "#mlops-lab-panel"
RUN_TIMEOUT = 120_000  # ms: a run starts a runner process and a kernel per stage
# The sidebar and part of the main area.
CLIP = {"x": 0, "y": 0, "width": 720, "height": 800}

PIPELINES = """
pipelines:
  demo:
    description: Double a number in two stages
    stages:
      - {name: a, notebook: a.ipynb}
      - {name: b, notebook: b.ipynb, needs: [a]}
  broken:
    stages:
      - {name: prepare, notebook: a.ipynb}
      - {name: explode, notebook: explode.ipynb, needs: [prepare]}
  slow:
    stages:
      - {name: wait, notebook: slow.ipynb}
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


def write_pipelines(root: Path) -> None:
    """The notebooks of the pipelines above and mlops_lab.yaml naming them."""
    log = "import mlops_lab\nctx = mlops_lab.context()\n"
    write_notebook(root / "a.ipynb", "n = 3", log + 'ctx.log_metric("n", n)')
    write_notebook(root / "b.ipynb", "n = 3", log + 'ctx.log_metric("total", n * 2)')
    write_notebook(
        root / "explode.ipynb",
        "n = 3",
        "x = n + 1",
        'raise ValueError(f"boom at {x}")',
        "print('never reached')",
    )
    write_notebook(
        root / "slow.ipynb", "seconds = 60", "import time", "time.sleep(seconds)", "done = True"
    )
    config = root / "mlops_lab.yaml"
    head = f"version: 1\nname: {root.name}\n"
    config.write_text(head + textwrap.dedent(PIPELINES), encoding="utf-8")


@pytest.fixture
def pipelines_lab(start_lab: LabFactory, tmp_path: Path) -> Callable[..., LabServer]:
    """Start JupyterLab on a workspace holding the pipelines above."""

    def start(name: str, *, theme: str | None = None) -> LabServer:
        root = tmp_path / name
        server = start_lab(root, theme=theme)
        write_pipelines(root)
        return server

    return start


def open_runs(page: Page, server: LabServer) -> Locator:
    """Load JupyterLab, open the MLOps sidebar and go to Runs from the overview."""
    panel = open_mlops(page, server.lab_url)  # once restored: the restore cannot undo it
    # The overview's Runs row leads to the Runs view.
    panel.get_by_test_id("mlops-open-runs").click()
    runs = panel.get_by_test_id("mlops-runs")
    expect(runs).to_be_visible()
    expect(panel.locator(".jp-mlops-tabs .lm-mod-current")).to_have_text("Runs")
    return runs


def start_run(runs: Locator, pipeline: str, **parameters: str) -> Locator:
    """Start a run with the "Run pipeline" form; return the new run's row."""
    before = runs.get_by_test_id("mlops-run").count()
    runs.get_by_test_id("mlops-run-pipeline").click()
    form = runs.get_by_test_id("mlops-launch")
    expect(form).to_be_visible()
    form.get_by_test_id("mlops-launch-pipeline").select_option(pipeline)
    for name, value in parameters.items():
        form.get_by_test_id(f"mlops-param-{name}").fill(value)
    form.get_by_test_id("mlops-launch-submit").click()
    expect(form).to_be_hidden()
    expect(runs.get_by_test_id("mlops-run")).to_have_count(before + 1)
    run = runs.get_by_test_id("mlops-run").first
    expect(run.get_by_test_id("mlops-run-details")).to_be_visible()  # shown expanded
    return run


def stage(run: Locator, name: str) -> Locator:
    return run.locator(f'[data-testid="mlops-stage"][data-stage="{name}"]')


def test_run_pipeline_follow_it_and_compare_two_runs(
    pipelines_lab: Callable[..., LabServer], page: Page, screenshots_dir: Path
) -> None:
    server = pipelines_lab("demo")

    runs = open_runs(page, server)
    expect(runs.get_by_test_id("mlops-runs-empty")).to_have_text(
        "No runs yet. Start one with Run pipeline."
    )

    # The form shows each stage's parameters with their defaults; `n` is
    # defined by both stages and edited once.
    runs.get_by_test_id("mlops-run-pipeline").click()
    form = runs.get_by_test_id("mlops-launch")
    form.get_by_test_id("mlops-launch-pipeline").select_option("demo")
    expect(form.get_by_test_id("mlops-param-n")).to_have_value("3")
    expect(form.get_by_test_id("mlops-param-n")).to_have_count(1)
    expect(form.locator('fieldset[data-stage="b"]')).to_contain_text(
        "Parameters shared with an earlier stage"
    )
    form.get_by_test_id("mlops-param-n").fill("")
    expect(form.get_by_test_id("mlops-launch-submit")).to_be_disabled()
    form.get_by_test_id("mlops-param-n").fill("3")
    page.screenshot(path=screenshots_dir / "runs-launch.png", clip=CLIP)
    form.get_by_role("button", name="Cancel").click()
    expect(form).to_be_hidden()

    first = start_run(runs, "demo")
    expect(first).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    for name in ("a", "b"):
        expect(stage(first, name)).to_have_attribute("data-status", "succeeded")
        expect(stage(first, name).get_by_test_id("mlops-stage-info")).to_have_text(
            re.compile(r"^\d+(\.\d)? s$")
        )
    expect(stage(first, "b")).to_contain_text("← a")
    expect(stage(first, "b").locator('[data-metric="total"]')).to_contain_text("6")
    expect(first.get_by_test_id("mlops-run-status")).to_have_text("succeeded")
    expect(first).to_contain_text("api")  # the trigger
    first_id = first.get_by_test_id("mlops-run-id").inner_text()
    page.screenshot(path=screenshots_dir / "runs-succeeded.png", clip=CLIP)

    # A second run with an override, then the same run again: all cached.
    second = start_run(runs, "demo", n="5")
    expect(second).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    expect(stage(second, "b").locator('[data-metric="total"]')).to_contain_text("10")
    expect(second.locator(".jp-mlops-overrides")).to_have_text("n=5")
    second_id = second.get_by_test_id("mlops-run-id").inner_text()

    third = start_run(runs, "demo")
    expect(third).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    for name in ("a", "b"):
        expect(stage(third, name)).to_have_attribute("data-status", "cached")
        expect(stage(third, name).get_by_test_id("mlops-stage-info")).to_have_text("cached")
        expect(stage(third, name).get_by_test_id("mlops-cached-from")).to_have_text(
            f"from run {first_id}"
        )
    expect(runs.get_by_test_id("mlops-runs-count")).to_have_text("3 of 3 runs")
    page.screenshot(path=screenshots_dir / "runs-cached.png", clip=CLIP)
    third.get_by_test_id("mlops-run-toggle").click()  # collapse
    expect(third.get_by_test_id("mlops-run-details")).to_have_count(0)

    # Tick the first two runs: what differs, side by side.
    for run_id in (first_id, second_id):
        runs.locator(f'[data-run-id="{run_id}"]').get_by_test_id("mlops-run-select").check()
    compare = runs.get_by_test_id("mlops-compare")
    expect(compare).to_have_attribute("data-phase", "ok")
    expect(compare.get_by_test_id("mlops-compare-a")).to_have_text(first_id)
    expect(compare.get_by_test_id("mlops-compare-b")).to_have_text(second_id)
    n_row = compare.get_by_test_id("mlops-compare-parameters").locator('tr[data-name="n"]')
    expect(n_row).to_have_count(2)  # stages a and b
    expect(n_row.first.locator("td")).to_have_text(["3", "5"])
    total = compare.get_by_test_id("mlops-compare-metrics").locator('tr[data-name="total"]')
    expect(total.locator("td")).to_have_text(["6", "10", "+4"])
    page.screenshot(path=screenshots_dir / "runs-compare.png", clip=CLIP)

    # The server-side filter.
    runs.get_by_test_id("mlops-filter-status").select_option("failed")
    expect(runs.get_by_test_id("mlops-runs-empty")).to_have_text("No runs match the filter.")
    runs.get_by_test_id("mlops-filter-status").select_option("")
    runs.get_by_test_id("mlops-filter-pipeline").select_option("demo")
    expect(runs.get_by_test_id("mlops-run")).to_have_count(3)


def test_failed_run_shows_the_error_and_opens_the_failing_cell(
    pipelines_lab: Callable[..., LabServer], page: Page, screenshots_dir: Path
) -> None:
    server = pipelines_lab("dark", theme="JupyterLab Dark")

    runs = open_runs(page, server)
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    run = start_run(runs, "broken")

    expect(run).to_have_attribute("data-status", "failed", timeout=RUN_TIMEOUT)
    expect(stage(run, "prepare")).to_have_attribute("data-status", "succeeded")
    failed = stage(run, "explode")
    expect(failed).to_have_attribute("data-status", "failed")
    error = failed.get_by_test_id("mlops-stage-error")
    expect(error).to_contain_text("ValueError: boom at 4")
    traceback = error.get_by_test_id("mlops-traceback")
    expect(traceback).to_be_hidden()  # collapsed
    error.locator("summary", has_text="Traceback").click()
    expect(traceback).to_be_visible()
    expect(traceback).to_contain_text('raise ValueError(f"boom at {x}")')
    assert "\x1b" not in traceback.inner_text(), "ANSI escape codes were not stripped"
    page.screenshot(path=screenshots_dir / "runs-failed-dark.png", clip=CLIP)

    error.get_by_test_id("mlops-open-failing-cell").click()
    notebook_tab = page.locator(".jp-mod-current.lm-TabBar-tab", has_text="explode.ipynb")
    expect(notebook_tab).to_be_visible()
    active = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell.jp-mod-active")
    expect(active).to_contain_text('raise ValueError(f"boom at {x}")')
    expect(active).to_be_in_viewport()
    expect(runs.get_by_test_id("mlops-action-error")).to_have_count(0)
    page.screenshot(path=screenshots_dir / "runs-open-failing-cell-dark.png")


def test_running_run_updates_live_and_cancels(
    pipelines_lab: Callable[..., LabServer], page: Page, screenshots_dir: Path
) -> None:
    server = pipelines_lab("slow")

    runs = open_runs(page, server)
    run = start_run(runs, "slow")
    wait = stage(run, "wait")

    # The list follows the run: cell progress while the kernel sleeps.
    expect(wait).to_have_attribute("data-status", "running", timeout=RUN_TIMEOUT)
    expect(wait.get_by_test_id("mlops-stage-info")).to_have_text(
        re.compile(r"^[1-4]/5 cells$"), timeout=RUN_TIMEOUT
    )
    expect(runs).to_have_attribute("data-live", "true")
    page.screenshot(path=screenshots_dir / "runs-running.png", clip=CLIP)

    run.get_by_test_id("mlops-run-cancel").click()
    expect(run).to_have_attribute("data-status", "cancelled", timeout=RUN_TIMEOUT)
    expect(wait).to_have_attribute("data-status", "cancelled")
    expect(run.get_by_test_id("mlops-run-cancel")).to_have_count(0)
    expect(runs).to_have_attribute("data-live", "false")


def test_notebook_toolbar_runs_the_notebook_as_a_stage(
    pipelines_lab: Callable[..., LabServer], page: Page, screenshots_dir: Path
) -> None:
    server = pipelines_lab("adhoc")

    page.goto(f"{server.base_url}/lab/tree/b.ipynb?token={server.token}")
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    expect(notebook.locator(".jp-Cell").first).to_be_visible(timeout=60_000)
    button = notebook.locator('[data-testid="mlops-run-notebook"] button')
    expect(button).to_be_visible()
    button.click()

    runs = page.locator(PANEL).get_by_test_id("mlops-runs")
    expect(runs).to_be_visible()
    run = runs.get_by_test_id("mlops-run").first
    expect(run.locator(".jp-mlops-run-title")).to_contain_text("b.ipynb")
    expect(run).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    expect(stage(run, "b")).to_have_attribute("data-status", "succeeded")
    expect(stage(run, "b").locator('[data-metric="total"]')).to_contain_text("6")
    page.screenshot(path=screenshots_dir / "runs-notebook.png", clip=CLIP)

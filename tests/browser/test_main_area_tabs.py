"""Details open as main-area tabs, and the sidebar's icon tabs fit its default width.

Real JupyterLab on a copy of the demo workspace after `mlops-lab run churn` (a model
version, an evaluation, a drift report, a run), a second run of churn, a handed-off
notebook and a real `mlops-lab serve` subprocess (a deployment), Debian Chromium at the
sidebar's default width. Each detail opens from the sidebar in a tab titled by its
item, opening it again keeps one tab, and a page reload restores every tab, each
loading its own data. No console error is allowed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import DARK, open_mlops, shoot, switch_theme
from deployments_support import copy_demo
from playwright.sync_api import Locator, Page, expect
from test_handoffs_panel import check
from test_runs_graph import api, run

from tests.notebooks import write_notebook

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory, LabServer

pytestmark = pytest.mark.browser

PANEL = "#mlops-lab-panel"
MAIN_TABS = "#jp-main-dock-panel .lm-DockPanel-tabBar .lm-TabBar-tab"
VIEWS = ["Overview", "Features", "Models", "Evaluations", "Handoffs", "Deployments", "Runs"]
RUN_TIMEOUT = 300.0
CURRENT = re.compile(r"\blm-mod-current\b")


def open_sidebar(page: Page, server: LabServer) -> Locator:
    """Load JupyterLab and open the MLOps sidebar at its default width."""
    return open_mlops(page, server.lab_url)


def view_tab(panel: Locator, view: str) -> Locator:
    return panel.locator(f'.jp-mlops-tabs .lm-TabBar-tab[data-view="{view.lower()}"]')


def show(panel: Locator, view: str) -> None:
    view_tab(panel, view).click()
    expect(panel.locator(".jp-mlops-sidebar-heading")).to_have_text(view)


def main_tab(page: Page, label: str) -> Locator:
    """The main-area tab titled `label`."""
    return page.locator(MAIN_TABS, has_text=re.compile(f"^{re.escape(label)}$"))


def open_twice(page: Page, button: Locator, label: str, content: str) -> Locator:
    """Open a detail in a tab twice: one tab, titled `label`, showing `content`."""
    button.click()
    tab = main_tab(page, label)
    expect(tab).to_have_count(1)
    expect(tab).to_have_class(CURRENT)
    body = page.locator(f'#jp-main-dock-panel [data-testid="{content}"]:visible')
    expect(body).to_have_count(1)
    count = page.locator(MAIN_TABS).count()
    button.click()
    expect(tab).to_have_count(1)
    assert page.locator(MAIN_TABS).count() == count
    return body


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None
    return found


def test_details_open_as_tabs_once_each_and_are_restored(
    start_lab: LabFactory,
    serve: Any,
    page: Page,
    demo: Path,
    tmp_path: Path,
    screenshots_dir: Path,
    console_errors: list[str],
) -> None:
    root = copy_demo(demo, tmp_path / "demo")
    server = start_lab(root, init=False)
    runs = api(server, "runs?limit=50")["runs"]
    first = next(r for r in runs if r["pipeline"] == "churn")
    second = run(server, {"pipeline": "churn"}, timeout=RUN_TIMEOUT)
    assert second["status"] == "succeeded", second
    write_notebook(root / "07_exploration.ipynb", "factor = 2.0", "result = factor * 21")
    handoff = check(server, "07_exploration.ipynb")
    serve(server, challenger=False)
    (deployment,) = api(server, "deployments")["deployments"]
    version = api(server, "models/churn")["versions"][0]["version"]
    evaluation = api(server, "evaluations?model=churn")["evaluations"][0]
    drift = api(server, "drift?limit=1&offset=0")["reports"][0]

    panel = open_sidebar(page, server)
    opened: dict[str, str] = {}

    # A model version: Models > churn > a version > Open in a tab.
    show(panel, "Models")
    panel.locator('[data-testid="mlops-model-row"][data-model="churn"]').click()
    panel.locator(f'[data-testid="mlops-version-row"][data-version="{version}"]').click()
    label = f"churn v{version}"
    body = open_twice(
        page, panel.get_by_test_id("mlops-version-open-tab"), label, "mlops-version-tab"
    )
    expect(body.get_by_test_id("mlops-version-name")).to_contain_text(f"v{version}")
    shoot(page, screenshots_dir / "tab-model-version.png")
    opened["version"] = label

    # An evaluation (curves, confusion, slices) and the drift report.
    show(panel, "Evaluations")
    view = panel.get_by_test_id("mlops-evaluations")
    view.locator(f'[data-testid="mlops-eval-row"][data-evaluation="{evaluation["id"]}"]').click()
    label = (
        f"eval {evaluation['dataset']}@{evaluation['dataset_version']} · "
        f"churn v{evaluation['version']}"
    )
    body = open_twice(
        page, view.get_by_test_id("mlops-eval-open-tab"), label, "mlops-evaluation-tab"
    )
    expect(body.locator(".jp-mlops-chart").first).to_be_visible()
    expect(body.get_by_test_id("mlops-tab-error")).to_have_count(0)
    shoot(page, screenshots_dir / "tab-evaluation.png")
    opened["evaluation"] = label

    label = f"drift: {drift['current'].rsplit('@', 1)[0]}"
    body = open_twice(page, view.get_by_test_id("mlops-drift-open-tab"), label, "mlops-drift-tab")
    expect(body.get_by_test_id("mlops-drift")).to_have_attribute("data-report", drift["id"])
    shoot(page, screenshots_dir / "tab-drift.png")
    opened["drift"] = label

    # A run, and two runs compared.
    show(panel, "Runs")
    runs_view = panel.get_by_test_id("mlops-runs")
    row = runs_view.locator(f'[data-testid="mlops-run"][data-run-id="{second["id"]}"]')
    row.get_by_test_id("mlops-run-toggle").click()
    label = f"churn · {second['id']}"
    body = open_twice(page, row.get_by_test_id("mlops-run-open-tab"), label, "mlops-run-tab")
    expect(body.get_by_test_id("mlops-graph")).to_be_visible()
    opened["run"] = label
    for run_id in (first["id"], second["id"]):
        runs_view.locator(f'[data-testid="mlops-run"][data-run-id="{run_id}"]').get_by_test_id(
            "mlops-run-select"
        ).check()
    label = f"compare {first['id']} · {second['id']}"
    body = open_twice(
        page, panel.get_by_test_id("mlops-compare-open-tab"), label, "mlops-compare-tab"
    )
    expect(body.get_by_test_id("mlops-compare-parameters")).to_be_visible()
    shoot(page, screenshots_dir / "tab-run-comparison.png")
    opened["comparison"] = label

    # A handoff report.
    show(panel, "Handoffs")
    panel.locator('[data-testid="mlops-handoff-row"][data-notebook="07_exploration.ipynb"]').click()
    label = "handoff: 07_exploration.ipynb"
    body = open_twice(
        page, panel.get_by_test_id("mlops-handoff-open-tab"), label, "mlops-handoff-tab"
    )
    expect(body.get_by_test_id("mlops-handoff-detail")).to_have_attribute(
        "data-handoff-id", handoff["id"]
    )
    shoot(page, screenshots_dir / "tab-handoff.png")
    opened["handoff"] = label

    # A deployment's dashboard.
    show(panel, "Deployments")
    panel.locator(
        f'[data-testid="mlops-deployment-row"][data-deployment-id="{deployment["id"]}"]'
    ).click()
    label = f"deployment: {deployment['ref']}"
    body = open_twice(
        page, panel.get_by_test_id("mlops-deployment-open-tab"), label, "mlops-deployment-tab"
    )
    expect(body.get_by_test_id("mlops-deployment-ref")).to_have_text(deployment["ref"])
    shoot(page, screenshots_dir / "tab-deployment.png")
    opened["deployment"] = label

    # Reload: every tab comes back, loading its own data (the sidebar not shown).
    count = page.locator(MAIN_TABS).count()
    page.wait_for_timeout(1500)  # the layout is saved after a debounce
    page.reload()
    expect(page.locator('.jp-SideBar .lm-TabBar-tab[data-id="mlops-lab-panel"]')).to_be_visible(
        timeout=60_000
    )
    for label in opened.values():
        expect(main_tab(page, label)).to_have_count(1, timeout=30_000)
    # No other tab came back (the launcher is not restored).
    expect(page.locator(MAIN_TABS).filter(has_not_text="Launcher")).to_have_count(count - 1)
    for kind, content in [
        ("version", "mlops-version-name"),
        ("evaluation", "mlops-eval-open-tab"),
        ("drift", "mlops-drift"),
        ("comparison", "mlops-compare-metrics"),
        ("handoff", "mlops-handoff-stage"),
        ("deployment", "mlops-deployment-ref"),
    ]:
        main_tab(page, opened[kind]).click()
        shown = page.locator("#jp-main-dock-panel .jp-mlops-tab:visible")
        expect(shown).to_have_count(1)
        if kind == "evaluation":
            expect(shown.locator(".jp-mlops-chart").first).to_be_visible()
        else:
            expect(shown.get_by_test_id(content).first).to_be_attached()
        expect(shown.get_by_test_id("mlops-tab-error")).to_have_count(0)
    main_tab(page, opened["run"]).click()
    expect(page.locator('[data-testid="mlops-run-tab"]:visible')).to_have_attribute(
        "data-run-id", second["id"]
    )
    shoot(page, screenshots_dir / "tabs-restored.png")


def test_every_view_fits_the_default_sidebar_width(
    start_lab: LabFactory,
    page: Page,
    demo: Path,
    tmp_path: Path,
    screenshots_dir: Path,
    console_errors: list[str],
) -> None:
    root = copy_demo(demo, tmp_path / "demo")
    server = start_lab(root, init=False)
    panel = open_sidebar(page, server)
    # Light, then dark: the same checks after a live theme switch.
    for suffix, theme in (("", None), ("-dark", DARK)):
        if theme:
            switch_theme(page, theme)
            expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
        sidebar = box(panel)
        assert sidebar["width"] < 400, sidebar  # the default width
        bar = box(panel.locator(".jp-mlops-tabs"))
        tabs = panel.locator(".jp-mlops-tabs .lm-TabBar-tab")
        expect(tabs).to_have_count(len(VIEWS))
        for view in VIEWS:
            tab = view_tab(panel, view)
            expect(tab).to_be_visible()
            expect(tab).to_have_attribute("title", re.compile(f"^{view}: "))
            expect(tab.locator(".lm-TabBar-tabIcon svg")).to_be_visible()
            found = box(tab)
            # Inside the sidebar, on the tab bar's one row.
            assert found["x"] >= sidebar["x"] - 0.5, (view, found, sidebar)
            right = sidebar["x"] + sidebar["width"]
            assert found["x"] + found["width"] <= right + 0.5, (view, found)
            assert (
                found["y"] >= bar["y"] - 0.5
                and found["y"] + found["height"] <= bar["y"] + bar["height"] + 0.5
            ), (view, found, bar)
            tab.click()
            expect(tab).to_have_class(CURRENT)
            expect(panel.locator(".jp-mlops-sidebar-heading")).to_have_text(view)
            expect(panel.locator(f'.jp-mlops-view[data-view="{view.lower()}"]')).to_be_visible()
            if view == "Evaluations":
                expect(panel.get_by_test_id("mlops-drift")).to_be_visible()
                clip = {"x": 0, "y": 0, "width": right + 40, "height": 800}
                page.screenshot(path=screenshots_dir / f"sidebar-icon-tabs{suffix}.png", clip=clip)
        # The drift report as a tab, in this theme.
        show(panel, "Evaluations")
        panel.get_by_test_id("mlops-drift-open-tab").click()
        expect(page.locator('#jp-main-dock-panel [data-testid="mlops-drift-tab"]')).to_be_visible()
        expect(
            page.locator('[data-testid="mlops-drift-tab"] .jp-mlops-chart').first
        ).to_be_visible()
        shoot(page, screenshots_dir / "tab-drift-theme-switched.png")

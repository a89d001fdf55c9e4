"""Several runs compared side by side in one main-area tab: the first run the baseline,
the deltas coloured better/worse by each metric's direction, the parameters that differ
marked, parallel coordinates and a plotly scatter (plotly fetched only when drawn), the
tab restored after a reload, in the light and dark themes.

Real JupyterLab, real runner subprocesses and kernels, Debian Chromium; the page's
console errors fail the test.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import open_mlops, switch_theme
from playwright.sync_api import Locator, Page, expect
from test_runs_graph import current_main_tab, run, run_row

from tests.notebooks import write_notebook

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory

pytestmark = pytest.mark.browser

# One stage whose metrics follow its two parameters: accuracy (higher is better),
# val_loss and latency_ms (lower is better).
SWEEP = """
pipelines:
  sweep:
    stages:
      - {name: train, notebook: train.ipynb}
"""
TRAIN = (
    "import mlops_lab\nctx = mlops_lab.context()\n"
    'ctx.log_metric("accuracy", round(0.7 + depth * 0.05 - lr, 4))\n'
    'ctx.log_metric("val_loss", round(lr * 2 + 1 / depth, 4))\n'
    'ctx.log_metric("latency_ms", depth * 10)'
)
# (lr, depth): the first is the baseline; the second beats it on accuracy and val_loss
# but is slower, the third is worse on both and faster.
SETTINGS = [(0.1, 3), (0.05, 4), (0.2, 2), (0.01, 5)]
RESOURCES = "() => performance.getEntriesByType('resource').map(e => [e.name, e.decodedBodySize])"
# A production build names chunks by number and hash, a development build by module; the
# plotly chunk is the one of either kind over this size (plotly's basic bundle is 1.1 MB,
# the extension's own code well under).
PLOTLY_BYTES = 900_000


def css_colour(page: Page, variable: str) -> str:
    """A theme colour variable as the browser computes it."""
    return page.evaluate(
        "v => { const probe = document.createElement('span');"
        " probe.style.color = `var(${v})`; document.body.append(probe);"
        " const c = getComputedStyle(probe).color; probe.remove(); return c; }",
        variable,
    )


def plotly_fetched(page: Page) -> bool:
    """Whether this extension's plotly chunk was fetched (jupyterlab-plotly has its own)."""
    return any(
        "/mlops-lab/static/" in name and ("plotly" in name or size > PLOTLY_BYTES)
        for name, size in page.evaluate(RESOURCES)
    )


def cell(table: Locator, name: str, index: int) -> Locator:
    return table.locator(f'tr[data-name="{name}"] td').nth(index)


def test_compare_many_runs_in_one_tab(
    start_lab: LabFactory, page: Page, tmp_path: Path, screenshots_dir: Path
) -> None:
    root = tmp_path / "sweep"
    server = start_lab(root)
    write_notebook(root / "train.ipynb", "lr = 0.1\ndepth = 3", TRAIN)
    (root / "mlops_lab.yaml").write_text(
        f"version: 1\nname: {root.name}\n" + textwrap.dedent(SWEEP), encoding="utf-8"
    )
    ids = []
    for lr, depth in SETTINGS:
        done = run(server, {"pipeline": "sweep", "parameters": {"lr": lr, "depth": depth}})
        assert done["status"] == "succeeded", server.log_tail()
        ids.append(done["id"])

    panel = open_mlops(page, server.lab_url, view="Runs")
    runs = panel.get_by_test_id("mlops-runs")
    expect(runs.get_by_test_id("mlops-run")).to_have_count(4)
    # Two ticked: their differences inline, as before; more: one button for a tab.
    for run_id in ids[:2]:
        run_row(runs, run_id).get_by_test_id("mlops-run-select").check()
    expect(runs.get_by_test_id("mlops-compare")).to_have_attribute("data-phase", "ok")
    for run_id in ids[2:]:
        run_row(runs, run_id).get_by_test_id("mlops-run-select").check()
    expect(runs.get_by_test_id("mlops-compare")).to_have_count(0)
    button = runs.get_by_test_id("mlops-compare-many-open")
    expect(button).to_have_text("Compare 4 runs")
    assert not plotly_fetched(page)
    button.click()

    label = f"compare {ids[0]} · {ids[1]} · +2"
    expect(current_main_tab(page)).to_contain_text(label)
    tab = page.locator('#jp-main-dock-panel [data-testid="mlops-compare-tab"]')
    expect(tab).to_have_attribute("data-runs", ",".join(sorted(ids)))
    view = tab.get_by_test_id("mlops-compare-many")
    expect(view).to_have_attribute("data-runs", ",".join(ids))  # the oldest first
    metrics = view.get_by_test_id("mlops-compare-metrics")
    expect(metrics.locator(f'th[data-run-id="{ids[0]}"]')).to_have_attribute(
        "data-baseline", "true"
    )
    expect(metrics.get_by_test_id("mlops-compare-baseline")).to_have_count(1)

    # Values, deltas formatted, better/worse by each metric's direction.
    expect(cell(metrics, "accuracy", 0)).to_have_text("0.75")
    expect(cell(metrics, "accuracy", 1)).to_have_text("0.85+0.1")
    better, worse = css_colour(page, "--jp-success-color1"), css_colour(page, "--jp-error-color1")
    expected = {
        # metric: the changes of runs 2, 3 and 4 from the baseline
        "accuracy": ["better", "worse", "better"],
        "val_loss": ["better", "worse", "better"],
        "latency_ms": ["worse", "better", "worse"],
    }
    for name, changes in expected.items():
        deltas = metrics.locator(f'tr[data-name="{name}"]').get_by_test_id("mlops-delta")
        expect(deltas).to_have_count(3)
        for i, change in enumerate(changes):
            delta = deltas.nth(i)
            expect(delta).to_have_attribute("data-change", change)
            colour = delta.evaluate("e => getComputedStyle(e).color")
            assert colour == (better if change == "better" else worse), (name, i)
            # A symbol too, not colour alone.
            symbol = delta.evaluate("e => getComputedStyle(e, '::after').content")
            assert symbol == ('" ▲"' if change == "better" else '" ▼"'), (name, symbol)
    expect(
        metrics.locator('tr[data-name="val_loss"]').get_by_test_id("mlops-delta").first
    ).to_have_text("\u22120.1833")  # 0.35 - 0.5333, with a minus sign
    slower = metrics.locator('tr[data-name="latency_ms"]').get_by_test_id("mlops-delta").first
    expect(slower).to_have_attribute(
        "title", "worse than the baseline · +33% from the baseline · lower is better"
    )
    for name, arrow in [("accuracy", "↑"), ("val_loss", "↓"), ("latency_ms", "↓")]:
        row = metrics.locator(f'tr[data-name="{name}"]')
        expect(row.get_by_test_id("mlops-compare-direction")).to_have_text(arrow)
    # The best run of each metric is starred: the fourth on accuracy, the third on latency.
    expect(cell(metrics, "accuracy", 3)).to_have_attribute("data-best", "true")
    expect(cell(metrics, "latency_ms", 2)).to_have_attribute("data-best", "true")

    parameters = view.get_by_test_id("mlops-compare-parameters")
    for name in ("lr", "depth"):
        expect(parameters.locator(f'tr[data-name="{name}"]')).to_have_attribute(
            "data-differs", "true"
        )
    expect(cell(parameters, "lr", 2)).to_have_text("0.2")
    expect(cell(parameters, "lr", 2)).to_have_attribute("data-changed", "true")

    # Parallel coordinates: the parameters that differ and the chosen metric.
    chart = view.get_by_test_id("mlops-compare-chart")
    expect(chart).to_have_attribute("data-kind", "parallel")
    parallel = chart.get_by_test_id("mlops-parallel")
    expect(parallel.get_by_test_id("mlops-parallel-line")).to_have_count(4)
    axes = parallel.get_by_test_id("mlops-parallel-axis")
    expect(axes).to_have_count(3)
    expect(axes.last).to_have_attribute("data-axis", "train.accuracy")
    chart.get_by_test_id("mlops-compare-chart-metric").select_option(label="train.val_loss ↓")
    expect(axes.last).to_have_attribute("data-axis", "train.val_loss")
    # The best val_loss (the fourth run) is drawn in the success colour.
    best_line = parallel.locator(f'[data-run-id="{ids[3]}"]')
    assert best_line.evaluate("e => getComputedStyle(e).stroke") == better
    assert not plotly_fetched(page)  # SVG so far
    chart.scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "runs-compare-many.png")

    # A scatter of one parameter against the metric: plotly, fetched now.
    chart.get_by_test_id("mlops-compare-chart-kind").select_option("scatter")
    chart.get_by_test_id("mlops-compare-chart-parameter").select_option(label="train.lr")
    scatter = chart.get_by_test_id("mlops-compare-scatter")
    expect(scatter).to_have_attribute("data-drawn", "true", timeout=30_000)
    expect(scatter.locator(".point")).to_have_count(4)
    assert plotly_fetched(page)
    page.screenshot(path=screenshots_dir / "runs-compare-many-scatter.png")

    # Another run as the baseline: the deltas are from it now.
    metrics.locator(f'th[data-run-id="{ids[1]}"]').get_by_test_id(
        "mlops-compare-make-baseline"
    ).click()
    expect(view).to_have_attribute("data-runs", ",".join([ids[1], ids[0], *ids[2:]]))
    expect(
        metrics.locator('tr[data-name="accuracy"]').get_by_test_id("mlops-delta").first
    ).to_have_attribute("data-change", "worse")

    # Restored after a reload, with its runs and baseline as opened.
    page.wait_for_timeout(1500)  # the layout is saved after a debounce
    page.reload()
    restored = page.locator('#jp-main-dock-panel [data-testid="mlops-compare-tab"]')
    expect(restored).to_have_count(1, timeout=60_000)
    expect(restored).to_have_attribute("data-runs", ",".join(sorted(ids)))
    expect(restored.get_by_test_id("mlops-compare-many")).to_have_attribute(
        "data-runs", ",".join(ids), timeout=30_000
    )
    expect(current_main_tab(page)).to_contain_text(label)
    expect(restored.get_by_test_id("mlops-parallel-line")).to_have_count(4)

    # The dark theme: the same colours by name, read from the dark theme.
    switch_theme(page, "JupyterLab Dark")
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    dark_better = css_colour(page, "--jp-success-color1")
    delta = restored.locator('tr[data-name="accuracy"]').get_by_test_id("mlops-delta").first
    expect(delta).to_have_attribute("data-change", "better")
    assert delta.evaluate("e => getComputedStyle(e).color") == dark_better
    background = restored.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background == css_colour(page, "--jp-layout-color1")
    restored.get_by_test_id("mlops-compare-chart").scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "runs-compare-many-dark.png")

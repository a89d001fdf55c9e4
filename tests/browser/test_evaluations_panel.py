"""The Evaluations view of the MLOps sidebar: metrics, curves, gate decisions, drift.

Real JupyterLab on a copy of the demo workspace after `mlops-lab run churn` (which
evaluates `churn`, checks drift, opens an alert and stores an A/B test), another
version evaluated and gated, and a regression model recorded through the Python API
in a subprocess (as a notebook would), Debian Chromium drawing the plotly charts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Locator, Page, expect
from test_models_panel import CLIP, api, churn_demo, fmt, open_view

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory

pytestmark = pytest.mark.browser

# churn v2 (fewer, shallower trees) evaluated on the demo's holdout, gated against
# the champion.
RECORD = """
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
import mlops_lab

ctx = mlops_lab.context()
frame = ctx.load_dataset("training_frame")
features = [c for c in frame.columns if c not in ("customer_id", "churned", "segment")]
model = make_pipeline(  # empty windows are null: imputed as the demo's model does
    SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True),
    GradientBoostingClassifier(n_estimators=10, max_depth=1, random_state=0),
)
model.fit(frame[features], frame.churned)
mlops_lab.register_model("churn", model, X_sample=frame[features].head(5),
                         training_frame="training_frame", description="Stumps")
mlops_lab.evaluate("churn/2", "holdout", label="churned", slices=["segment"])
mlops_lab.compare("churn", "holdout", label="churned", baseline="champion", candidate="2",
                  metric="roc_auc", n_boot=200)
"""

# A regression model (spend from the other features), evaluated: residuals.
REGRESSION = """
import mlops_lab
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline

ctx = mlops_lab.context()
holdout = ctx.load_dataset("holdout")
numeric = [c for c in holdout.select_dtypes("number").columns if c != "churned"]
target = "tenure_days"  # never null (window features are null for empty windows)
inputs = [c for c in numeric if c != target]
model = make_pipeline(
    SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True),
    LinearRegression(),
).fit(holdout[inputs], holdout[target])
mlops_lab.register_model("spend", model, X_sample=holdout[inputs].head(5), training_frame=holdout)
mlops_lab.evaluate("spend/1", "holdout", label=target, task="regression")
print(target)
"""


# The background a plotly chart was drawn with, and the theme's --jp-layout-color1,
# both as the browser computes them (rgb(...)).
THEME_COLOURS = """svg => {
    const probe = document.createElement("div");
    probe.style.color = getComputedStyle(document.body).getPropertyValue("--jp-layout-color1");
    document.body.appendChild(probe);
    const theme = getComputedStyle(probe).color;
    probe.remove();
    return [getComputedStyle(svg).backgroundColor, theme];
}"""


def signed3(value: float) -> str:
    """A difference as the view shows it: 3 significant digits, signed."""
    text = f"{float(f'{value:.3g}'):g}"
    return text if value <= 0 else f"+{text}"


def section(panel: Locator, testid: str) -> Locator:
    return panel.get_by_test_id(testid)


def traces(plot: Locator, kind: str) -> Locator:
    """The drawn traces of a plotly chart: `scatter` lines or `bar`s."""
    layer = ".scatterlayer .trace" if kind == "scatter" else ".barlayer .trace"
    return plot.locator(f"svg.main-svg {layer}")


def evaluation_row(panel: Locator, evaluation: dict[str, Any]) -> Locator:
    return panel.locator(f'[data-testid="mlops-eval-row"][data-evaluation="{evaluation["id"]}"]')


def test_metrics_curves_gate_drift_and_alerts(
    start_lab: LabFactory,
    page: Page,
    tmp_path: Path,
    demo: Path,
    screenshots_dir: Path,
) -> None:
    root = churn_demo(demo, tmp_path / "demo")
    server = start_lab(root, init=False)
    server.python(RECORD)
    evaluations = api(server, "evaluations?model=churn")["evaluations"]
    assert {e["version"] for e in evaluations} == {1, 2}, evaluations
    chunks: list[str] = []
    page.on("request", lambda r: chunks.append(r.url) if r.url.endswith(".js") else None)

    panel = open_view(page, server, "Evaluations")
    view = panel.get_by_test_id("mlops-evaluations")
    expect(view.get_by_test_id("mlops-eval-model")).to_have_value("churn")

    # The metrics table: a row per version and dataset, values as the API has them.
    rows = view.get_by_test_id("mlops-eval-row")
    expect(rows).to_have_count(len(evaluations))
    for evaluation in evaluations:
        row = evaluation_row(view, evaluation)
        expect(row.locator("td").first).to_have_text(f"v{evaluation['version']}")
        for name, value in evaluation["metrics"].items():
            if value is not None:
                expect(row.locator(f'td[data-metric="{name}"]')).to_have_text(fmt(value))

    # The metric over versions: one line per dataset, the metric picked.
    versions_plot = view.get_by_test_id("mlops-plot-versions")
    expect(traces(versions_plot, "scatter")).to_have_count(1)
    view.get_by_test_id("mlops-eval-metric").select_option("roc_auc")
    expect(view.get_by_test_id("mlops-eval-metric")).to_have_value("roc_auc")
    expect(versions_plot.locator(".ytitle")).to_have_text("roc_auc")

    # The newest evaluation in detail: ROC (with the chance line), PR, calibration.
    newest = max(evaluations, key=lambda e: e["created_at"])
    detail = api(server, f"evaluations/{newest['id']}")
    shown = view.get_by_test_id("mlops-eval-detail")
    expect(shown.locator(".jp-mlops-eval-detail")).to_have_attribute(
        "data-evaluation", newest["id"]
    )
    roc = shown.get_by_test_id("mlops-plot-roc")
    expect(traces(roc, "scatter")).to_have_count(2)
    expect(roc.locator(".xtitle")).to_have_text("False positive rate")
    expect(shown.locator('[data-chart="roc"] figcaption')).to_have_text(
        f"ROC · AUC {fmt(detail['metrics']['roc_auc'])}"
    )
    expect(traces(shown.get_by_test_id("mlops-plot-pr"), "scatter")).to_have_count(1)
    expect(traces(shown.get_by_test_id("mlops-plot-calibration"), "scatter")).to_have_count(2)
    # The plotly bundle is a chunk of its own, fetched once charts are drawn.
    assert any(url.split("/")[-1].count(".") == 2 for url in chunks), chunks

    # The confusion matrix, cell by cell.
    matrix = shown.get_by_test_id("mlops-confusion")
    cells = matrix.locator("tbody td")
    expected = [str(n) for row in detail["confusion_matrix"]["matrix"] for n in row]
    expect(cells).to_have_text(expected)
    page.screenshot(path=screenshots_dir / "evaluations-metrics.png", clip=CLIP)
    shown.locator('[data-chart="pr"]').evaluate("node => node.scrollIntoView()")
    page.screenshot(path=screenshots_dir / "evaluations-curves.png", clip=CLIP)
    matrix.evaluate("node => node.scrollIntoView()")
    page.screenshot(path=screenshots_dir / "evaluations-slices.png", clip=CLIP)

    # Another row shows that evaluation.
    older = next(e for e in evaluations if e["id"] != newest["id"])
    evaluation_row(view, older).click()
    expect(evaluation_row(view, older)).to_have_attribute("aria-selected", "true")
    expect(shown.locator(".jp-mlops-eval-detail")).to_have_attribute("data-evaluation", older["id"])
    expect(traces(shown.get_by_test_id("mlops-plot-roc"), "scatter")).to_have_count(2)

    # The gate decision, as stored.
    comparison = api(server, "comparisons?model=churn")["comparisons"][0]
    card = section(view, "mlops-eval-comparisons-section").get_by_test_id("mlops-comparison")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("mlops-decision")).to_have_text(comparison["decision"])
    expect(card.get_by_test_id("mlops-decision-reason")).to_have_text(comparison["reason"])
    expect(card.get_by_test_id("mlops-difference")).to_have_text(
        "{} [{}, {}]".format(*(signed3(comparison[k]) for k in ("difference", "ci_low", "ci_high")))
    )

    # The latest drift report: drifted columns first, a click shows a column's histograms.
    drift_list = api(server, "drift")["reports"]
    report = api(server, f"drift/{drift_list[0]['id']}")
    drift = view.get_by_test_id("mlops-drift")
    expect(drift).to_have_attribute("data-verdict", report["verdict"])
    drift_rows = drift.get_by_test_id("mlops-drift-row")
    expect(drift_rows).to_have_count(len(report["columns"]))
    flags = [drift_rows.nth(i).get_attribute("data-drifted") for i in range(len(report["columns"]))]
    n_drifted = len(report["drifted"])
    assert flags == ["true"] * n_drifted + ["false"] * (len(flags) - n_drifted), flags
    first = drift_rows.first.get_attribute("data-column")
    if n_drifted:
        assert first in report["drifted"], (first, report["drifted"])
    histogram = drift.locator('[data-chart="drift"]')
    expect(histogram).to_have_attribute("data-column", first or "")
    expect(traces(histogram, "bar")).to_have_count(2)
    other = drift_rows.last.get_attribute("data-column")
    drift_rows.last.click()
    expect(histogram).to_have_attribute("data-column", other or "")
    expect(traces(histogram, "bar")).to_have_count(2)
    # Sorting by column name, then back to drifted first.
    drift.locator('button[data-sort="column"]').click()
    names = sorted(c["column"] for c in report["columns"])
    expect(drift_rows.locator(".jp-mlops-drift-column")).to_have_text(names)
    drift.locator('button[data-sort="drifted"]').click()
    expect(drift_rows.first).to_have_attribute("data-column", first or "")
    drift.scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "evaluations-drift.png", clip=CLIP)

    # The A/B test and the open alerts.
    ab_section = section(view, "mlops-eval-ab-section")
    ab_section.locator("summary").click()
    ab_tests = api(server, "ab-tests")["tests"]
    test = ab_section.get_by_test_id("mlops-ab-test")
    expect(test).to_have_count(len(ab_tests))
    expect(test.first).to_have_attribute("data-test", ab_tests[0]["name"])
    expect(test.first.get_by_test_id("mlops-ab-variant")).to_have_count(
        len(ab_tests[0]["variants"])
    )
    alerts = api(server, "alerts?status=open")["alerts"]
    shown_alerts = section(view, "mlops-eval-alerts-section").get_by_test_id("mlops-alert")
    expect(shown_alerts).to_have_count(len(alerts))
    if alerts:
        expect(shown_alerts.first.get_by_test_id("mlops-alert-message")).to_have_text(
            alerts[0]["message"]
        )
    ab_section.scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "evaluations-ab-alerts.png", clip=CLIP)


def test_regression_residuals_and_dark_theme(
    start_lab: LabFactory,
    page: Page,
    tmp_path: Path,
    demo: Path,
    screenshots_dir: Path,
) -> None:
    root = churn_demo(demo, tmp_path / "dark")
    server = start_lab(root, init=False, theme="JupyterLab Dark")
    server.python(REGRESSION)

    panel = open_view(page, server, "Evaluations")
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    view = panel.get_by_test_id("mlops-evaluations")
    view.get_by_test_id("mlops-eval-model").select_option("churn")
    roc = view.get_by_test_id("mlops-plot-roc")
    expect(traces(roc, "scatter")).to_have_count(2)
    # The chart is drawn in the dark theme's colours: its background is the panel's.
    paper, panel_colour = roc.locator("svg.main-svg").first.evaluate(THEME_COLOURS)
    assert paper == panel_colour, (paper, panel_colour)
    red, green, blue = (int(n) for n in paper[paper.index("(") + 1 : -1].split(",")[:3])
    assert red + green + blue < 3 * 80, paper  # dark
    page.screenshot(path=screenshots_dir / "evaluations-metrics-dark.png", clip=CLIP)
    view.locator('[data-chart="pr"]').evaluate("node => node.scrollIntoView()")
    page.screenshot(path=screenshots_dir / "evaluations-curves-dark.png", clip=CLIP)
    view.get_by_test_id("mlops-drift").evaluate("node => node.scrollIntoView()")
    page.screenshot(path=screenshots_dir / "evaluations-drift-dark.png", clip=CLIP)

    view.get_by_test_id("mlops-eval-model").select_option("spend")
    evaluation = api(server, "evaluations?model=spend")["evaluations"][0]
    detail = api(server, f"evaluations/{evaluation['id']}")
    shown = view.get_by_test_id("mlops-eval-detail")
    expect(shown.locator(".jp-mlops-eval-detail")).to_have_attribute("data-task", "regression")
    residuals = shown.get_by_test_id("mlops-plot-residuals")
    expect(traces(residuals, "bar")).to_have_count(1)
    bars = len(detail["residuals"]["histogram"]["counts"])
    expect(residuals.locator(".barlayer .point")).to_have_count(bars)
    expect(shown.get_by_test_id("mlops-plot-roc")).to_have_count(0)
    expect(shown.get_by_test_id("mlops-confusion")).to_have_count(0)

    # The charts follow the panel's width.
    width = residuals.locator("svg.main-svg").first.get_attribute("width")
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle:not(.lm-mod-hidden)").first
    box = handle.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 200)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 200, steps=4)
    page.mouse.up()
    expect(residuals.locator("svg.main-svg").first).not_to_have_attribute("width", width or "")
    residuals.scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "evaluations-residuals-dark.png", clip=CLIP)

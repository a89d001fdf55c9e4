"""Evaluations and monitoring in the panel: alerts acknowledged and closed with a reason,
A/B tests closed, drift counts as the alert counts them, clipped histogram bins, and the
"over versions" chart on a categorical axis clamped to the data with the gate's numbers.

Real JupyterLab at the default sidebar width on a copy of the demo workspace after
`mlops-lab run churn`; no console error is allowed in any test.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import open_mlops, shoot
from playwright.sync_api import Locator, Page, expect
from test_models_panel import api, churn_demo

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory, LabServer

pytestmark = pytest.mark.browser

CLIP = {"x": 0, "y": 0, "width": 640, "height": 800}

# A new holdout version on which a gate compares churn v1 with a new v2 without
# evaluating either (the table must still show both, marked "gate"); an alert for
# the demo's pipeline raised twice (one alert, fired twice); a one-version model
# evaluated once (a one-point chart).
SCENARIO = """
import numpy as np
from sklearn.linear_model import LinearRegression
import mlops_lab
from mlops_lab.pipelines.triggers import open_alert

ctx = mlops_lab.context()
holdout = ctx.load_dataset("holdout")
ctx.save_dataset("holdout", holdout.sample(frac=0.8, random_state=1))
frame = ctx.load_dataset("training_frame")
features = [c for c in frame.columns if c not in ("customer_id", "churned", "segment")]
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
model = make_pipeline(
    SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True),
    GradientBoostingClassifier(n_estimators=10, max_depth=1, random_state=0),
).fit(frame[features], frame.churned)
mlops_lab.register_model("churn", model, X_sample=frame[features].head(5),
                         training_frame="training_frame")
mlops_lab.compare("churn", "holdout", label="churned", baseline="champion", candidate="2",
                  metric="roc_auc", n_boot=100)
for _ in range(2):
    open_alert(ctx.workspace.catalog, pipeline="churn", kind="metric",
               message="roc_auc 0.61 < 0.7 on live outcomes", subject=("churn", "live"))
numeric = [c for c in holdout.select_dtypes("number").columns if c != "churned"]
inputs = [c for c in numeric if c != "tenure_days"]
spend = make_pipeline(
    SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True),
    LinearRegression(),
).fit(holdout[inputs], holdout["tenure_days"])
mlops_lab.register_model("spend", spend, X_sample=holdout[inputs].head(5), training_frame=holdout)
mlops_lab.evaluate("spend/1", "holdout", label="tenure_days", task="regression")
"""


def open_evaluations(page: Page, server: LabServer) -> Locator:
    """JupyterLab, the MLOps sidebar at its default width, the Evaluations view."""
    view = open_mlops(page, server.lab_url, view="Evaluations").get_by_test_id("mlops-evaluations")
    expect(view).to_be_visible()
    return view


def tick_labels(plot: Locator, axis: str) -> list[str]:
    return [t.strip() for t in plot.locator(f".{axis}tick text").all_text_contents()]


def answer_reason(page: Page, reason: str, button: str) -> None:
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("mlops-reason").fill(reason)
    dialog.get_by_role("button", name=button).click()
    expect(dialog).to_have_count(0)


def test_acknowledge_and_close_an_alert_and_an_ab_test(
    start_lab: LabFactory,
    page: Page,
    tmp_path: Path,
    demo: Path,
    screenshots_dir: Path,
    console_errors: list[str],
) -> None:
    root = churn_demo(demo, tmp_path / "demo")
    server = start_lab(root, init=False)
    server.python(SCENARIO)
    view = open_evaluations(page, server)

    # One alert for the rule raised twice; the view shows how often and its state.
    alerts = api(server, "alerts?status=active")["alerts"]
    fired = next(a for a in alerts if a["kind"] == "metric")
    assert fired["occurrences"] == 2, alerts
    section = view.get_by_test_id("mlops-eval-alerts-section")
    cards = section.get_by_test_id("mlops-alert")
    expect(cards).to_have_count(len(alerts))
    card = section.locator(f'[data-alert="{fired["id"]}"]')
    expect(card.get_by_test_id("mlops-alert-seen")).to_contain_text("Fired 2 times")
    expect(card.get_by_test_id("mlops-alert-status")).to_have_text("open")
    card.scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "evaluations-alerts-open.png", clip=CLIP)

    # Acknowledge: a reason is required (accepting without one asks again).
    card.get_by_test_id("mlops-alert-acknowledge").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible()
    page.screenshot(path=screenshots_dir / "evaluations-alert-reason.png")
    dialog.get_by_role("button", name="Acknowledge").click()
    expect(dialog.get_by_test_id("mlops-reason-problem")).to_be_visible()
    answer_reason(page, "looking into the live outcomes", "Acknowledge")
    expect(card).to_have_attribute("data-status", "acknowledged")
    expect(card.get_by_test_id("mlops-alert-ack")).to_contain_text("looking into the live outcomes")
    expect(card.get_by_test_id("mlops-alert-acknowledge")).to_have_count(0)
    stored = next(a for a in api(server, "alerts?status=all")["alerts"] if a["id"] == fired["id"])
    assert stored["status"] == "acknowledged" and stored["acknowledged_by"], stored
    assert stored["acknowledge_reason"] == "looking into the live outcomes"
    expect(view.get_by_test_id("mlops-eval-notice")).to_have_text("Alert acknowledged.")
    card.scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "evaluations-alert-acknowledged.png", clip=CLIP)

    # Close it: it leaves the active list; the catalog keeps who and why.
    card.get_by_test_id("mlops-alert-close").click()
    answer_reason(page, "retrained on the new holdout", "Close")
    expect(card).to_have_count(0)
    expect(cards).to_have_count(len(alerts) - 1)
    closed = api(server, "alerts?status=closed")["alerts"]
    stored = next(a for a in closed if a["id"] == fired["id"])
    assert stored["close_reason"] == "retrained on the new holdout" and stored["closed_by"]

    # A/B test: closed (archived) with a reason, still listed, marked closed.
    ab = view.get_by_test_id("mlops-eval-ab-section")
    ab.locator("summary").click()
    test = ab.get_by_test_id("mlops-ab-test").first
    expect(test).to_have_attribute("data-status", "active")
    test.get_by_test_id("mlops-ab-close").click()
    answer_reason(page, "shipped the winner", "Close")
    expect(test).to_have_attribute("data-status", "closed")
    expect(test.get_by_test_id("mlops-ab-closed")).to_contain_text("shipped the winner")
    assert api(server, "ab-tests?status=active")["tests"] == []


def test_drift_counts_histogram_bins_and_the_versions_chart(
    start_lab: LabFactory,
    page: Page,
    tmp_path: Path,
    demo: Path,
    screenshots_dir: Path,
    console_errors: list[str],
) -> None:
    root = churn_demo(demo, tmp_path / "demo")
    server = start_lab(root, init=False)
    server.python(SCENARIO)
    _check_counts_bins_and_chart(page, server, screenshots_dir)


def _check_counts_bins_and_chart(page: Page, server: LabServer, screenshots_dir: Path) -> None:
    view = open_evaluations(page, server)
    view.get_by_test_id("mlops-eval-model").select_option("churn")
    expect(view.get_by_test_id("mlops-eval-model")).to_have_value("churn")

    # The gate compared v1 and v2 on a holdout version neither was evaluated on: both
    # rows are in the table (marked gate), with the numbers the gate quotes.
    [gate] = [
        c for c in api(server, "comparisons?model=churn")["comparisons"] if c["candidate"] == 2
    ]
    dataset = f"{gate['dataset']}@{gate['dataset_version']}"
    gate_rows = view.get_by_test_id("mlops-eval-gate-row")
    expect(gate_rows).to_have_count(2)
    measured = ((gate["baseline"], gate["baseline_value"]), (2, gate["candidate_value"]))
    for version, value in measured:
        row = view.locator(
            f'[data-testid="mlops-eval-gate-row"][data-version="{version}"]'
            f'[data-dataset="{dataset}"]'
        )
        expect(row).to_have_attribute("data-gates", gate["id"])
        shown = row.locator('td[data-metric="roc_auc"]').inner_text()
        assert abs(float(shown) - value) < 1e-4, (shown, value)

    # The chart: only versions that exist, on a categorical axis; y clamped to the data.
    view.get_by_test_id("mlops-eval-metric").select_option("roc_auc")
    chart = view.locator('[data-chart="metric-over-versions"]')
    plot = chart.get_by_test_id("mlops-plot-versions")
    expect(chart).to_have_attribute("data-versions", "1 2")
    expect(plot.locator(".xtick text")).to_have_count(2)
    assert tick_labels(plot, "x") == ["v1", "v2"]
    evaluations = api(server, "evaluations?model=churn")["evaluations"]
    values = [e["metrics"]["roc_auc"] for e in evaluations]
    values += [gate["baseline_value"], gate["candidate_value"]]
    low, high = (float(v) for v in (chart.get_attribute("data-range") or "").split())
    assert low < min(values) and high > max(values), (low, high, values)
    assert high - low < 1.25 * (max(values) - min(values)) + 0.02, (low, high, values)
    for tick in tick_labels(plot, "y"):
        assert low <= float(tick) <= high, (tick, low, high)
    chart.scroll_into_view_if_needed()
    shoot(page, screenshots_dir / "evaluations-versions.png", clip=CLIP)

    # A one-version model: one category, a narrow axis around its value.
    view.get_by_test_id("mlops-eval-model").select_option("spend")
    expect(chart).to_have_attribute("data-versions", "1")
    expect(plot.locator(".xtick text")).to_have_count(1)
    assert tick_labels(plot, "x") == ["v1"]
    [spend] = api(server, "evaluations?model=spend")["evaluations"]
    metric = view.get_by_test_id("mlops-eval-metric").input_value()
    value = spend["metrics"][metric]
    low, high = (float(v) for v in (chart.get_attribute("data-range") or "").split())
    assert low < value < high and high - low <= max(abs(value) * 0.1, 0.02) + 1e-9
    chart.scroll_into_view_if_needed()
    shoot(page, screenshots_dir / "evaluations-one-version.png", clip=CLIP)

    # Drift: the header counts feature columns as the alert does; the model's
    # predictions apart. Histograms show the tails outside the 1st-99th percentiles.
    [summary] = api(server, "drift")["reports"][:1]
    report = api(server, f"drift/{summary['id']}")
    drift = view.get_by_test_id("mlops-drift")
    expect(drift.get_by_test_id("mlops-drift-counts")).to_have_text(report["counts"]["summary"])
    if report["alert_id"]:
        alert = next(
            a for a in api(server, "alerts?status=all")["alerts"] if a["id"] == report["alert_id"]
        )
        assert report["counts"]["summary"] in alert["message"], (report["counts"], alert)
    numeric = [c for c in report["columns"] if c["kind"] == "numeric"]
    drift.locator(f'[data-testid="mlops-drift-row"][data-column="{numeric[0]["column"]}"]').click()
    histogram = drift.locator('[data-chart="drift"]')
    expect(histogram).to_have_attribute("data-column", numeric[0]["column"])
    expect(histogram.get_by_test_id("mlops-drift-tails")).to_contain_text("1st and 99th")
    bars = len(numeric[0]["histogram"]["reference"]) + 2  # the bins and both tails
    expect(histogram.locator(".barlayer .trace").first.locator(".point")).to_have_count(bars)
    histogram.scroll_into_view_if_needed()
    shoot(page, screenshots_dir / "evaluations-drift-bins.png", clip=CLIP)

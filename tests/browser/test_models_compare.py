"""Models view details (issue #15, items 4, 7 and 9): versions compared side by side,
rows that open on a click anywhere, the Parameters table at the default sidebar width,
"Try a prediction" prefilled from the training data with a first-load message, and the
training data and feature views as links. Light and dark, no console error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import open_mlops, shoot
from playwright.sync_api import Locator, Page, expect
from test_models_panel import CLIP, api, churn_demo, model_row, version_row

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory, LabServer

pytestmark = pytest.mark.browser

# v2 of churn: never evaluated, long parameters; v3: a linear model on the demo's
# features, evaluated on the same holdout as v1 (so v1 and v3 share a dataset). The
# demo's feature view is materialized, as a model server needs.
REGISTER = """
import sys
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
import mlops_lab
from mlops_lab.models import register_model

ws = mlops_lab.open_workspace(sys.argv[1])
ctx = mlops_lab.context()
holdout = ctx.load_dataset("holdout")
features = [c for c in holdout.columns if c not in ("customer_id", "churned", "segment")]
X = holdout[features]
baseline = make_pipeline(SimpleImputer(strategy="constant", fill_value=0), LogisticRegression())
register_model(ws, "churn", baseline.fit(X, holdout.churned), X_sample=X.head(5),
               parameters={"C": 1.0, "features": features * 3,
                           "a_rather_long_parameter_name_for_the_solver": "lbfgs"},
               description="Never evaluated")
mlops_lab.register_model("churn", baseline.fit(X, holdout.churned), X_sample=X.head(5),
                         training_frame="training_frame", description="A linear baseline")
mlops_lab.evaluate("churn/3", "holdout", label="churned", slices=["segment"])
ws.features.materialize("customer_spend")  # the online features v1 reads
"""


def open_models(page: Page, server: LabServer) -> Locator:
    """Load JupyterLab and show the Models view, the sidebar at its default width."""
    return open_mlops(page, server.lab_url, view="Models")


def click_middle(page: Page, target: Locator) -> None:
    box = target.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def compare(detail: Locator, *versions: int) -> Locator:
    for row in detail.get_by_test_id("mlops-version-select").all():
        row.set_checked(False)
    for version in versions:
        version_row(detail, version).get_by_test_id("mlops-version-select").check()
    detail.get_by_test_id("mlops-compare").click()
    shown = detail.get_by_test_id("mlops-model-compare")
    expect(shown).to_have_attribute("data-versions", ",".join(map(str, sorted(versions))))
    return shown


def test_compare_parameters_try_and_links(
    start_lab: LabFactory,
    page: Page,
    tmp_path: Path,
    demo: Path,
    screenshots_dir: Path,
    console_errors: list[str],
) -> None:
    root = churn_demo(demo, tmp_path / "demo")
    server = start_lab(root, init=False)
    server.python(REGISTER, str(root))

    panel = open_models(page, server)
    click_middle(page, model_row(panel, "churn"))
    detail = panel.get_by_test_id("mlops-model-detail")
    expect(detail.get_by_test_id("mlops-version-row")).to_have_count(3)
    expect(detail.get_by_test_id("mlops-compare")).to_be_disabled()

    # v1 and v3 were evaluated on the same holdout: metrics side by side, the best marked.
    shown = compare(detail, 1, 3)
    served = api(server, "models/churn/compare?versions=1,3")
    [dataset] = served["datasets"]
    metrics = shown.get_by_test_id("mlops-compare-metrics")
    expect(metrics.locator("caption")).to_have_text(
        f"on {dataset['dataset']}@{dataset['dataset_version']}"
    )
    auc = next(m for m in dataset["metrics"] if m["name"] == "roc_auc")
    auc_row = metrics.locator('[data-metric="roc_auc"]')
    expect(auc_row.locator("td")).to_have_count(2)
    if auc["best"] is not None:
        expect(auc_row.locator("td").nth(auc["best"])).to_have_attribute("data-best", "true")
    lineage = shown.get_by_test_id("mlops-compare-lineage")
    expect(lineage.locator('[data-name="run_id"]')).to_have_attribute("data-differs", "true")
    shoot(page, screenshots_dir / "models-compare-{theme}.png", clip=CLIP)

    # The same comparison, laid out wide in a main-area tab of its own (one per selection).
    for _ in range(2):
        detail.get_by_test_id("mlops-compare-open-tab").click()
    tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text="churn v1 ↔ v3")
    expect(tab).to_have_count(1)
    wide = page.locator('#jp-main-dock-panel [data-testid="mlops-model-compare-tab"]')
    expect(wide.get_by_test_id("mlops-tab-title")).to_have_text("churn v1 ↔ v3")
    expect(
        wide.get_by_test_id("mlops-compare-metrics").locator('[data-metric="roc_auc"] td')
    ).to_have_count(2)
    shoot(page, screenshots_dir / "models-compare-tab-{theme}.png")

    # v1 and v2 share no dataset: said so; their parameters differ.
    shown = compare(detail, 1, 2)
    expect(shown.get_by_test_id("mlops-compare-no-dataset")).to_contain_text(
        "No dataset version was evaluated with all of v1, v2"
    )
    params = shown.get_by_test_id("mlops-compare-parameters")
    expect(params.locator('[data-name="C"]')).to_have_attribute("data-differs", "true")
    shown.get_by_test_id("mlops-compare-only").check()
    expect(params.locator('[data-differs="false"]')).to_have_count(0)
    shoot(page, screenshots_dir / "models-compare-none-{theme}.png", clip=CLIP)
    detail.get_by_test_id("mlops-compare-close").click()
    expect(detail.get_by_test_id("mlops-model-compare")).to_have_count(0)

    # A click anywhere on a version row (here its metrics line) opens the version.
    click_middle(page, version_row(detail, 2).locator(".jp-mlops-version-row-meta"))
    version = panel.get_by_test_id("mlops-version-detail")
    expect(version.get_by_test_id("mlops-version-name")).to_have_text("churn v2")
    expect(version.locator("time").first).to_have_text(re.compile(r"registered .*\b20\d\d\b"))

    # Parameters: fixed layout, every name on one line, long values cut with an expander,
    # the first column sticky.
    section = version.get_by_test_id("mlops-parameters")
    section.locator("summary").click()
    table = section.get_by_test_id("mlops-parameters-table")
    names = table.locator("tbody th")
    expect(names).to_have_count(3)
    line = names.first.evaluate("th => parseFloat(getComputedStyle(th).lineHeight) || 16")
    for name in names.all():
        box = name.bounding_box()
        assert box is not None and box["height"] < 2.2 * line, (name.inner_text(), box)
    assert table.evaluate("t => getComputedStyle(t).tableLayout") == "fixed"
    assert names.first.evaluate("th => getComputedStyle(th).position") == "sticky"
    features = table.locator('[data-name="features"] td')
    expect(features.locator("code")).to_have_text(re.compile(r"…$"))
    features.get_by_test_id("mlops-long-toggle").click()
    expect(features.locator("code")).not_to_have_text(re.compile(r"…$"))
    expect(features.get_by_test_id("mlops-long-toggle")).to_have_text("less")
    section.scroll_into_view_if_needed()
    shoot(page, screenshots_dir / "models-parameters-{theme}.png", clip=CLIP)

    # v1, from the demo run: Try a prediction starts from a real training row.
    version.get_by_test_id("mlops-version-back").click()
    click_middle(page, version_row(detail, 1))
    expect(version.get_by_test_id("mlops-version-name")).to_have_text("churn v1")
    served_version = api(server, "models/churn/versions/1")
    example = api(server, "models/churn/versions/1/example")
    assert example["dataset"] == served_version["training_dataset"]
    assert list(example["entity"]) == ["customer_id"], example
    trial = version.get_by_test_id("mlops-try-predict")
    trial.locator("summary").click()
    expect(trial.get_by_test_id("mlops-try-source")).to_contain_text(
        f"Prefilled with row {example['row'] + 1} of the training data {example['dataset']}"
    )
    expect(trial.get_by_test_id("mlops-try-input")).to_have_value(
        re.compile(rf'"customer_id": "{example["entity"]["customer_id"]}"')
    )
    trial.get_by_test_id("mlops-try-predict-button").click()
    progress = trial.get_by_test_id("mlops-try-progress")
    expect(progress).to_have_attribute("data-phase", "loading")
    expect(progress).to_contain_text("the first prediction loads the model")
    trial.scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "models-try-loading-light.png", clip=CLIP)
    answer = trial.get_by_test_id("mlops-try-answer")
    expect(answer).to_be_visible(timeout=90_000)
    expect(progress).to_have_count(0)
    expect(answer.locator('[data-fact="version"]')).to_have_text("churn v1")
    shoot(page, screenshots_dir / "models-try-answer-{theme}.png", clip=CLIP)
    # The model stays loaded: the next prediction just predicts.
    trial.get_by_test_id("mlops-try-predict-button").click()
    expect(answer).to_be_visible()

    # The training data opens in place; a feature view link shows the Features view.
    dataset_link = version.get_by_test_id("mlops-lineage-dataset")
    dataset_link.click()
    card = version.get_by_test_id("mlops-dataset-card")
    name, number = served_version["training_dataset"].split("@")
    rows = api(server, f"datasets/{name}/versions/{number}")["row_count"]
    expect(card.get_by_test_id("mlops-dataset-rows")).to_have_text(f"{rows:,} rows")
    card.scroll_into_view_if_needed()
    shoot(page, screenshots_dir / "models-training-data-{theme}.png", clip=CLIP)
    view_ref = served_version["feature_views"][0]
    version.get_by_test_id("mlops-lineage-feature-view").first.click()
    fv = panel.get_by_test_id("mlops-fv-detail")
    expect(fv.get_by_test_id("mlops-fv-name")).to_have_text(view_ref.split("@")[0])
    expect(fv.get_by_test_id("mlops-fv-version")).to_have_value(view_ref.split("@")[1])

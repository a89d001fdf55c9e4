"""The Models view of the MLOps sidebar: models, versions, aliases, lineage, promotion.

Real JupyterLab on a copy of the demo workspace after `mlops-lab run churn` (which
registers, evaluates and promotes `churn`, checks drift and stores an A/B test),
more versions registered through the
Python API in a subprocess (as a notebook would), Debian Chromium.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import open_mlops
from deployments_support import copy_demo
from playwright.sync_api import Locator, Page, expect

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory, LabServer

pytestmark = pytest.mark.browser

PANEL = "#mlops-lab-panel"
# The sidebar and part of the main area.
CLIP = {"x": 0, "y": 0, "width": 720, "height": 800}
SIDEBAR_WIDTH = 460

# A second version of churn (a scikit-learn model on two of its columns, stored
# with skops) and a model kept as a trusted pickle.
REGISTER = """
import sys
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
import mlops_lab
from mlops_lab.models import register_model

ws = mlops_lab.open_workspace(sys.argv[1])
rng = np.random.default_rng(0)
X = pd.DataFrame({"tenure_days": rng.integers(1, 900, 200), "spend_30d": rng.random(200) * 50})
y = (X["spend_30d"] < 10).astype(int)
register_model(ws, "churn", LogisticRegression().fit(X, y), X_sample=X.head(5),
               parameters={"C": 1.0, "features": ["tenure_days", "spend_30d"]},
               description="Two-feature baseline")
register_model(ws, "lookup", {"a": 1}, trusted=True, description="A lookup table")
"""

# churn v1 packaged as a deployable bundle (`mlops-lab package churn/1`), once its
# features are in the online store.
PACKAGE = """
import sys
import mlops_lab
from mlops_lab.models import get_model_version
from mlops_lab.serving.bundle import build_bundle

ws = mlops_lab.open_workspace(sys.argv[1])
for view in get_model_version(ws, "churn/1").feature_views:
    ws.features.materialize(view.partition("@")[0])
build_bundle(ws, "churn/1", out=sys.argv[2], by="ci")
"""

# Enough models for more than one page (the view asks for 50 at a time).
REGISTER_MANY = """
import sys
import mlops_lab
from mlops_lab.models import register_model

ws = mlops_lab.open_workspace(sys.argv[1])
for i in range(int(sys.argv[2])):
    register_model(ws, f"bulk_{i:02d}", {"i": i}, trusted=True)
"""


def churn_demo(demo: Path, dest: Path) -> Path:
    """A copy, at `dest`, of the session's demo workspace (the `demo` fixture)."""
    return copy_demo(demo, dest, materialize=False)


def api(server: LabServer, path: str) -> Any:
    """GET a route of the REST API, as the view does."""
    request = urllib.request.Request(
        f"{server.base_url}/mlops-lab/api/{path}",
        headers={"Authorization": f"token {server.token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def open_view(page: Page, server: LabServer, view: str) -> Locator:
    """Load JupyterLab, open the MLOps sidebar (made wider for tables and charts) and
    show one of its views."""
    return open_mlops(page, server.lab_url, view=view, width=SIDEBAR_WIDTH)


def model_row(panel: Locator, name: str) -> Locator:
    return panel.locator(f'[data-testid="mlops-model-row"][data-model="{name}"]')


def version_row(panel: Locator, version: int) -> Locator:
    return panel.locator(f'[data-testid="mlops-version-row"][data-version="{version}"]')


def fact(detail: Locator, key: str) -> Locator:
    return detail.locator(f'.jp-mlops-lineage [data-fact="{key}"]')


def fmt(value: float) -> str:
    """A metric as the view shows it (6 significant digits)."""
    return f"{value:.6g}" if not float(value).is_integer() else str(int(value))


@pytest.mark.allow_console_error(
    r"status of 422 \(Unprocessable Entity\)", reason="a bad alias is refused on purpose"
)
def test_models_versions_lineage_and_promote(
    start_lab: LabFactory,
    page: Page,
    tmp_path: Path,
    demo: Path,
    screenshots_dir: Path,
) -> None:
    root = churn_demo(demo, tmp_path / "demo")
    server = start_lab(root, init=False)
    server.python(REGISTER, str(root))
    server.python(PACKAGE, str(root), str(tmp_path / "bundles"))
    listed = {m["name"]: m for m in api(server, "models")["models"]}
    churn = listed["churn"]
    assert churn["aliases"] == {"champion": 1}, churn
    assert churn["headline"] is not None, churn

    panel = open_view(page, server, "Models")
    tabs = panel.locator(".jp-mlops-tabs .lm-TabBar-tab")
    expect(tabs.first).to_have_text("Overview")
    labels = tabs.all_inner_texts()  # other views sit between Evaluations and Runs
    assert [t.title() for t in labels[:4]] == ["Overview", "Features", "Models", "Evaluations"]
    assert labels[-1].title() == "Runs"
    models = panel.get_by_test_id("mlops-models")
    expect(models.get_by_test_id("mlops-model-row")).to_have_count(2)
    expect(models.get_by_test_id("mlops-models-count")).to_have_text("2 of 2 models")
    row = model_row(panel, "churn")
    expect(row.get_by_test_id("mlops-model-latest")).to_have_text("v2")
    expect(row.get_by_test_id("mlops-model-versions")).to_have_text("2 versions")
    expect(row.get_by_test_id("mlops-alias")).to_have_text(["championv1"])
    headline = row.get_by_test_id("mlops-model-headline")
    expect(headline).to_have_attribute("data-metric", churn["headline"]["metric"])
    expect(headline.locator(".jp-mlops-metric-value")).to_have_text(fmt(churn["headline"]["value"]))
    lookup = model_row(panel, "lookup")
    expect(lookup.get_by_test_id("mlops-model-headline")).to_have_text("not evaluated")
    page.screenshot(path=screenshots_dir / "models-list.png", clip=CLIP)

    # The search runs on the server.
    search = models.get_by_test_id("mlops-models-search")
    search.fill("look")
    expect(models.get_by_test_id("mlops-model-row")).to_have_count(1)
    expect(model_row(panel, "lookup")).to_have_count(1)
    search.fill("nothing like it")
    expect(models.get_by_test_id("mlops-models-empty")).to_have_text("No models match.")
    search.fill("")
    expect(models.get_by_test_id("mlops-model-row")).to_have_count(2)

    # A model: its versions with aliases, flavor and metrics; the alias history.
    model_row(panel, "churn").locator(".jp-mlops-model-open").click()
    detail = panel.get_by_test_id("mlops-model-detail")
    expect(detail.get_by_test_id("mlops-model-name")).to_have_text("churn")
    served = api(server, "models/churn")
    expect(detail.get_by_test_id("mlops-version-row")).to_have_count(2)
    expect(detail.get_by_test_id("mlops-versions-count")).to_have_text("2 of 2 versions")
    v1 = version_row(detail, 1)
    expect(v1.get_by_test_id("mlops-alias")).to_have_text(["champion"])
    expect(v1.get_by_test_id("mlops-flavor")).to_have_text("sklearn-skops")
    served_v1 = next(v for v in served["versions"] if v["version"] == 1)
    # Three metrics, the most looked-at first, valued as the API has them.
    metrics = v1.get_by_test_id("mlops-metric")
    expect(metrics).to_have_count(3)
    expect(metrics.first).to_have_attribute("data-metric", "roc_auc")
    for i in range(3):
        name = metrics.nth(i).get_attribute("data-metric") or ""
        expect(metrics.nth(i).locator(".jp-mlops-metric-value")).to_have_text(
            fmt(served_v1["metrics"][name])
        )
    expect(version_row(detail, 2).get_by_test_id("mlops-alias")).to_have_count(0)
    history = detail.get_by_test_id("mlops-history-row")
    expect(history).to_have_count(len(served["history"]))
    expect(history.first.get_by_test_id("mlops-history-to")).to_have_text("v1")
    page.screenshot(path=screenshots_dir / "models-detail.png", clip=CLIP)

    # Promote v2 to champion: the reason is required.
    version_row(detail, 2).get_by_test_id("mlops-promote").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog.get_by_test_id("mlops-promote-alias")).to_have_value("champion")
    dialog.locator(".jp-mod-accept").click()
    expect(dialog.get_by_test_id("mlops-promote-problem")).to_contain_text("A reason is required")
    expect(dialog.get_by_test_id("mlops-promote-alias")).to_have_value("champion")
    dialog.get_by_test_id("mlops-promote-reason").fill("Beats v1 on the holdout")
    page.screenshot(path=screenshots_dir / "models-promote-dialog.png")
    dialog.locator(".jp-mod-accept").click()
    expect(dialog).to_have_count(0)
    expect(detail.get_by_test_id("mlops-models-notice")).to_have_text("champion: v1 → v2")
    expect(version_row(detail, 2).get_by_test_id("mlops-alias")).to_have_text(["champion"])
    expect(version_row(detail, 1).get_by_test_id("mlops-alias")).to_have_count(0)
    expect(history).to_have_count(len(served["history"]) + 1)
    newest = history.first
    expect(newest).to_have_attribute("data-alias", "champion")
    expect(newest.get_by_test_id("mlops-history-from")).to_have_text("v1")
    expect(newest.get_by_test_id("mlops-history-to")).to_have_text("v2")
    expect(newest.get_by_test_id("mlops-history-reason")).to_have_text("Beats v1 on the holdout")
    assert api(server, "models/churn")["aliases"]["champion"] == 2

    # A bad alias: the server's refusal is shown in the view, and nothing moved.
    version_row(detail, 1).get_by_test_id("mlops-promote").click()
    dialog.get_by_test_id("mlops-promote-alias").fill("not an alias!")
    dialog.get_by_test_id("mlops-promote-reason").fill("typo")
    dialog.locator(".jp-mod-accept").click()
    error = detail.get_by_test_id("mlops-models-action-error")
    expect(error).to_contain_text("The alias was not moved")
    expect(error).to_contain_text("alias: 'not an alias!' is not valid")
    expect(history).to_have_count(len(served["history"]) + 1)
    error.locator(".jp-mlops-error-dismiss").click()
    expect(error).to_have_count(0)

    # A version: signature and lineage, from the demo's training run.
    version_row(detail, 1).locator(".jp-mlops-version-open").click()
    version = panel.get_by_test_id("mlops-version-detail")
    expect(version.get_by_test_id("mlops-version-name")).to_have_text("churn v1")
    served_version = api(server, "models/churn/versions/1")
    signature = served_version["signature"]
    inputs = version.get_by_test_id("mlops-signature-input")
    expect(inputs).to_have_count(len(signature["inputs"]))
    expect(inputs.first.locator("td").first).to_have_text(signature["inputs"][0]["name"])
    expect(inputs.first.locator("code")).to_have_text(signature["inputs"][0]["dtype"])
    expect(version.get_by_test_id("mlops-signature-output")).to_have_text("classification")
    expect(fact(version, "training_dataset")).to_have_text(served_version["training_dataset"])
    views = version.get_by_test_id("mlops-lineage-feature-view")
    expect(views).to_have_text(served_version["feature_views"])
    run_id = served_version["run_id"]
    expect(version.get_by_test_id("mlops-lineage-run")).to_contain_text(run_id)
    expect(version.get_by_test_id("mlops-lineage-stage")).to_have_text(served_version["stage"])
    expect(version.get_by_test_id("mlops-lineage-notebook")).to_have_text(
        served_version["notebook"]
    )
    expect(version.get_by_test_id("mlops-lineage-notebook-hash")).to_have_text(
        served_version["notebook_hash"][:12]
    )
    # The bundle packaged from it: where, from which reference, the archive's hash.
    (bundle,) = served_version["bundles"]
    packaged = version.get_by_test_id("mlops-version-bundle")
    expect(packaged).to_have_count(1)
    expect(packaged.locator("code").first).to_have_text(bundle["path"])
    expect(packaged).to_contain_text("from churn/1 · ")
    expect(packaged).to_contain_text(bundle["artifact_hash"][:12])
    expect(packaged).to_contain_text("by ci")
    version.get_by_test_id("mlops-version-bundles").screenshot(
        path=screenshots_dir / "models-version-bundles.png"
    )
    page.screenshot(path=screenshots_dir / "models-version.png", clip=CLIP)

    # The executed notebook opens in the main area, read from the run's record.
    version.get_by_test_id("mlops-lineage-executed").click()
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")).to_be_visible()
    expect(page.locator(".lm-DockPanel-tabBar .lm-mod-current")).to_contain_text(".ipynb")

    # A feature view link shows the Features view; the run link the Runs view.
    if served_version["feature_views"]:
        views.first.click()
        expect(panel.locator(".jp-mlops-tabs .lm-mod-current")).to_have_text("Features")
        panel.locator(".jp-mlops-tabs .lm-TabBar-tab", has_text="Models").click()
    version.get_by_test_id("mlops-lineage-run").click()
    expect(panel.locator(".jp-mlops-tabs .lm-mod-current")).to_have_text("Runs")
    runs = panel.get_by_test_id("mlops-runs")
    expect(runs.locator(f'[data-testid="mlops-run"][data-run-id="{run_id}"]')).to_be_visible()

    # Back in Models: still on the version; back to the model, then the list.
    panel.locator(".jp-mlops-tabs .lm-TabBar-tab", has_text="Models").click()
    expect(version.get_by_test_id("mlops-version-name")).to_have_text("churn v1")
    version.get_by_test_id("mlops-version-back").click()
    expect(detail.get_by_test_id("mlops-model-name")).to_have_text("churn")
    detail.get_by_test_id("mlops-model-back").click()
    expect(model_row(panel, "churn").get_by_test_id("mlops-alias")).to_have_text(["championv2"])


def test_trusted_pickle_paging_and_dark_theme(
    start_lab: LabFactory,
    page: Page,
    tmp_path: Path,
    demo: Path,
    screenshots_dir: Path,
) -> None:
    root = churn_demo(demo, tmp_path / "dark")
    server = start_lab(root, init=False, theme="JupyterLab Dark")
    server.python(REGISTER, str(root))
    server.python(REGISTER_MANY, str(root), "50")  # 52 models

    panel = open_view(page, server, "Models")
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    models = panel.get_by_test_id("mlops-models")
    expect(models.get_by_test_id("mlops-model-row")).to_have_count(50)
    expect(models.get_by_test_id("mlops-models-count")).to_have_text("50 of 52 models")
    models.get_by_test_id("mlops-models-more").click()
    expect(models.get_by_test_id("mlops-model-row")).to_have_count(52)
    expect(models.get_by_test_id("mlops-models-more")).to_have_count(0)

    models.get_by_test_id("mlops-models-search").fill("churn")
    expect(models.get_by_test_id("mlops-model-row")).to_have_count(1)
    page.screenshot(path=screenshots_dir / "models-list-dark.png", clip=CLIP)
    model_row(panel, "churn").locator(".jp-mlops-model-open").click()
    detail = panel.get_by_test_id("mlops-model-detail")
    expect(detail.get_by_test_id("mlops-version-row")).to_have_count(2)
    page.screenshot(path=screenshots_dir / "models-detail-dark.png", clip=CLIP)
    version_row(detail, 1).locator(".jp-mlops-version-open").click()
    version = panel.get_by_test_id("mlops-version-detail")
    expect(version.get_by_test_id("mlops-signature-input").first).to_be_visible()
    page.screenshot(path=screenshots_dir / "models-version-dark.png", clip=CLIP)
    version.get_by_test_id("mlops-version-back").click()
    detail.get_by_test_id("mlops-model-back").click()

    # A trusted pickle is flagged, in the list of versions and in the version.
    models.get_by_test_id("mlops-models-search").fill("lookup")
    expect(models.get_by_test_id("mlops-model-row")).to_have_count(1)
    model_row(panel, "lookup").locator(".jp-mlops-model-open").click()
    flavor = version_row(detail, 1).get_by_test_id("mlops-flavor")
    expect(flavor).to_have_text("pickle (trusted)")
    expect(flavor).to_have_attribute("data-trusted", "yes")
    expect(detail.get_by_test_id("mlops-history-empty")).to_be_visible()
    version_row(detail, 1).locator(".jp-mlops-version-open").click()
    expect(version.get_by_test_id("mlops-flavor")).to_have_text("pickle (trusted)")
    expect(version.get_by_test_id("mlops-signature")).to_contain_text("No signature")
    expect(fact(version, "run")).to_have_text("\u2013")  # an en dash: no run
    expect(version.get_by_test_id("mlops-lineage-executed")).to_have_count(0)
    page.screenshot(path=screenshots_dir / "models-pickle-dark.png", clip=CLIP)
    assert re.search(r"pickle", api(server, "models/lookup/versions/1")["flavor"])

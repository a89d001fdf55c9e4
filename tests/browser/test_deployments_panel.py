"""The Deployments view of the MLOps sidebar, and the Models view's "Try a prediction".

Real JupyterLab on a copy of the demo workspace after `mlops-lab run churn` (which
registers and promotes `churn` and opens a drift alert), a real `mlops-lab serve`
subprocess with a challenger on a free loopback port, predictions sent to it over
HTTP, Debian Chromium.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import open_mlops
from deployments_support import (
    RAW,
    api,
    copy_demo,
    send_predictions,
)
from playwright.sync_api import Locator, Page, expect

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory, LabServer

pytestmark = pytest.mark.browser

PANEL = "#mlops-lab-panel"
# The sidebar and part of the main area.
CLIP = {"x": 0, "y": 0, "width": 760, "height": 800}
SIDEBAR_WIDTH = 520
SENT = 50


def open_view(page: Page, server: LabServer, view: str) -> Locator:
    """Load JupyterLab, open the MLOps sidebar (made wider) and show one of its views."""
    return open_mlops(page, server.lab_url, view=view, width=SIDEBAR_WIDTH)


@pytest.mark.allow_console_error(
    r"status of 502 \(Bad Gateway\)",
    reason="the test stops the model server: a poll in flight then finds it gone",
)
def test_deployment_traffic_split_rollback_stop_and_alerts(
    start_lab: LabFactory,
    serve: Any,
    page: Page,
    demo: Path,
    tmp_path: Path,
    screenshots_dir: Path,
) -> None:
    root = copy_demo(demo, tmp_path / "demo")
    server = start_lab(root, init=False)
    model_server = serve(server)
    statuses = send_predictions(model_server, SENT)
    assert statuses.get(200, 0) > 0, statuses
    _, listed = api(server, "deployments")
    (deployment,) = listed["deployments"]
    assert deployment["alive"] and deployment["split"] == 0.2, deployment
    _, alerts = api(server, "alerts?status=open")
    drift = next(a for a in alerts["alerts"] if a["kind"] == "drift")
    # Acknowledged is still to act on: the view keeps showing it, marked.
    status, _ = api(server, f"alerts/{drift['id']}/acknowledge", {"reason": "looking into it"})
    assert status == 200

    panel = open_view(page, server, "Deployments")
    expect(panel.locator(".jp-mlops-tabs .lm-TabBar-tab")).to_have_text(
        ["Overview", "Features", "Models", "Evaluations", "Handoffs", "Deployments", "Runs"]
    )
    row = panel.locator(
        f'[data-testid="mlops-deployment-row"][data-deployment-id="{deployment["id"]}"]'
    )
    expect(row.locator(".jp-mlops-dp-row-name")).to_have_text("churn@champion")
    expect(row.get_by_test_id("mlops-deployment-liveness")).to_have_text("alive")
    expect(row.get_by_test_id("mlops-deployment-versions")).to_have_text(
        "champion v1·challenger churn@champion v1"
    )
    expect(row.get_by_test_id("mlops-deployment-split-share")).to_have_text("20%")
    requests = row.get_by_test_id("mlops-deployment-requests")
    expect(requests).to_have_attribute("data-requests", str(SENT))
    errors = SENT - statuses.get(200, 0)
    expect(requests).to_have_attribute("data-errors", str(errors))
    expect(requests).to_contain_text(f"{SENT} requests")
    expect(row.get_by_test_id("mlops-deployment-latency")).to_have_count(2)
    expect(row.locator(".jp-mlops-dp-url")).to_have_text(model_server.url)

    # The acknowledged drift alert, with the columns that drifted.
    alert = panel.locator(f'[data-testid="mlops-deployments-alert"][data-alert-id="{drift["id"]}"]')
    expect(alert).to_have_attribute("data-status", "acknowledged")
    expect(alert.get_by_test_id("mlops-alert-acknowledged")).to_contain_text("Acknowledged by")
    expect(alert.get_by_test_id("mlops-alert-acknowledged")).to_contain_text("looking into it")
    expect(alert.get_by_test_id("mlops-alert-kind")).to_have_text("drift")
    expect(alert.get_by_test_id("mlops-alert-pipeline")).to_have_text(drift["pipeline"])
    expect(alert.get_by_test_id("mlops-alert-message")).to_have_text(drift["message"])
    drifted = alert.locator('[data-key="drifted"] .jp-mlops-dp-chip')
    expect(drifted).to_have_text(drift["data"]["drifted"])
    page.screenshot(path=screenshots_dir / "deployments-list.png", clip=CLIP)

    # The deployment: its variants, split history and features.
    row.locator(".jp-mlops-dp-open").click()
    detail = panel.get_by_test_id("mlops-deployment-detail")
    expect(detail.get_by_test_id("mlops-deployment-ref")).to_have_text("churn@champion")
    variants = detail.get_by_test_id("mlops-variant-row")
    expect(variants.first).to_have_attribute("data-variant", "champion")
    expect(detail.locator('[data-variant="champion"] [data-column="version"]')).to_have_text("v1")
    expect(detail.get_by_test_id("mlops-deployment-total")).to_contain_text(f"{SENT} requests")
    expect(detail.get_by_test_id("mlops-split-change")).to_have_count(1)
    expect(detail.get_by_test_id("mlops-online-features-variant")).to_have_count(2)
    expect(detail.get_by_test_id("mlops-feature-freshness")).to_contain_text("customer_spend")
    expect(detail.locator('[data-fact="log_folder"]')).to_contain_text(".mlops_lab/predictions")

    # 50% with a reason: the server itself takes it, and the history keeps the reason.
    control = detail.get_by_test_id("mlops-split-control")
    control.locator('[data-testid="mlops-split-preset"][data-split="0.5"]').click()
    apply = control.get_by_test_id("mlops-split-apply")
    expect(apply).to_be_disabled()
    expect(control.get_by_test_id("mlops-split-hint")).to_be_visible()
    control.get_by_test_id("mlops-split-reason").fill("Challenger holds up at 20%")
    expect(apply).to_have_text("Set challenger to 50%")
    apply.click()
    expect(detail.get_by_test_id("mlops-deployments-notice")).to_have_text(
        "Split: challenger 20% → 50%"
    )
    assert model_server.call("/metadata")[1]["split"] == 0.5
    newest = detail.get_by_test_id("mlops-split-change").first
    expect(newest.locator('[data-column="reason"]')).to_have_text("Challenger holds up at 20%")
    expect(newest.locator('[data-column="to"]')).to_have_text("50%")
    expect(control.get_by_test_id("mlops-deployment-split-share")).to_have_text("50%")
    page.screenshot(path=screenshots_dir / "deployments-detail.png", clip=CLIP)

    # Roll back: asks first; cancelling changes nothing.
    control.get_by_test_id("mlops-rollback").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Send all traffic back to the champion churn@champion (v1)")
    dialog.locator(".jp-mod-reject").click()
    expect(dialog).to_have_count(0)
    assert model_server.call("/metadata")[1]["split"] == 0.5
    control.get_by_test_id("mlops-rollback").click()
    dialog.get_by_test_id("mlops-rollback-reason").fill("Latency regression")
    page.screenshot(path=screenshots_dir / "deployments-rollback-dialog.png")
    dialog.locator(".jp-mod-accept").click()
    expect(dialog).to_have_count(0)
    expect(detail.get_by_test_id("mlops-deployments-notice")).to_have_text(
        "Rolled back: challenger 50% → 0%"
    )
    expect(control.get_by_test_id("mlops-deployment-split-share")).to_have_text("0%")
    assert model_server.call("/metadata")[1]["split"] == 0
    expect(newest.locator('[data-column="reason"]')).to_have_text("Latency regression")
    expect(control.get_by_test_id("mlops-rollback")).to_be_disabled()

    # Stopped: it leaves the running list (the view polls) for the Stopped section.
    detail.get_by_test_id("mlops-deployment-back").click()
    model_server.stop()
    _, everything = api(server, "deployments?all=true")
    (stopped,) = everything["deployments"]
    assert stopped["status"] == "stopped" and stopped["counts"], stopped
    list_ = panel.get_by_test_id("mlops-deployments")
    expect(list_.get_by_test_id("mlops-deployments-empty")).to_be_visible(timeout=15_000)
    expect(row).to_have_count(0)
    section = list_.get_by_test_id("mlops-deployments-stopped")
    section.locator("summary").click()
    stopped_row = section.get_by_test_id("mlops-deployment-stopped-row")
    expect(stopped_row.get_by_test_id("mlops-deployment-liveness")).to_have_text("stopped")
    counts = stopped_row.locator(".jp-mlops-dp-counts")
    for key in ("appended", "written", "files"):
        expect(counts).to_have_attribute(f"data-{key}", str(stopped["counts"][key]))
    assert stopped["counts"]["appended"] == statuses.get(200, 0)
    page.screenshot(path=screenshots_dir / "deployments-stopped.png", clip=CLIP)


@pytest.mark.allow_console_error(
    r"status of 400 \(Bad Request\)",
    reason="a prediction with an unknown feature is refused on purpose",
)
def test_try_prediction_and_dark_theme(
    start_lab: LabFactory,
    serve: Any,
    page: Page,
    demo: Path,
    tmp_path: Path,
    screenshots_dir: Path,
) -> None:
    root = copy_demo(demo, tmp_path / "demo")
    server = start_lab(root, init=False, theme="JupyterLab Dark")
    model_server = serve(server)
    send_predictions(model_server, 10)
    body = {"ref": "churn/1", "entity": {"customer_id": "c00001"}, "features": RAW}
    status, expected = api(server, "models/churn/predict", body)
    assert status == 200, expected
    # No purchases known: empty windows, but the offline features are missing (not sent).
    status, unknown = api(server, "models/churn/predict", {"entity": {"customer_id": "nobody"}})
    assert status == 400 and "days_since_last" in unknown["error"]["message"], unknown

    panel = open_view(page, server, "Deployments")
    row = panel.get_by_test_id("mlops-deployment-row")
    expect(row.get_by_test_id("mlops-deployment-requests")).to_have_attribute("data-requests", "10")
    page.screenshot(path=screenshots_dir / "deployments-list-dark.png", clip=CLIP)
    row.locator(".jp-mlops-dp-open").click()
    expect(panel.get_by_test_id("mlops-split-control")).to_be_visible()
    page.screenshot(path=screenshots_dir / "deployments-detail-dark.png", clip=CLIP)

    # Models: churn v1, try a prediction with raw features.
    panel.locator(".jp-mlops-tabs .lm-TabBar-tab", has_text="Models").click()
    panel.locator(
        '[data-testid="mlops-model-row"][data-model="churn"] .jp-mlops-model-open'
    ).click()
    detail = panel.get_by_test_id("mlops-model-detail")
    detail.locator(
        '[data-testid="mlops-version-row"][data-version="1"] .jp-mlops-version-open'
    ).click()
    version = panel.get_by_test_id("mlops-version-detail")
    tryout = version.get_by_test_id("mlops-try-predict")
    tryout.locator("summary").click()
    box = tryout.get_by_test_id("mlops-try-input")
    # The request starts as a training row once it is fetched; typing replaces it.
    expect(tryout.get_by_test_id("mlops-try-source")).to_contain_text("Prefilled with row")
    expect(box).to_have_value(re.compile(r'"customer_id": "c\d+"'))
    box.fill(json.dumps({"entity": {"customer_id": "c00001"}, "features": RAW}, indent=2))
    tryout.get_by_test_id("mlops-try-predict-button").click()
    answer = tryout.get_by_test_id("mlops-try-answer")
    score = answer.locator('[data-fact="score"]')
    expect(score).to_be_visible()
    assert float(score.get_attribute("data-value") or "nan") == expected["score"]
    expect(answer.locator('[data-fact="version"]')).to_have_text("churn v1")
    expect(answer.locator('[data-fact="label"]')).to_have_text(json.dumps(expected["label"]))
    online = answer.locator('[data-fact="stale_features"]')
    expect(online).to_contain_text("customer_spend")  # a window view: as of the request
    expect(online.locator('[data-stale="true"]')).to_have_count(0)
    tryout.scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "models-try-predict-dark.png", clip=CLIP)

    # Missing features: the server's message, and no answer.
    box.fill('{"entity": {"customer_id": "nobody"}}')
    tryout.get_by_test_id("mlops-try-predict-button").click()
    error = tryout.get_by_test_id("mlops-try-error")
    expect(error).to_contain_text(unknown["error"]["message"])
    expect(answer).to_have_count(0)

    # Not JSON: said before anything is sent.
    box.fill("{entity:")
    tryout.get_by_test_id("mlops-try-predict-button").click()
    expect(error).to_contain_text("The request is not valid JSON")

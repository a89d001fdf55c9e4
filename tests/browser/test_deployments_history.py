"""The Deployments view at the sidebar's default width: 5xx (the error rate) apart from 4xx,
the traffic charts over time, "no challenger" instead of a bare "none", both themes.

Real JupyterLab on a copy of the demo workspace after `mlops-lab run churn`, real
`mlops-lab serve` subprocesses (a canary, and one without a challenger), requests sent over
HTTP (answered, refused as the client's error), Debian Chromium; the test fails on any
console error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import open_mlops, switch_theme
from deployments_support import (
    ModelServers,
    api,
    copy_demo,
    send_predictions,
)
from playwright.sync_api import Locator, Page, expect

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory

pytestmark = pytest.mark.browser

PANEL = "#mlops-lab-panel"
ANSWERED = 30
REFUSED = 6  # features missing: 422, the client's error


def open_deployments(page: Page, lab_url: str) -> Locator:
    """Load JupyterLab, open the MLOps sidebar at its default width, show Deployments."""
    return open_mlops(page, lab_url, view="Deployments")


def sidebar_clip(page: Page) -> dict[str, float]:
    """The sidebar as it is (its default width) and a strip of the main area beside it."""
    box = page.locator(PANEL).bounding_box()
    assert box is not None
    return {"x": 0, "y": 0, "width": box["x"] + box["width"] + 40, "height": 800}


def test_errors_apart_charts_over_time_and_no_challenger(
    start_lab: LabFactory,
    serve: ModelServers,
    page: Page,
    demo: Path,
    tmp_path: Path,
    screenshots_dir: Path,
    console_errors: list[str],
) -> None:
    root = copy_demo(demo, tmp_path / "demo")
    server = start_lab(root, init=False)
    canary = serve(server)
    solo = serve(server, challenger=False)
    statuses = send_predictions(canary, ANSWERED)
    assert statuses == {200: ANSWERED}, statuses
    for i in range(REFUSED):  # offline features missing: the client's error
        status, _ = canary.call("/predict", {"entity": {"customer_id": f"c{i + 1:05d}"}})
        assert status == 422
    _, listed = api(server, "deployments")
    by_url = {d["url"]: d for d in listed["deployments"]}
    deployment = by_url[canary.url]
    errors = deployment["metrics"]["errors"]
    assert sum(e["client_errors"] for e in errors.values()) == REFUSED
    assert sum(e["server_errors"] for e in errors.values()) == 0
    _, history = api(server, f"deployments/{deployment['id']}/history")
    counted = [c for b in history["buckets"] for c in b["variants"].values()]
    assert sum(c["requests"] for c in counted) == ANSWERED + REFUSED

    panel = open_deployments(page, server.lab_url)
    width = page.locator(PANEL).bounding_box()
    assert width is not None and width["width"] < 320  # the default sidebar, not widened

    # The list: the error rate is the 5xx rate, 0%; the 4xx shown beside it, apart.
    row = panel.locator(
        f'[data-testid="mlops-deployment-row"][data-deployment-id="{deployment["id"]}"]'
    )
    requests = row.get_by_test_id("mlops-deployment-requests")
    expect(requests).to_have_attribute("data-requests", str(ANSWERED + REFUSED))
    expect(requests).to_have_attribute("data-errors", "0")
    expect(requests).to_have_attribute("data-client-errors", str(REFUSED))
    expect(row.get_by_test_id("mlops-deployment-error-rate")).to_have_text("0% 5xx")
    expect(row.get_by_test_id("mlops-deployment-client-error-rate")).to_have_text("17% 4xx")
    # A server without a challenger says so, not "none".
    alone = panel.locator(
        f'[data-testid="mlops-deployment-row"][data-deployment-id="{by_url[solo.url]["id"]}"]'
    )
    expect(alone.get_by_test_id("mlops-deployment-split-share")).to_have_text("no challenger")
    running = panel.locator('[aria-label="Running deployments"]')
    expect(running).not_to_contain_text(re.compile(r"\bnone\b"))
    page.screenshot(path=screenshots_dir / "deployments-history-list.png", clip=sidebar_clip(page))

    # The deployment: 5xx and 4xx columns per variant, then the charts over time.
    row.locator(".jp-mlops-dp-open").click()
    detail = panel.get_by_test_id("mlops-deployment-detail")
    for variant, counts in errors.items():
        line = detail.locator(f'[data-testid="mlops-variant-row"][data-variant="{variant}"]')
        server_errors = line.locator('[data-column="server-errors"]')
        expect(server_errors).to_have_attribute("data-count", "0")
        expect(server_errors).to_have_text("0%")
        client = line.locator('[data-column="client-errors"]')
        expect(client).to_have_attribute("data-count", str(counts["client_errors"]))
    expect(detail.get_by_test_id("mlops-deployment-total")).to_contain_text(
        f"{ANSWERED + REFUSED} requests·0% 5xx·17% 4xx"
    )
    charts = detail.get_by_test_id("mlops-deployment-history")
    for chart in ("requests", "latency", "errors"):
        expect(charts.get_by_test_id(f"mlops-history-{chart}")).to_have_attribute(
            "data-drawn", "true"
        )
    key = charts.get_by_test_id("mlops-history-key")
    expect(key.locator("[data-variant]")).to_have_text(["champion", "challenger"])
    expect(charts).to_contain_text("5xx")
    expect(charts).to_contain_text("4xx")
    # The requests chart draws a line per variant (plotly's own SVG).
    lines = charts.get_by_test_id("mlops-history-requests").locator(".scatterlayer .trace")
    expect(lines).to_have_count(2)
    charts.scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "deployments-history-light.png", clip=sidebar_clip(page))

    # Dark: the charts redraw in the theme's colours, and nothing fails.
    switch_theme(page, "JupyterLab Dark")
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    expect(charts.get_by_test_id("mlops-history-requests")).to_have_attribute("data-drawn", "true")
    page.wait_for_function(
        """() => {
          const svg = document.querySelector('[data-testid="mlops-history-requests"] .main-svg');
          return svg !== null && !getComputedStyle(svg).backgroundColor.includes('255, 255, 255');
        }"""
    )
    charts.scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "deployments-history-dark.png", clip=sidebar_clip(page))
    detail.get_by_test_id("mlops-deployment-back").click()
    expect(alone.get_by_test_id("mlops-deployment-split-share")).to_have_text("no challenger")
    page.screenshot(
        path=screenshots_dir / "deployments-history-list-dark.png", clip=sidebar_clip(page)
    )

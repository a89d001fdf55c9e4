"""Data checks in the Features panel (issue #18): each version's source dataset carries its
checks' status, and the detail lists the failing checks with their sample rows. Light and
dark themes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import shoot
from playwright.sync_api import Page, expect
from test_features_panel import CLIP, open_features, open_view

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory

pytestmark = pytest.mark.browser

CHECKS = """
datasets:
  tx:
    checks:
      columns:
        customer_id: {dtype: string, nulls: false}
        amount: {dtype: float, min: 0}
      rows: {min: 2}
"""

# tx v1 passes its checks, v2 (a null customer, two negative amounts) fails two of them;
# `spend` v1 is computed from tx v1, v2 from tx v2.
SETUP = """
import sys, warnings
import pandas as pd
import mlops_lab
from mlops_lab.datasets import save_dataset

ws = mlops_lab.open_workspace(sys.argv[1])
store = ws.features
at = pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-05", "2026-01-06"], utc=True)
save_dataset(ws, "tx", pd.DataFrame({
    "customer_id": ["a", "b", "a", "c"], "at": at, "amount": [1.0, 2.0, 3.0, 4.0],
}))
store.register_entity("customer", ["customer_id"])
spec = dict(entity="customer", source="tx", timestamp="at", owner="growth",
            aggregations=[{"column": "amount", "functions": ["sum"], "windows": ["7d"]}])
store.register_feature_view("spend", **spec)
warnings.simplefilter("ignore")
save_dataset(ws, "tx", pd.DataFrame({
    "customer_id": ["a", None, "a", "c"], "at": at, "amount": [1.0, -2.0, 3.0, -4.5],
}))
store.register_feature_view("spend", **spec)
"""


def test_source_checks_status_and_failing_rows(
    start_lab: LabFactory,
    page: Page,
    tmp_path: Path,
    screenshots_dir: Path,
    console_errors: list[str],
) -> None:
    root = tmp_path / "shop"
    server = start_lab(root)
    with (root / "mlops_lab.yaml").open("a") as config:
        config.write(CHECKS)
    server.python(SETUP, str(root))

    panel = open_features(page, server)
    detail = open_view(panel, "spend")
    expect(detail.get_by_test_id("mlops-fv-name")).to_have_text("spend")
    expect(detail.get_by_test_id("mlops-fv-source-checks")).to_have_text("2 failed")
    checks = detail.get_by_test_id("mlops-fv-checks")
    expect(checks).to_have_attribute("open", "")  # failing: open at once
    expect(checks.get_by_test_id("mlops-fv-checks-badge")).to_have_text("2 failed")
    items = checks.locator(".jp-mlops-datacheck")
    expect(items).to_have_count(5)
    failing = checks.locator('.jp-mlops-datacheck[data-passed="false"]')
    expect(failing).to_have_count(2)
    expect(failing.nth(0)).to_have_attribute("data-check", "columns.customer_id.nulls")
    expect(failing.nth(1)).to_have_attribute("data-check", "columns.amount.min")
    samples = failing.nth(1).get_by_test_id("mlops-check-sample")
    expect(samples.locator("tbody tr")).to_have_count(2)
    expect(samples.locator("thead th").nth(1)).to_have_text("amount")  # its column first
    expect(samples.locator("tbody tr").nth(1).locator("td")).to_contain_text(["3", "-4.5"])
    checks.scroll_into_view_if_needed()
    shoot(page, screenshots_dir / "features-data-checks-{theme}.png", clip=CLIP)

    versions = detail.get_by_test_id("mlops-fv-versions")
    versions.locator("summary").click()
    badges = versions.locator(".jp-mlops-fv-versions .jp-mlops-datacheck-badge")
    expect(badges).to_have_text(["2 failed", "checks passed"])  # v2 first
    versions.scroll_into_view_if_needed()
    shoot(page, screenshots_dir / "features-data-checks-versions-{theme}.png", clip=CLIP)

    # An older version: its source passed every check, the section stays folded.
    versions.locator('[data-version="1"] button').click()
    expect(detail.get_by_test_id("mlops-fv-source-checks")).to_have_text("checks passed")
    expect(detail.get_by_test_id("mlops-fv-checks")).not_to_have_attribute("open", "")

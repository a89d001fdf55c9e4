"""Features view details (issue #15, item 7): a row opens on a click anywhere but its
chips, the definition as highlighted Python and SQL, consumers grouped by the features
they use, dates with times. At JupyterLab's default sidebar width, light and dark.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import shoot
from playwright.sync_api import Locator, Page, expect
from test_features_panel import CLIP, open_features, open_section, register, rows

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory

pytestmark = pytest.mark.browser

# A view with a SQL transform, and a second training frame using the same features as
# `train` (so two consumers share one feature set), and one using a single feature.
MORE = """
import sys
import pandas as pd
import mlops_lab

store = mlops_lab.open_workspace(sys.argv[1]).features
store.register_feature_view(
    "spend_sql", entity="customer", source="tx", timestamp="at", owner="growth",
    transform='SELECT customer_id, "at", amount * 2 AS doubled FROM source WHERE amount > 0',
    description="Doubled amounts, by SQL.",
)
entity_df = pd.DataFrame({
    "customer_id": ["a", "b"],
    "event_timestamp": pd.to_datetime(["2026-01-06", "2026-01-06"], utc=True),
})
both = ["spend:amount_sum_7d", "spend:amount_sum_30d"]
store.save_training_frame("train_again", store.get_training_frame(entity_df, both))
store.save_training_frame("train_small", store.get_training_frame(entity_df, both[:1]))
"""

# A date with its time, as formatDateTime writes it (e.g. "Dec 1, 2026, 2:40 AM").
DATE_TIME = re.compile(r"\b20\d\d\b.*\d{1,2}:\d\d")


def row(panel: Locator, view: str) -> Locator:
    return panel.locator(f'[data-testid="mlops-fv-row"][data-view="{view}"]')


def click_middle(page: Page, target: Locator) -> None:
    """Click the middle of an element, as a user aiming at a row would."""
    box = target.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_feature_rows_definitions_consumers_and_dates(
    start_lab: LabFactory,
    page: Page,
    tmp_path: Path,
    screenshots_dir: Path,
    console_errors: list[str],
) -> None:
    root = tmp_path / "shop"
    server = start_lab(root)
    register(server)
    server.python(MORE, str(root))

    panel = open_features(page, server)  # the sidebar at its default width
    expect(rows(panel)).to_have_count(3)
    spend = row(panel, "spend")
    shoot(page, screenshots_dir / "features-rows-{theme}.png", clip=CLIP)

    # The owner chip still filters...
    spend.locator(".jp-mlops-owner").click()
    expect(panel.get_by_test_id("mlops-features-owner")).to_have_value("growth")
    expect(rows(panel)).to_have_count(2)
    panel.get_by_test_id("mlops-features-owner").fill("")
    expect(rows(panel)).to_have_count(3)
    # ...but a click in the middle of the row, or on the empty space beside the chips,
    # opens the view.
    click_middle(page, spend)
    detail = panel.get_by_test_id("mlops-fv-detail")
    expect(detail.get_by_test_id("mlops-fv-name")).to_have_text("spend")
    detail.get_by_test_id("mlops-fv-back").click()
    labels = row(panel, "spend").locator(".jp-mlops-fv-row-labels")
    box = labels.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] - 4, box["y"] + box["height"] / 2)
    expect(detail.get_by_test_id("mlops-fv-name")).to_have_text("spend")

    # Versions carry a date and a time, not a bare time.
    versions = open_section(detail, "mlops-fv-versions")
    for time in versions.locator(".jp-mlops-fv-versions time").all():
        expect(time).to_have_text(DATE_TIME)

    # Consumers: each once; a feature set shown once for all consumers using it.
    consumers = open_section(detail, "mlops-fv-consumers")
    expect(consumers.get_by_test_id("mlops-consumer")).to_have_count(3)
    sets = consumers.get_by_test_id("mlops-consumer-set")
    expect(sets).to_have_count(2)
    expect(sets.nth(0).get_by_test_id("mlops-consumer-features").locator("code")).to_have_text(
        ["amount_sum_30d", "amount_sum_7d"]
    )
    assert sorted(
        sets.nth(0)
        .get_by_test_id("mlops-consumer")
        .evaluate_all("rows => rows.map(r => r.dataset.consumer)")
    ) == ["train@1", "train_again@1"]
    expect(sets.nth(1).get_by_test_id("mlops-consumer-features").locator("code")).to_have_text(
        ["amount_sum_7d"]
    )
    for time in consumers.locator("time").all():
        expect(time).to_have_text(DATE_TIME)
    consumers.scroll_into_view_if_needed()
    shoot(page, screenshots_dir / "features-consumers-{theme}.png", clip=CLIP)

    # The definition: the registration call in Python, highlighted by JupyterLab.
    definition = open_section(detail, "mlops-fv-definition")
    call = definition.get_by_test_id("mlops-fv-definition-call")
    expect(call).to_have_attribute("data-rendered", "true")
    expect(call).to_contain_text('ws.features.register_feature_view(\n    "spend",')
    expect(call).to_contain_text('source="tx@1"')
    expect(call).not_to_contain_text('"source_version"')
    assert call.locator("pre span").count() > 3, "the Python is not highlighted"
    definition.scroll_into_view_if_needed()
    shoot(page, screenshots_dir / "features-definition-{theme}.png", clip=CLIP)

    # A SQL transform is shown as SQL, highlighted.
    detail.get_by_test_id("mlops-fv-back").click()
    click_middle(page, row(panel, "spend_sql"))
    expect(detail.get_by_test_id("mlops-fv-name")).to_have_text("spend_sql")
    definition = open_section(detail, "mlops-fv-definition")
    sql = definition.get_by_test_id("mlops-fv-definition-sql")
    expect(sql).to_have_attribute("data-rendered", "true")
    expect(sql).to_contain_text('SELECT customer_id, "at", amount * 2 AS doubled FROM source')
    assert sql.locator("pre span").count() > 3, "the SQL is not highlighted"
    expect(definition.get_by_test_id("mlops-fv-definition-call")).to_contain_text(
        "transform=TRANSFORM"
    )
    definition.scroll_into_view_if_needed()
    shoot(page, screenshots_dir / "features-definition-sql-{theme}.png", clip=CLIP)

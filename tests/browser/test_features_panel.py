"""The Features view of the MLOps sidebar: search, inspect, diff and use feature views.

Real JupyterLab, feature views registered through the Python API in a subprocess
(as a notebook would), Debian Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from playwright.sync_api import Locator, Page, Request, expect

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory, LabServer

pytestmark = pytest.mark.browser

PANEL = "#mlops-lab-panel"
# The sidebar and part of the main area.
CLIP = {"x": 0, "y": 0, "width": 720, "height": 800}

# Two versions of `spend` (v2 adds the 30-day window), materialized and used by a
# saved training frame; `profile` has a text feature, a TTL and a description.
REGISTER = """
import sys
import pandas as pd
import mlops_lab
from mlops_lab.datasets import save_dataset

ws = mlops_lab.open_workspace(sys.argv[1])
store = ws.features
save_dataset(ws, "tx", pd.DataFrame({
    "customer_id": ["a", "b", "a"],
    "at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-05"], utc=True),
    "amount": [1.0, 2.0, 3.0],
}))
save_dataset(ws, "profiles", pd.DataFrame({
    "customer_id": ["a", "b", "c", "d"],
    "at": pd.to_datetime(["2026-01-01"] * 4, utc=True),
    "tier": ["gold", "silver", "gold", None],
    "age": [31, 45, 27, 60],
}))
store.register_entity("customer", ["customer_id"])
spend = dict(entity="customer", source="tx", timestamp="at", owner="growth", tags=["money"])
for windows in (["7d"], ["7d", "30d"]):
    store.register_feature_view("spend", **spend, aggregations=[
        {"column": "amount", "functions": ["sum", "avg"], "windows": windows}
    ])
store.register_feature_view(
    "profile", entity="customer", source="profiles", timestamp="at", owner="crm",
    tags=["people"], features=["tier", "age"], ttl="30d",
    description="Customer tier and age from the CRM export.",
)
store.materialize("spend")
entity_df = pd.DataFrame({
    "customer_id": ["a", "b"],
    "event_timestamp": pd.to_datetime(["2026-01-06", "2026-01-06"], utc=True),
})
frame = store.get_training_frame(entity_df, ["spend:amount_sum_7d", "spend:amount_sum_30d"])
store.save_training_frame("train", frame)
"""

# Enough views for more than one page (the panel asks for 50 at a time).
REGISTER_MANY = """
import sys
import mlops_lab

store = mlops_lab.open_workspace(sys.argv[1]).features
for i in range(int(sys.argv[2])):
    store.register_feature_view(
        f"bulk_{i:02d}", entity="customer", source="tx", timestamp="at",
        owner=f"team{i % 3}", tags=["bulk"],
        aggregations=[{"column": "amount", "functions": ["max"], "windows": ["1d"]}],
    )
"""


def register(server: LabServer, *, bulk: int = 0) -> None:
    server.python(REGISTER, str(server.root))
    if bulk:
        server.python(REGISTER_MANY, str(server.root), str(bulk))


def write_analysis_notebook(root: Path) -> None:
    notebook = new_notebook(cells=[new_code_cell("import pandas as pd"), new_code_cell("x = 1")])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, root / "analysis.ipynb")


def open_sidebar(page: Page, server: LabServer) -> Locator:
    page.goto(server.lab_url)
    tab = page.locator('.jp-SideBar .lm-TabBar-tab[data-id="mlops-lab-panel"]')
    expect(tab).to_be_visible(timeout=60_000)
    # Once restored, JupyterLab focuses the launcher: wait, so it takes no keys typed later.
    expect(page.locator(".jp-Launcher")).to_be_focused(timeout=60_000)
    tab.click()
    panel = page.locator(PANEL)
    expect(panel).to_be_visible()
    return panel


def open_features(page: Page, server: LabServer) -> Locator:
    """Load JupyterLab, open the MLOps sidebar and go to Features from the overview."""
    panel = open_sidebar(page, server)
    expect(panel.locator('.jp-mlops-count[data-kind="feature_views"]')).not_to_have_text("0")
    panel.get_by_test_id("mlops-open-features").click()
    features = panel.get_by_test_id("mlops-features")
    expect(features).to_be_visible()
    expect(panel.locator(".jp-mlops-tabs .lm-mod-current")).to_have_text("Features")
    return panel


def rows(panel: Locator) -> Locator:
    return panel.get_by_test_id("mlops-fv-row")


def expect_only_row(panel: Locator, view: str) -> None:
    """Wait until the list shows `view` and nothing else."""
    expect(panel.locator(f'[data-testid="mlops-fv-row"][data-view="{view}"]')).to_have_count(1)
    expect(rows(panel)).to_have_count(1)


def feature(detail: Locator, name: str) -> Locator:
    return detail.locator(f'[data-testid="mlops-feature"][data-feature="{name}"]')


def stat(card: Locator, key: str) -> Locator:
    return card.locator(f'[data-stat="{key}"] dd')


def open_section(detail: Locator, testid: str) -> Locator:
    section = detail.get_by_test_id(testid)
    section.locator("summary").click()
    expect(section).to_have_attribute("open", "")
    return section


def test_search_inspect_diff_and_insert_code(
    start_lab: LabFactory, page: Page, tmp_path: Path, screenshots_dir: Path
) -> None:
    root = tmp_path / "shop"
    server = start_lab(root)
    register(server)
    write_analysis_notebook(root)

    panel = open_features(page, server)
    expect(rows(panel)).to_have_count(2)
    expect(panel.get_by_test_id("mlops-features-count")).to_have_text("2 of 2 views")
    spend = panel.locator('[data-testid="mlops-fv-row"][data-view="spend"]')
    expect(spend).to_contain_text("v2")
    expect(spend.get_by_test_id("mlops-fv-row-entity")).to_have_text("customer")
    expect(spend).to_contain_text("4 features")
    expect(spend).to_contain_text("@growth")
    expect(spend.locator(".jp-mlops-tag")).to_have_text(["money"])
    # Materialized: its freshness is the newest event's age, not "not materialized".
    expect(spend.locator('.jp-mlops-freshness[data-fresh="yes"]')).to_have_attribute(
        "datetime", "2026-01-05T00:00:00+00:00"
    )
    profile = panel.locator('[data-testid="mlops-fv-row"][data-view="profile"]')
    expect(profile.locator(".jp-mlops-freshness")).to_have_text("not materialized")
    page.screenshot(path=screenshots_dir / "features-list.png", clip=CLIP)

    # A tag filters the list (exactly, on the server); clearing it brings all back.
    profile.locator(".jp-mlops-tag", has_text="people").click()
    expect(panel.get_by_test_id("mlops-features-tag")).to_have_value("people")
    expect_only_row(panel, "profile")
    panel.get_by_test_id("mlops-features-tag").fill("")
    expect(rows(panel)).to_have_count(2)

    # The search matches feature names too.
    panel.get_by_test_id("mlops-features-search").fill("amount_sum")
    expect_only_row(panel, "spend")
    panel.get_by_test_id("mlops-features-search").fill("no such thing")
    expect(panel.get_by_test_id("mlops-features-empty")).to_have_text("No feature views match.")
    panel.get_by_test_id("mlops-features-search").fill("spend")
    expect_only_row(panel, "spend")

    rows(panel).first.locator(".jp-mlops-fv-open").click()
    detail = panel.get_by_test_id("mlops-fv-detail")
    expect(detail.get_by_test_id("mlops-fv-name")).to_have_text("spend")
    expect(detail.get_by_test_id("mlops-fv-version")).to_have_value("2")
    facts = detail.get_by_test_id("mlops-fv-facts")
    expect(facts.locator('[data-fact="entity"]')).to_have_text("customer on customer_id")
    expect(facts.locator('[data-fact="source"]')).to_have_text("tx@1")
    expect(facts.locator('[data-fact="timestamp"]')).to_have_text("at")
    expect(facts.locator('[data-fact="ttl"]')).to_have_text("none")
    expect(facts.locator('[data-fact="owner"]')).to_have_text("growth")
    expect(facts.locator('[data-fact="rows"]')).to_have_text("3")

    # Every feature with its type, statistics and a histogram.
    expect(detail.get_by_test_id("mlops-feature")).to_have_count(4)
    card = feature(detail, "amount_sum_30d")
    expect(card.get_by_test_id("mlops-feature-dtype")).to_have_text("DOUBLE")
    expect(stat(card, "nulls")).to_have_text("0%")
    expect(stat(card, "min")).to_have_text("1")
    expect(stat(card, "max")).to_have_text("4")
    expect(stat(card, "mean")).to_have_text("2.33333")
    expect(stat(card, "distinct")).to_have_text("3")
    histogram = card.get_by_test_id("mlops-histogram")
    expect(histogram).to_have_attribute("data-kind", "numeric")
    expect(histogram).to_have_attribute("data-bins", "20")
    bars = histogram.locator("rect.jp-mlops-histogram-bar")
    expect(bars).to_have_count(20)
    heights = [float(bars.nth(i).get_attribute("height") or 0) for i in range(20)]
    assert [i for i, h in enumerate(heights) if h > 0] == [0, 6, 19], heights
    expect(histogram.locator("figcaption span")).to_have_text(["1", "4"])
    page.screenshot(path=screenshots_dir / "features-detail.png", clip=CLIP)

    # Versions: opening them compares the shown version with the one before.
    versions = open_section(detail, "mlops-fv-versions")
    diff = versions.get_by_test_id("mlops-diff")
    expect(diff).to_have_attribute("data-phase", "ok")
    expect(diff.get_by_test_id("mlops-diff-a")).to_have_value("1")
    expect(diff.get_by_test_id("mlops-diff-b")).to_have_value("2")
    expect(diff.get_by_test_id("mlops-diff-added")).to_have_text(
        ["+amount_avg_30d", "+amount_sum_30d"]
    )
    expect(diff.get_by_test_id("mlops-diff-removed")).to_have_count(0)
    lines = diff.get_by_test_id("mlops-diff-definition")
    expect(lines.locator('[data-line="removed"]')).to_have_text([re.compile(r'^-\s+"7d"$')])
    expect(lines.locator('[data-line="added"]')).to_have_text(
        [re.compile(r'^\+\s+"7d",$'), re.compile(r'^\+\s+"30d"$')]
    )
    versions.scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "features-diff.png", clip=CLIP)

    # The version picker shows an older version.
    detail.get_by_test_id("mlops-fv-version").select_option("1")
    expect(detail.get_by_test_id("mlops-feature")).to_have_count(2)
    expect(feature(detail, "amount_sum_30d")).to_have_count(0)
    detail.get_by_test_id("mlops-fv-version").select_option("2")
    expect(detail.get_by_test_id("mlops-feature")).to_have_count(4)

    consumers = open_section(detail, "mlops-fv-consumers")
    consumer = consumers.get_by_test_id("mlops-consumer")
    expect(consumer).to_have_attribute("data-consumer", "train@1")
    expect(consumer).to_contain_text("Training frame")
    expect(consumer.locator(".jp-mlops-consumer-features code")).to_have_text(
        ["amount_sum_30d", "amount_sum_7d"]
    )
    definition = open_section(detail, "mlops-fv-definition")
    expect(definition.locator("pre")).to_contain_text('"windows": [')

    # Insert code: with no notebook open, say so.
    detail.get_by_test_id("mlops-insert-code").click()
    notice = detail.get_by_test_id("mlops-fv-notice")
    expect(notice).to_have_attribute("data-kind", "error")
    expect(notice).to_contain_text("No notebook is open.")

    # Open the notebook from the file browser and make its first cell active.
    page.locator('.jp-SideBar .lm-TabBar-tab[data-id="filebrowser"]').click()
    page.locator(".jp-DirListing-item", has_text="analysis.ipynb").dblclick()
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    cells = notebook.locator(".jp-Cell")
    expect(cells).to_have_count(2)
    cells.first.locator(".jp-InputPrompt").click()
    expect(cells.first).to_have_class(re.compile(r"jp-mod-active"))

    # Back to the sidebar, where the view is still shown: the code goes below the active cell.
    page.locator('.jp-SideBar .lm-TabBar-tab[data-id="mlops-lab-panel"]').click()
    expect(detail.get_by_test_id("mlops-fv-name")).to_have_text("spend")
    detail.get_by_test_id("mlops-insert-code").click()
    expect(notice).to_have_attribute("data-kind", "success")
    expect(notice).to_have_text("Code inserted in analysis.ipynb.")
    expect(cells).to_have_count(3)
    expect(cells.nth(0)).to_contain_text("import pandas as pd")
    expect(cells.nth(1)).to_contain_text("get_training_frame")
    expect(cells.nth(1)).to_contain_text('"spend:amount_sum_30d"')
    expect(cells.nth(1)).to_have_class(re.compile(r"jp-mod-active"))
    expect(cells.nth(2)).to_contain_text("x = 1")
    page.screenshot(path=screenshots_dir / "features-insert-code.png")

    # Back to the list, still filtered.
    detail.get_by_test_id("mlops-fv-back").click()
    expect(panel.get_by_test_id("mlops-features-search")).to_have_value("spend")
    expect(rows(panel)).to_have_count(1)


def test_many_views_page_and_search_in_dark_theme(
    start_lab: LabFactory, page: Page, tmp_path: Path, screenshots_dir: Path
) -> None:
    root = tmp_path / "dark"
    server = start_lab(root, theme="JupyterLab Dark")
    register(server, bulk=60)  # 62 views

    searches: list[str] = []

    def record(request: Request) -> None:
        if "/mlops-lab/api/features/views?" in request.url and "q=" in request.url:
            searches.append(request.url)

    page.on("request", record)
    panel = open_features(page, server)
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")

    # One page from the server, then the next one on demand.
    expect(rows(panel)).to_have_count(50)
    expect(panel.get_by_test_id("mlops-features-count")).to_have_text("50 of 62 views")
    panel.get_by_test_id("mlops-features-more").click()
    expect(rows(panel)).to_have_count(62)
    expect(panel.get_by_test_id("mlops-features-count")).to_have_text("62 of 62 views")
    expect(panel.get_by_test_id("mlops-features-more")).to_have_count(0)

    # Typing searches once it pauses, not on every key.
    search = panel.get_by_test_id("mlops-features-search")
    search.press_sequentially("bulk_07", delay=40)
    expect_only_row(panel, "bulk_07")
    assert len(searches) <= 2, searches
    assert re.search(r"[?&]q=bulk_07(&|$)", searches[-1]), searches

    # The owner filter is exact and combines with the search.
    search.fill("bulk")
    expect(rows(panel)).to_have_count(50)
    panel.get_by_test_id("mlops-features-owner").fill("team1")
    expect(panel.get_by_test_id("mlops-features-count")).to_have_text("20 of 20 views")
    page.screenshot(path=screenshots_dir / "features-list-dark.png", clip=CLIP)

    # The list keeps its place while a view is shown.
    panel.get_by_test_id("mlops-features-owner").fill("")
    search.fill("")
    expect(rows(panel)).to_have_count(50)
    far = panel.locator('[data-testid="mlops-fv-row"][data-view="bulk_40"]')
    far.scroll_into_view_if_needed()
    far.locator(".jp-mlops-fv-open").click()
    detail = panel.get_by_test_id("mlops-fv-detail")
    expect(detail.get_by_test_id("mlops-fv-name")).to_have_text("bulk_40")
    expect(open_section(detail, "mlops-fv-versions")).to_contain_text("Only one version")
    detail.get_by_test_id("mlops-fv-back").click()
    expect(far).to_be_in_viewport()

    # A view with a text feature: its top values instead of bins; the diff in dark.
    search.fill("profile")
    expect_only_row(panel, "profile")
    rows(panel).first.locator(".jp-mlops-fv-open").click()
    detail = panel.get_by_test_id("mlops-fv-detail")
    expect(detail.get_by_test_id("mlops-fv-description")).to_have_text(
        "Customer tier and age from the CRM export."
    )
    expect(detail.get_by_test_id("mlops-fv-facts").locator('[data-fact="ttl"]')).to_have_text(
        "30 d"
    )
    tier = feature(detail, "tier")
    expect(stat(tier, "nulls")).to_have_text("25%")
    expect(stat(tier, "min")).to_have_text("gold")
    expect(stat(tier, "mean")).to_have_text("\u2013")  # no mean for text
    top = tier.get_by_test_id("mlops-histogram")
    expect(top).to_have_attribute("data-kind", "categorical")
    expect(top.locator("th")).to_have_text(["gold", "silver"])
    expect(top.locator("td.jp-mlops-num")).to_have_text(["2", "1"])
    expect(feature(detail, "age").get_by_test_id("mlops-histogram")).to_have_attribute(
        "data-kind", "numeric"
    )
    page.screenshot(path=screenshots_dir / "features-detail-dark.png", clip=CLIP)

    detail.get_by_test_id("mlops-fv-back").click()
    search.fill("spend")
    expect_only_row(panel, "spend")
    rows(panel).first.locator(".jp-mlops-fv-open").click()
    versions = open_section(panel.get_by_test_id("mlops-fv-detail"), "mlops-fv-versions")
    expect(versions.get_by_test_id("mlops-diff")).to_have_attribute("data-phase", "ok")
    versions.scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "features-diff-dark.png", clip=CLIP)

"""The Features view of the MLOps sidebar: search, inspect, diff and use feature views.

Real JupyterLab, feature views registered through the Python API in a subprocess
(as a notebook would), Debian Chromium.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import pytest
from conftest import open_mlops, switch_theme
from deployments_support import copy_demo
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
    return open_mlops(page, server.lab_url)


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

    # Every feature with its type, what it is in words, statistics and a histogram. The
    # statistics of a window are as of the source's last event (2026-01-05), one value per
    # customer: a 1 + 3 = 4, b 2.
    expect(detail.get_by_test_id("mlops-feature")).to_have_count(4)
    card = feature(detail, "amount_sum_30d")
    expect(card.get_by_test_id("mlops-feature-dtype")).to_have_text("DOUBLE")
    expect(card.get_by_test_id("mlops-feature-definition")).to_contain_text(
        "sum of amount over the 30 days up to and including the row's time"
    )
    expect(detail.get_by_test_id("mlops-fv-stats-as-of").locator("time")).to_have_attribute(
        "datetime", "2026-01-05T00:00:00+00:00"
    )
    expect(detail.get_by_test_id("mlops-fv-long-windows")).to_have_text(
        "Windows 7d, 30d longer than the source's span of 4 days: allowed"
    )
    expect(stat(card, "nulls")).to_have_text("0%")
    expect(stat(card, "min")).to_have_text("2")
    expect(stat(card, "max")).to_have_text("4")
    expect(stat(card, "mean")).to_have_text("3")
    expect(stat(card, "distinct")).to_have_text("2")
    histogram = card.get_by_test_id("mlops-histogram")
    expect(histogram).to_have_attribute("data-kind", "numeric")
    expect(histogram).to_have_attribute("data-bins", "20")
    bars = histogram.locator("rect.jp-mlops-histogram-bar")
    expect(bars).to_have_count(20)
    heights = [float(bars.nth(i).get_attribute("height") or 0) for i in range(20)]
    assert [i for i, h in enumerate(heights) if h > 0] == [0, 19], heights
    expect(histogram.locator("figcaption span")).to_have_text(["2", "4"])
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
    expect(consumers.locator(".jp-mlops-consumer-features code")).to_have_text(
        ["amount_sum_30d", "amount_sum_7d"]
    )
    definition = open_section(detail, "mlops-fv-definition")
    expect(definition.locator("pre").first).to_contain_text('"windows": ["7d", "30d"]')

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
    # A plain view: no windows in words, statistics over all its rows.
    expect(tier.get_by_test_id("mlops-feature-definition")).to_have_count(0)
    expect(detail.get_by_test_id("mlops-fv-stats-as-of")).to_have_count(0)
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


# A second window view of the demo's transactions whose 400-day window is longer than the
# source's span (allowed).
REGISTER_LONG_WINDOW = """
import sys
import mlops_lab

store = mlops_lab.open_workspace(sys.argv[1]).features
store.register_feature_view(
    "spend_400d", entity="customer", source="transactions", timestamp="event_at",
    aggregations=[{"column": "amount", "functions": ["sum"], "windows": ["400d"]}],
)
"""

# What migration 9 does to a window view computed before it: recomputed on first use.
MARK_OLD_WINDOWS = """
import sys
import mlops_lab

mlops_lab.open_workspace(sys.argv[1]).catalog.write(
    "UPDATE feature_view_versions SET table_format = 'event_windows' WHERE name = ?",
    [sys.argv[2]],
)
"""

# A model server's work: predict for the first customers of the training frame with the
# champion, logging the online values served (customer_spend's windows as of now).
SERVE = """
import sys
import mlops_lab
from mlops_lab.datasets import load_dataset
from mlops_lab.serving.predictor import Predictor
from mlops_lab.serving.predlog import PredictionLog

OFFLINE = ["days_since_last", "tenure_days", "segment_consumer", "segment_enterprise",
           "segment_smb"]
ws = mlops_lab.open_workspace(sys.argv[1])
frame = load_dataset(ws, "training_frame").set_index("customer_id")
log = PredictionLog(ws.state_dir / "predictions" / "browser-test")
predictor = Predictor(ws, "churn@champion", log=log)
for customer in frame.index[: int(sys.argv[2])]:
    row = frame.loc[customer]
    predictor.predict({"customer_id": customer}, {c: row[c].item() for c in OFFLINE})
log.close()
"""

# A served value the offline store disagrees with (as a stale online store would give).
SERVE_WRONG = """
import sys
from datetime import UTC, datetime
import mlops_lab
from mlops_lab.serving.predlog import PredictionLog

ws = mlops_lab.open_workspace(sys.argv[1])
log = PredictionLog(ws.state_dir / "predictions" / "browser-test-wrong")
log.append("wrong-1", "champion", "churn", 1, {"customer_id": "c00001"}, {}, 0.5,
           online={"customer_spend@1:amount_count_7d": 999}, features_at=datetime.now(UTC))
log.close()
"""

SERVED = 12
# The elements of a detail sticking out of the sidebar on the right (but inside a box that
# scrolls sideways: a wide table, highlighted code).
WIDER_THAN_SIDEBAR = """node => {
    const right = node.closest(".jp-mlops-panel").getBoundingClientRect().right;
    return [...node.querySelectorAll("*")]
        .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > right + 1)
        .filter(e => !e.closest(".jp-mlops-table-scroll, .jp-mlops-highlighted pre"))
        .map(e => e.className || e.tagName);
}"""
AMOUNT_SUM_7D = (
    "sum of amount over the 7 days up to and including the row's time "
    "(events with time in (t - 7d, t]; null when there are none)"
)


def open_view(panel: Locator, name: str) -> Locator:
    """Open a view of the list in detail."""
    panel.locator(f'[data-testid="mlops-fv-row"][data-view="{name}"] .jp-mlops-fv-open').click()
    return panel.get_by_test_id("mlops-fv-detail")


def get_api(server: LabServer, path: str) -> Any:
    request = urllib.request.Request(
        f"{server.base_url}/mlops-lab/api/{path}",
        headers={"Authorization": f"token {server.token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_window_view_definitions_statistics_and_consistency(
    start_lab: LabFactory,
    page: Page,
    demo: Path,
    tmp_path: Path,
    screenshots_dir: Path,
    console_errors: list[str],
) -> None:
    root = copy_demo(demo, tmp_path / "demo")
    server = start_lab(root, init=False)
    server.python(REGISTER_LONG_WINDOW, str(root))
    about = get_api(server, "features/views/customer_spend")["features"][0]["stats_as_of"]

    panel = open_features(page, server)
    expect(rows(panel)).to_have_count(2)
    detail = open_view(panel, "customer_spend")
    expect(detail.get_by_test_id("mlops-fv-name")).to_have_text("customer_spend")
    expect(detail.get_by_test_id("mlops-fv-legacy")).to_have_count(0)
    # A window view keeps its events.
    facts = detail.get_by_test_id("mlops-fv-facts")
    expect(facts.locator('dt:has-text("Events")')).to_have_count(1)

    # Each window feature in words; the statistics are as of the source's last event.
    expect(detail.get_by_test_id("mlops-feature")).to_have_count(10)
    expect(detail.get_by_test_id("mlops-feature-definition")).to_have_count(10)
    card = feature(detail, "amount_sum_7d")
    expect(card.get_by_test_id("mlops-feature-definition")).to_have_text(AMOUNT_SUM_7D)
    count = feature(detail, "amount_count_30d").get_by_test_id("mlops-feature-definition")
    expect(count).to_contain_text("number of non-null values of amount over the 30 days")
    label = detail.get_by_test_id("mlops-fv-stats-as-of")
    expect(label).to_have_text(
        re.compile(r"^Statistics as of .+ \(the source's last event\), one value per entity$")
    )
    expect(label.locator("time")).to_have_attribute("datetime", about["as_of"])
    expect(detail.get_by_test_id("mlops-fv-long-windows")).to_have_count(0)
    expect(card.get_by_test_id("mlops-histogram")).to_have_attribute("data-kind", "numeric")
    page.screenshot(path=screenshots_dir / "features-windows.png", clip=CLIP)

    # No check yet: say what a check does.
    consistency = open_section(detail, "mlops-fv-consistency")
    expect(consistency.get_by_test_id("mlops-consistency-empty")).to_have_text(
        "No consistency check yet: model servers log the values they serve; "
        "Check now compares them with the offline store."
    )
    check = consistency.get_by_test_id("mlops-consistency-check")

    # Nothing served yet: no data.
    check.click()
    latest = consistency.get_by_test_id("mlops-consistency-latest")
    expect(latest).to_have_attribute("data-verdict", "no data")
    expect(check).to_be_enabled()
    expect(latest.locator('[data-fact="rows_checked"]')).to_have_text("0")
    expect(consistency.get_by_test_id("mlops-consistency-empty")).to_have_count(0)

    # Served by the champion, then checked: every value matches the offline store.
    server.python(SERVE, str(root), str(SERVED))
    check.click()
    expect(latest).to_have_attribute("data-verdict", "consistent")
    expect(detail.get_by_test_id("mlops-fv-consistency-verdict")).to_have_text("consistent")
    expect(latest.locator('[data-fact="rows_checked"]')).to_have_text(str(SERVED))
    expect(latest.locator('[data-fact="mismatches"]')).to_have_text("0")
    expect(latest.locator('[data-fact="versions"]')).to_have_text("v1")
    table = latest.get_by_test_id("mlops-consistency-features")
    expect(table.locator("tbody tr")).to_have_count(10)
    row = table.locator('tr[data-feature="amount_sum_7d"] td')
    expect(row).to_have_text([str(SERVED), "0", "0%"])
    expect(latest.get_by_test_id("mlops-consistency-examples")).to_have_count(0)
    older = consistency.get_by_test_id("mlops-consistency-older").locator("li")
    expect(older).to_have_count(1)
    expect(older.first).to_have_attribute("data-verdict", "no data")
    expect(older.first).to_contain_text("0 rows, 0 mismatches")

    # A served value the offline store disagrees with: a mismatch, with its example.
    server.python(SERVE_WRONG, str(root))
    check.click()
    expect(latest).to_have_attribute("data-verdict", "mismatch")
    expect(latest.locator('[data-fact="rows_checked"]')).to_have_text(str(SERVED + 1))
    expect(latest.locator('[data-fact="mismatches"]')).to_have_text("1")
    expect(latest.locator('[data-fact="alert"]')).not_to_be_empty()
    wrong = table.locator("tbody tr").first
    expect(wrong).to_have_attribute("data-feature", "amount_count_7d")
    expect(wrong.locator("td")).to_have_text([str(SERVED + 1), "1", "7.7%"])
    example = latest.get_by_test_id("mlops-consistency-example")
    expect(example).to_have_count(1)
    expect(example).to_contain_text("customer_id=c00001")
    expect(example.locator('[data-side="online"]')).to_have_text("online 999")
    expect(example.locator('[data-side="offline"]')).to_have_text("offline 0")
    expect(older).to_have_count(2)
    stored = get_api(server, "features/views/customer_spend/consistency")["reports"]
    assert [r["verdict"] for r in stored] == ["mismatch", "consistent", "no data"]

    # Nothing overflows the narrow sidebar, nor the table its box; the same in the dark theme.
    assert detail.evaluate(WIDER_THAN_SIDEBAR) == [], "overflows the sidebar"
    table_box = latest.locator(".jp-mlops-table-scroll")
    assert table_box.evaluate("node => node.scrollWidth <= node.clientWidth")
    switch_theme(page, "JupyterLab Dark")
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    expect(page.locator("#jupyterlab-splash")).to_have_count(0)
    consistency.evaluate("node => node.scrollIntoView()")
    page.screenshot(path=screenshots_dir / "features-consistency-dark.png", clip=CLIP)

    # The view whose window is longer than its source's span says it is allowed; once
    # marked as computed with the old windows, it says it is recomputed on first use.
    detail.get_by_test_id("mlops-fv-back").click()
    open_view(panel, "spend_400d")
    expect(detail.get_by_test_id("mlops-fv-name")).to_have_text("spend_400d")
    expect(detail.get_by_test_id("mlops-fv-long-windows")).to_have_text(
        re.compile(r"^Window 400d longer than the source's span of \d+ days: allowed$")
    )
    expect(detail.get_by_test_id("mlops-fv-consistency-verdict")).to_have_count(0)
    server.python(MARK_OLD_WINDOWS, str(root), "spend_400d")
    detail.get_by_test_id("mlops-fv-refresh").click()
    expect(detail.get_by_test_id("mlops-fv-legacy")).to_have_text(
        "Computed with the old per-event windows; recomputed on first use "
        "(mlops-lab features rebuild spend_400d)"
    )
    page.screenshot(path=screenshots_dir / "features-old-windows-dark.png", clip=CLIP)

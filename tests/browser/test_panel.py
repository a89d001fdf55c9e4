"""The MLOps sidebar panel in a real JupyterLab, driven through Debian Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, Page, expect

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory, LabServer

pytestmark = pytest.mark.browser

PANEL = "#mlops-lab-panel"
# The sidebar and a little of the main area: what the docs show.
DOCS_CLIP = {"x": 0, "y": 0, "width": 640, "height": 480}

ADD_ARTIFACT = """
import sys
import mlops_lab
mlops_lab.open_workspace(sys.argv[1]).artifacts.put_bytes(
    sys.argv[2].encode(), media_type="text/plain"
)
"""


def open_panel(page: Page, server: LabServer) -> Locator:
    """Load JupyterLab and open the MLOps sidebar from its tab."""
    page.goto(server.lab_url)
    tab = page.locator('.jp-SideBar .lm-TabBar-tab[data-id="mlops-lab-panel"]')
    expect(tab).to_be_visible(timeout=60_000)
    expect(tab).to_have_attribute("title", "MLOps")
    # Once restored, JupyterLab focuses the launcher; a click before may be undone.
    expect(page.locator(".jp-Launcher")).to_be_focused(timeout=60_000)
    tab.click()
    panel = page.locator(PANEL)
    expect(panel).to_be_visible()
    return panel


def count(panel: Locator, kind: str) -> Locator:
    return panel.locator(f'.jp-mlops-count[data-kind="{kind}"]')


def add_artifact(server: LabServer, content: str) -> None:
    server.python(ADD_ARTIFACT, str(server.root), content)


def run_palette_command(page: Page, label: str) -> None:
    search = page.locator(".lm-CommandPalette-input")
    # Ctrl+Shift+C toggles the palette, and a key press that lands while JupyterLab is
    # still settling can be lost or undone (seen: the input focused, the modal hidden).
    # So: press only while the palette is not showing, until it shows.
    for _ in range(5):
        if search.is_visible():
            break
        page.keyboard.press("Control+Shift+C")
        try:
            expect(search).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            continue
    expect(search).to_be_visible()
    expect(search).to_be_focused()
    search.fill(label)
    item = page.locator(".lm-CommandPalette-item", has_text=label).first
    expect(item).to_be_visible()
    header = item.locator("xpath=preceding-sibling::li[contains(@class, 'header')][1]")
    expect(header).to_contain_text("MLOps")
    search.press("Enter")


def test_panel_shows_workspace_counts_and_refreshes(
    start_lab: LabFactory, page: Page, tmp_path: Path, screenshots_dir: Path
) -> None:
    root = tmp_path / "demo"
    server = start_lab(root)
    add_artifact(server, "hello mlops")  # 11 bytes

    panel = open_panel(page, server)

    expect(count(panel, "artifacts")).to_have_text("1")
    for kind in ("datasets", "feature_views", "models", "evaluations", "runs"):
        expect(count(panel, kind)).to_have_text("0")
    expect(panel.get_by_test_id("mlops-workspace-name")).to_have_text("demo")
    expect(panel.get_by_test_id("mlops-workspace-path")).to_have_text(str(root.resolve()))
    expect(panel.get_by_test_id("mlops-schema-version")).to_have_text(re.compile(r"^v\d+$"))
    expect(panel.get_by_test_id("mlops-artifacts-size")).to_have_text("11 B")
    expect(panel.get_by_test_id("mlops-error")).to_have_count(0)
    page.screenshot(path=screenshots_dir / "panel.png", clip=DOCS_CLIP)

    # The refresh button picks up an artifact added from Python.
    add_artifact(server, "a second, longer artifact")  # 25 bytes
    panel.get_by_test_id("mlops-refresh").click()
    expect(count(panel, "artifacts")).to_have_text("2")
    expect(panel.get_by_test_id("mlops-artifacts-size")).to_have_text("36 B")

    # So does the "MLOps: Refresh" command from the palette.
    add_artifact(server, "third")  # 5 bytes
    run_palette_command(page, "MLOps: Refresh")
    expect(count(panel, "artifacts")).to_have_text("3")
    expect(panel.get_by_test_id("mlops-artifacts-size")).to_have_text("41 B")


@pytest.mark.allow_console_error(
    r"status of 404 \(Not Found\)", reason="the status route answers 404 when there is no workspace"
)
def test_panel_explains_missing_workspace(
    start_lab: LabFactory, page: Page, tmp_path: Path, screenshots_dir: Path
) -> None:
    root = tmp_path / "not-a-workspace"
    server = start_lab(root, init=False)

    panel = open_panel(page, server)

    error = panel.get_by_test_id("mlops-error")
    expect(error).to_have_attribute("data-code", "WorkspaceNotFoundError")
    expect(error).to_contain_text("No workspace")
    expect(error).to_contain_text("mlops-lab init")
    expect(count(panel, "models")).to_have_count(0)
    panel.screenshot(path=screenshots_dir / "panel-no-workspace.png")


@pytest.mark.allow_console_error(
    r"status of 404 \(Not Found\)", reason="no server extension: every route is 404"
)
def test_panel_explains_missing_server_extension(
    start_lab: LabFactory, page: Page, tmp_path: Path
) -> None:
    server = start_lab(tmp_path / "demo", server_extension=False)

    panel = open_panel(page, server)

    error = panel.get_by_test_id("mlops-error")
    expect(error).to_have_attribute("data-code", "ServerExtensionMissing")
    expect(error).to_contain_text("The mlops_lab server extension is not enabled.")
    expect(error).to_contain_text("jupyter server extension enable mlops_lab")


def test_panel_follows_dark_theme(
    start_lab: LabFactory, page: Page, tmp_path: Path, screenshots_dir: Path
) -> None:
    root = tmp_path / "dark"
    server = start_lab(root, theme="JupyterLab Dark")
    add_artifact(server, "x" * 3000)

    panel = open_panel(page, server)

    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    expect(count(panel, "artifacts")).to_have_text("1")
    expect(panel.get_by_test_id("mlops-artifacts-size")).to_have_text("2.9 KiB")
    background = panel.evaluate("el => getComputedStyle(el).backgroundColor")
    red, green, blue = (int(c) for c in re.findall(r"\d+", background)[:3])
    assert max(red, green, blue) < 80, f"panel background {background} is not dark"
    page.screenshot(path=screenshots_dir / "panel-dark.png", clip=DOCS_CLIP)

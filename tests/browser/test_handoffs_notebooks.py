"""Handoff and notebooks (issue #15, item 5), in a real JupyterLab with Debian Chromium.

- "Check handoff" on a notebook that is already a stage reuses it: no dialog, the
  file unchanged; on any other ready notebook a dialog shows the change to
  mlops_lab.yaml, Cancel writes nothing, "Add to mlops_lab.yaml" writes it.
- Executed copies open read-only, kernel-less, titled `name.ipynb (run r..., executed)`,
  with a banner, and without the widgets manager's kernel error.
- Every demo notebook opens clean (not marked unsaved) once its kernel is up.

Light and dark; any console error fails the test (the console_errors fixture).
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from conftest import DARK, open_mlops, shoot, switch_theme
from playwright.sync_api import Locator, Page, expect

from tests.notebooks import write_notebook

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory, LabServer

pytestmark = pytest.mark.browser

CHECK_TIMEOUT = 180_000  # a check runs the notebook twice in fresh kernels
KERNEL_TIMEOUT = 90_000

REPORT = "import mlops_lab\nctx = mlops_lab.context()\nctx.log_metric('answer', 42.0 * factor)"
DECLARED = """pipelines:
  reports:
    stages:
      - name: churn_report   # the report the team reads
        notebook: report.ipynb
"""


def api(server: LabServer, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{server.base_url}/mlops-lab/api/{path}",
        data=data,
        method="GET" if body is None else "POST",
        headers={"Authorization": f"token {server.token}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def sessions(server: LabServer) -> list[dict[str, Any]]:
    """Jupyter's sessions: one per notebook with a kernel."""
    request = urllib.request.Request(
        f"{server.base_url}/api/sessions", headers={"Authorization": f"token {server.token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        found: list[dict[str, Any]] = json.loads(response.read())
        return found


def end_sessions(server: LabServer) -> None:
    for session in sessions(server):
        request = urllib.request.Request(
            f"{server.base_url}/api/sessions/{session['id']}",
            method="DELETE",
            headers={"Authorization": f"token {server.token}"},
        )
        urllib.request.urlopen(request, timeout=30).close()


def open_notebook(page: Page, server: LabServer, path: str) -> Locator:
    page.goto(f"{server.base_url}/lab/tree/{path}?reset&token={server.token}")
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    expect(panel.locator(".jp-Cell").first).to_be_visible(timeout=60_000)
    return panel


def current_tab(page: Page) -> Locator:
    return page.locator("#jp-main-dock-panel .lm-TabBar-tab.jp-mod-current")


def wait_idle(page: Page) -> None:
    """The notebook's kernel started and answered (its info is in the notebook's model)."""
    expect(page.locator(".jp-StatusBar-Widget")).to_contain_text(["Idle"], timeout=KERNEL_TIMEOUT)


def check_from_toolbar(page: Page, panel: Locator) -> None:
    button = panel.get_by_test_id("mlops-check-handoff")
    button.click()
    expect(button).to_have_attribute("data-checking", "yes")


def handoffs_notice(page: Page) -> Locator:
    return page.get_by_test_id("mlops-handoffs-notice")


def test_check_handoff_reuses_the_stage_or_asks_with_the_change(
    start_lab: LabFactory,
    page: Page,
    tmp_path: Path,
    screenshots_dir: Path,
    console_errors: list[str],
) -> None:
    root = tmp_path / "ws"
    server = start_lab(root)
    config = root / "mlops_lab.yaml"
    config.write_text(config.read_text().replace("pipelines: {}\n", DECLARED))
    write_notebook(root / "report.ipynb", "factor = 1.0", REPORT)
    write_notebook(root / "fresh.ipynb", "factor = 2.0", REPORT)
    before = config.read_text()

    # Already stage churn_report of pipeline reports: checked as that stage, nothing asked.
    panel = open_notebook(page, server, "report.ipynb")
    check_from_toolbar(page, panel)
    expect(handoffs_notice(page)).to_contain_text(
        "Ready as stage churn_report of pipeline reports", timeout=CHECK_TIMEOUT
    )
    expect(page.locator(".jp-Dialog")).to_have_count(0)
    assert config.read_text() == before
    handoffs = {h["notebook"]: h for h in api(server, "handoffs")["handoffs"]}
    assert (handoffs["report.ipynb"]["pipeline"], handoffs["report.ipynb"]["stage"]) == (
        "reports",
        "churn_report",
    )

    # Not a stage yet: the dialog shows the change; Cancel writes nothing.
    panel = open_notebook(page, server, "fresh.ipynb")
    check_from_toolbar(page, panel)
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible(timeout=CHECK_TIMEOUT)
    expect(dialog.locator(".jp-Dialog-header")).to_have_text("Add the stage to mlops_lab.yaml?")
    diff = dialog.get_by_test_id("mlops-stage-diff")
    added = diff.locator('[data-kind="added"]')
    expect(added).to_have_text(
        [
            "+  handoff:",
            "+    stages:",
            "+      - name: fresh",
            "+        notebook: fresh.ipynb",
            "+        outputs:",
            "+          metrics:",
            "+            - answer",
        ]
    )
    expect(diff).to_contain_text("# the report the team reads")  # the file's own lines
    dialog.screenshot(path=screenshots_dir / "handoff-stage-dialog.png")
    page.screenshot(path=screenshots_dir / "handoff-stage-dialog-page.png")
    dialog.get_by_role("button", name="Cancel").click()
    expect(handoffs_notice(page)).to_contain_text("mlops_lab.yaml was not changed")
    assert config.read_text() == before

    # Checked again, in the dark theme, and confirmed: exactly the change shown is written.
    switch_theme(page, DARK)
    check_from_toolbar(page, panel)
    expect(dialog).to_be_visible(timeout=CHECK_TIMEOUT)
    expect(added).to_have_count(7)
    dialog.screenshot(path=screenshots_dir / "handoff-stage-dialog-dark.png")
    page.screenshot(path=screenshots_dir / "handoff-stage-dialog-page-dark.png")
    dialog.get_by_role("button", name="Add to mlops_lab.yaml").click()
    expect(handoffs_notice(page)).to_contain_text(
        "stage fresh of pipeline handoff written to mlops_lab.yaml"
    )
    after = config.read_text()
    assert "# the report the team reads" in after
    stages = yaml.safe_load(after)["pipelines"]
    assert [s["name"] for s in stages["handoff"]["stages"]] == ["fresh"]
    assert [s["name"] for s in stages["reports"]["stages"]] == ["churn_report"]


def test_executed_copies_open_read_only_titled_and_marked(
    start_lab: LabFactory,
    page: Page,
    tmp_path: Path,
    screenshots_dir: Path,
    console_errors: list[str],
) -> None:
    root = tmp_path / "ws"
    server = start_lab(root)
    config = root / "mlops_lab.yaml"
    config.write_text(config.read_text().replace("pipelines: {}\n", DECLARED))
    write_notebook(root / "report.ipynb", "factor = 1.0", REPORT, "1 / 0")
    started = api(server, "runs", {"pipeline": "reports"})
    run_id = started["run_id"]
    for _ in range(240):
        run = api(server, f"runs/{run_id}")
        if run["status"] not in ("running", "queued", "pending"):
            break
        page.wait_for_timeout(500)
    assert run["status"] == "failed", run

    # From the Runs view, as a user would: the failing stage's executed notebook.
    # open_mlops waits until JupyterLab is restored: a click before may be undone by it.
    sidebar = open_mlops(page, server.lab_url)
    sidebar.get_by_test_id("mlops-open-runs").click()
    row = sidebar.locator(f'[data-testid="mlops-run"][data-run-id="{run_id}"]')
    row.get_by_test_id("mlops-run-toggle").click()
    row.get_by_test_id("mlops-open-failing-cell").click()

    title = f"report.ipynb (run {run_id}, executed)"
    expect(current_tab(page)).to_contain_text(title, timeout=30_000)
    copy = page.locator(".jp-NotebookPanel.jp-mlops-executed:not(.lm-mod-hidden)")
    banner = copy.get_by_test_id("mlops-executed-banner")
    expect(banner).to_contain_text(f"stage churn_report of run {run_id} (failed)")
    expect(banner).to_contain_text("Executed copy, read-only, no kernel")
    expect(copy.locator(".jp-Cell.jp-mod-active")).to_contain_text("1 / 0")
    shoot(page, screenshots_dir / "executed-copy.png")
    # Read-only: the editors refuse input; no kernel was started for it.
    expect(current_tab(page)).not_to_contain_class("jp-mod-dirty")
    editor = copy.locator(".jp-Cell.jp-mod-active .cm-content")
    expect(editor).to_have_attribute("aria-readonly", "true")
    editor.click()
    page.keyboard.type("typed")
    expect(editor).to_have_text("1 / 0")
    assert [s["path"] for s in sessions(server)] == []
    expect(current_tab(page)).not_to_contain_class("jp-mod-dirty")

    # The banner opens the saved notebook itself (editable, its own title).
    banner.get_by_role("button", name="Open report.ipynb").click()
    expect(current_tab(page)).to_have_text("report.ipynb")
    live = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    expect(live).not_to_contain_class("jp-mlops-executed")


def test_every_demo_notebook_opens_clean(
    start_lab: LabFactory, page: Page, tmp_path: Path, console_errors: list[str]
) -> None:
    root = tmp_path / "demo"
    root.mkdir()
    script = Path(sys.executable).parent / "mlops-lab"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "mlops_lab"]
    subprocess.run([*command, "init", "--demo", str(root)], check=True, capture_output=True)
    server = start_lab(root, init=False)
    notebooks = sorted(p.name for p in (root / "notebooks").glob("*.ipynb"))
    assert len(notebooks) == 7
    for name in notebooks:
        open_notebook(page, server, f"notebooks/{name}")
        expect(current_tab(page)).to_contain_text(name)
        wait_idle(page)  # the kernel's info has reached the notebook's metadata
        page.wait_for_timeout(500)
        expect(current_tab(page)).not_to_contain_class("jp-mod-dirty")
        page.goto("about:blank")
        end_sessions(server)  # one kernel at a time

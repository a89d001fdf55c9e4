"""The Runs view's stage graph, the run as a main-area tab, handoff runs hidden by default
and run comparison deltas coloured better/worse.

Real JupyterLab, real runner subprocesses, real kernels, Debian Chromium; the page's
console errors fail the test.
"""

from __future__ import annotations

import json
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import DARK, open_mlops, shoot
from playwright.sync_api import Locator, Page, expect

from tests.notebooks import write_notebook

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory, LabServer

pytestmark = pytest.mark.browser

PANEL = "#mlops-lab-panel"
RUN_TIMEOUT = 180  # s: each stage starts a kernel
SIDEBAR = {"x": 0, "y": 0, "width": 340, "height": 800}

# Like the demo's churn pipeline, with a fan-out and a join: `profile` -> `evaluate`
# spans a layer, so its edge passes beside `train`.
PIPELINES = """
pipelines:
  churn:
    description: A demo-like pipeline with a fan-out and a join
    stages:
      - {name: generate, notebook: generate.ipynb}
      - {name: features, notebook: features.ipynb, needs: [generate]}
      - {name: profile, notebook: profile.ipynb, needs: [generate]}
      - {name: train, notebook: train.ipynb, needs: [features]}
      - {name: evaluate, notebook: evaluate.ipynb, needs: [train, profile]}
  broken:
    stages:
      - {name: prepare, notebook: generate.ipynb}
      - {name: explode, notebook: explode.ipynb, needs: [prepare]}
      - {name: report, notebook: profile.ipynb, needs: [explode]}
"""
EDGES = {
    ("generate", "features"),
    ("generate", "profile"),
    ("features", "train"),
    ("train", "evaluate"),
    ("profile", "evaluate"),
}
LOG = "import mlops_lab\nctx = mlops_lab.context()\n"


def write_workspace(root: Path) -> None:
    write_notebook(root / "generate.ipynb", "n = 3", "rows = n * 100")
    write_notebook(root / "features.ipynb", "n = 3", "columns = n + 1")
    write_notebook(root / "profile.ipynb", "n = 3", "profiled = True")
    write_notebook(
        root / "train.ipynb", "n = 3", LOG + 'ctx.log_metric("val_loss", round(1 / n, 4))'
    )
    write_notebook(
        root / "evaluate.ipynb",
        "n = 3",
        LOG + 'ctx.log_metric("accuracy", 1 - 1 / n)\nctx.log_metric("latency_ms", n * 12.5)',
    )
    write_notebook(root / "explode.ipynb", "n = 3", 'raise ValueError("boom")')
    config = root / "mlops_lab.yaml"
    config.write_text(
        f"version: 1\nname: {root.name}\n" + textwrap.dedent(PIPELINES), encoding="utf-8"
    )


def api(server: LabServer, path: str, body: Any = None) -> Any:
    """GET (or POST ``body``) a route of the REST API."""
    request = urllib.request.Request(
        f"{server.base_url}/mlops-lab/api/{path}",
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def run(server: LabServer, body: dict[str, Any], timeout: float = RUN_TIMEOUT) -> dict[str, Any]:
    """Start a run through the REST API and wait for it to end (at most `timeout` s)."""
    run_id = api(server, "runs", body)["run_id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = api(server, f"runs/{run_id}")
        if found["status"] != "running":
            return found  # type: ignore[no-any-return]
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} still running:\n{server.log_tail()}")


def mark_handoff(server: LabServer, run_id: str) -> None:
    """Make a run a handoff clean run, as `mlops-lab handoff` records them."""
    server.python(
        "import sys\nfrom mlops_lab.workspace import open_workspace\n"
        "open_workspace('.').catalog.write("
        "\"UPDATE runs SET kind = 'handoff' WHERE id = ?\", [sys.argv[1]])",
        run_id,
    )


def open_runs(page: Page, server: LabServer) -> Locator:
    panel = open_mlops(page, server.lab_url)  # once restored: the restore cannot undo it
    panel.get_by_test_id("mlops-open-runs").click()
    runs = panel.get_by_test_id("mlops-runs")
    expect(runs).to_be_visible()
    return runs


def run_row(runs: Locator, run_id: str) -> Locator:
    return runs.locator(f'[data-testid="mlops-run"][data-run-id="{run_id}"]')


def node(scope: Locator, name: str) -> Locator:
    return scope.locator(f'[data-testid="mlops-graph-node"][data-stage="{name}"]')


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None
    return found


def check_graph(graph: Locator, statuses: dict[str, str]) -> None:
    """Nodes with their statuses, the needs as edges, laid out in layers, a legend."""
    expect(graph.get_by_test_id("mlops-graph-node")).to_have_count(len(statuses))
    for name, status in statuses.items():
        expect(node(graph, name)).to_have_attribute("data-status", status)
    edges = graph.get_by_test_id("mlops-graph-edge")
    expect(edges).to_have_count(len(EDGES))
    found = {
        (edges.nth(i).get_attribute("data-from"), edges.nth(i).get_attribute("data-to"))
        for i in range(edges.count())
    }
    assert found == EDGES
    top = {name: box(node(graph, name))["y"] for name in statuses}
    assert top["generate"] < top["features"] == top["profile"] < top["train"] < top["evaluate"]
    # Every node inside the graph's width: nothing cut off at the sidebar's width.
    frame = box(graph)
    for name in statuses:
        placed = box(node(graph, name))
        assert frame["x"] - 1 <= placed["x"] and placed["x"] + placed["width"] <= (
            frame["x"] + frame["width"] + 1
        ), (name, placed, frame)
    legend = graph.get_by_test_id("mlops-graph-legend")
    for status in set(statuses.values()):
        expect(legend.locator(f'li[data-status="{status}"]')).to_be_visible()


def current_main_tab(page: Page) -> Locator:
    return page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current")


def test_stage_graph_run_tab_handoff_filter_and_coloured_deltas(
    start_lab: LabFactory, page: Page, tmp_path: Path, screenshots_dir: Path
) -> None:
    root = tmp_path / "graph"
    server = start_lab(root)
    write_workspace(root)
    first = run(server, {"pipeline": "churn"})
    second = run(server, {"pipeline": "churn", "parameters": {"n": 5}})
    assert (first["status"], second["status"]) == ("succeeded", "succeeded")
    cached = run(server, {"pipeline": "churn", "parameters": {"n": 5}})
    handoff = run(server, {"notebook": "generate.ipynb"})
    mark_handoff(server, handoff["id"])

    runs = open_runs(page, server)
    # Handoff clean runs are left out by default; the toggle shows them.
    expect(runs.get_by_test_id("mlops-run")).to_have_count(3)
    expect(run_row(runs, handoff["id"])).to_have_count(0)
    toggle = runs.get_by_test_id("mlops-filter-handoffs")
    expect(toggle).not_to_be_checked()
    toggle.check()
    expect(run_row(runs, handoff["id"])).to_be_visible()
    expect(runs.get_by_test_id("mlops-run")).to_have_count(4)
    toggle.uncheck()
    expect(run_row(runs, handoff["id"])).to_have_count(0)

    # The cached run's graph: every stage reused.
    row = run_row(runs, cached["id"])
    row.get_by_test_id("mlops-run-toggle").click()
    check_graph(
        row.get_by_test_id("mlops-graph"),
        dict.fromkeys(["generate", "features", "profile", "train", "evaluate"], "cached"),
    )
    row.get_by_test_id("mlops-run-toggle").click()

    # The second run's graph, at the sidebar's default width.
    row = run_row(runs, second["id"])
    row.get_by_test_id("mlops-run-toggle").click()
    graph = row.get_by_test_id("mlops-graph")
    check_graph(
        graph, dict.fromkeys(["generate", "features", "profile", "train", "evaluate"], "succeeded")
    )
    assert box(page.locator(PANEL))["width"] < 400  # the sidebar's default width
    graph.scroll_into_view_if_needed()
    shoot(page, screenshots_dir / "runs-graph-sidebar.png", clip=SIDEBAR)

    # Clicking a stage opens its executed notebook.
    node(graph, "train").click()
    expect(current_main_tab(page)).to_contain_text(
        f"train.ipynb (run {second['id']}, executed)", timeout=30_000
    )
    expect(page.get_by_test_id("mlops-executed-banner")).to_be_visible()
    expect(page.locator(".jp-NotebookPanel:visible")).to_have_count(1)
    expect(page.locator(".jp-NotebookPanel:visible .jp-Cell")).not_to_have_count(0)

    # Compare the two runs: deltas formatted and coloured by each metric's direction.
    run_row(runs, first["id"]).get_by_test_id("mlops-run-select").check()
    row.get_by_test_id("mlops-run-select").check()
    compare = runs.get_by_test_id("mlops-compare")
    expect(compare).to_have_attribute("data-phase", "ok")
    metrics = compare.get_by_test_id("mlops-compare-metrics")

    def delta(name: str) -> Locator:
        return metrics.locator(f'tr[data-name="{name}"]').get_by_test_id("mlops-delta")

    expect(metrics.locator('tr[data-name="accuracy"] td')).to_have_text(
        ["0.6667", "0.8", "+0.1333"]
    )
    expect(delta("accuracy")).to_have_attribute("data-change", "better")
    expect(delta("val_loss")).to_have_text("\u22120.1333")  # a minus sign
    expect(delta("val_loss")).to_have_attribute("data-change", "better")
    expect(delta("latency_ms")).to_have_text("+25")
    expect(delta("latency_ms")).to_have_attribute("data-change", "worse")
    expect(delta("latency_ms")).to_have_attribute(
        "title", "B is worse than A · +67% from A · lower is better"
    )
    colour = delta("accuracy").evaluate("e => getComputedStyle(e).color")
    assert colour != delta("latency_ms").evaluate("e => getComputedStyle(e).color")
    success = page.evaluate(
        "() => { const probe = document.createElement('span');"
        " probe.style.color = 'var(--jp-success-color1)'; document.body.append(probe);"
        " const c = getComputedStyle(probe).color; probe.remove(); return c; }"
    )
    assert colour == success
    compare.scroll_into_view_if_needed()
    shoot(page, screenshots_dir / "runs-compare-deltas.png", clip=SIDEBAR)

    # The run as a main-area tab, titled by the run.
    row.get_by_test_id("mlops-run-open-tab").click()
    tab = page.locator(
        f'#jp-main-dock-panel [data-testid="mlops-run-tab"][data-run-id="{second["id"]}"]'
    )
    expect(tab).to_be_visible()
    expect(current_main_tab(page)).to_contain_text(f"churn · {second['id']}")
    tab_graph = tab.get_by_test_id("mlops-graph")
    check_graph(
        tab_graph,
        dict.fromkeys(["generate", "features", "profile", "train", "evaluate"], "succeeded"),
    )
    # Wider than in the sidebar: nodes take the room they are given.
    assert box(node(tab_graph, "train"))["width"] > box(node(graph, "train"))["width"]
    expect(
        tab.locator('[data-testid="mlops-stage"][data-stage="evaluate"] [data-metric="accuracy"]')
    ).to_contain_text("0.8")
    shoot(page, screenshots_dir / "runs-graph-tab.png")
    # Opening it again reveals the same tab.
    row.get_by_test_id("mlops-run-open-tab").click()
    expect(page.locator('[data-testid="mlops-run-tab"]')).to_have_count(1)
    # A stage of the tab's graph opens its executed notebook.
    node(tab_graph, "evaluate").click()
    expect(current_main_tab(page)).to_contain_text("evaluate.ipynb", timeout=30_000)

    # The tab is restored with the layout.
    page.wait_for_timeout(1500)  # the layout is saved after a short debounce
    page.reload()
    restored = page.locator(f'[data-testid="mlops-run-tab"][data-run-id="{second["id"]}"]')
    expect(restored).to_have_count(1, timeout=60_000)
    page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text=second["id"]).click()
    shoot(page, screenshots_dir / "runs-graph-restored.png")
    expect(restored.get_by_test_id("mlops-graph-node")).to_have_count(5, timeout=30_000)


def test_failed_and_skipped_stages_in_the_graph_dark(
    start_lab: LabFactory, page: Page, tmp_path: Path, screenshots_dir: Path
) -> None:
    root = tmp_path / "broken"
    server = start_lab(root, theme=DARK)
    write_workspace(root)
    failed = run(server, {"pipeline": "broken"})
    assert failed["status"] == "failed"
    runs = open_runs(page, server)
    row = run_row(runs, failed["id"])
    row.get_by_test_id("mlops-run-toggle").click()
    graph = row.get_by_test_id("mlops-graph")
    expect(node(graph, "prepare")).to_have_attribute("data-status", "succeeded")
    expect(node(graph, "explode")).to_have_attribute("data-status", "failed")
    expect(node(graph, "report")).to_have_attribute("data-status", "skipped")
    expect(node(graph, "report")).to_have_attribute("data-openable", "false")
    legend = graph.get_by_test_id("mlops-graph-legend")
    expect(legend).to_contain_text("failed")
    expect(legend).to_contain_text("skipped")
    page.screenshot(path=screenshots_dir / "runs-graph-failed-dark.png", clip=SIDEBAR)
    row.get_by_test_id("mlops-run-open-tab").click()
    tab = page.locator('#jp-main-dock-panel [data-testid="mlops-run-tab"]')
    expect(node(tab, "explode")).to_have_attribute("data-status", "failed")
    expect(tab.get_by_test_id("mlops-stage-error")).to_contain_text("boom")
    page.screenshot(path=screenshots_dir / "runs-graph-failed-tab-dark.png")
    # The failed stage opens its executed notebook from the graph.
    node(tab, "explode").click()
    expect(current_main_tab(page)).to_contain_text("explode.ipynb", timeout=30_000)

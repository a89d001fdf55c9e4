"""The Lifecycle view: the project on top, its steps as a flow with the loops back, the
timeline, links to each item's tab, and the project form writing `mlops_lab.yaml` back.

Real JupyterLab on a copy of the demo workspace after `mlops-lab run churn` (a project
definition with comments, datasets, `churn` registered and promoted, a drift alert), a
real `mlops-lab serve` subprocess with a challenger, Debian Chromium at JupyterLab's
default size, light and dark. What the view shows is checked against what
`GET /lifecycle` answers; the form's save is checked on the file on disk. No console
error is allowed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import open_mlops, shoot, widen_sidebar
from deployments_support import api, copy_demo, send_predictions
from playwright.sync_api import Locator, Page, expect

from mlops_lab.lifecycle.timeline import LOOPS

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory

pytestmark = pytest.mark.browser

MAIN_TABS = "#jp-main-dock-panel .lm-DockPanel-tabBar .lm-TabBar-tab"
TAB = ".jp-mlops-lifecycle-tab"
STEPS = ["define", "data", "train", "deploy", "monitor"]
ITEMS_SHOWN = 4  # a step card's items before "N more" (present.ts)


def lifecycle(server: Any) -> dict[str, Any]:
    status, body = api(server, "lifecycle")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def loop_text(loop: dict[str, Any]) -> re.Pattern[str]:
    """What the view says of a loop: how often it fired (when last is an age)."""
    if not loop["fired"]:
        return re.compile("^not fired yet$")
    times = "\N{MULTIPLICATION SIGN}"
    return re.compile(rf"^fired {loop['fired']}{times}( · last .+ ago| · last just now)?$")


_AGE = r"(?:\d+ (?:d|h|min) ago|just now)"


def any_age(text: str) -> re.Pattern[str]:
    """``text`` with each age in it (``4 min ago``) matching any age: the view asks the
    server again later than the test did, and a minute may have turned in between."""
    parts = re.split(_AGE, text)
    return re.compile("^" + _AGE.join(re.escape(p) for p in parts) + "$")


def field(form: Locator, path: str) -> Locator:
    return form.locator(f'[name="{path}"]')


def shown_tab(page: Page, testid: str) -> Locator:
    """The main-area tab content of `testid` that is shown."""
    return page.locator(f'#jp-main-dock-panel [data-testid="{testid}"]:visible')


def scroll_tab(page: Page, top: int) -> None:
    page.locator(TAB).evaluate("(node, top) => { node.scrollTop = top; }", top)


@pytest.mark.allow_console_error(
    r"status of 422 \(Unprocessable Entity\)",
    reason="the form saves a definition the server refuses, to show its problems",
)
def test_lifecycle_view_links_and_project_form(
    start_lab: LabFactory,
    serve: Any,
    page: Page,
    demo: Path,
    tmp_path: Path,
    screenshots_dir: Path,
) -> None:
    root = copy_demo(demo, tmp_path / "demo")
    config = root / "mlops_lab.yaml"
    before = config.read_text(encoding="utf-8")
    comments = [line.split("#", 1)[1] for line in before.splitlines() if "#" in line]
    assert "objective: {metric: roc_auc, min: 0.85}" in before
    assert comments, before
    server = start_lab(root, init=False)
    model_server = serve(server)
    statuses = send_predictions(model_server, 20)
    assert statuses.get(200, 0) > 0, statuses
    state = lifecycle(server)
    assert state["project"]["defined"], state["project"]

    # From the Overview: one tab, titled Lifecycle.
    panel = open_mlops(page, server.lab_url)
    panel.get_by_test_id("mlops-open-lifecycle").click()
    tab = page.locator(MAIN_TABS, has_text=re.compile("^Lifecycle$"))
    expect(tab).to_have_count(1)
    view = page.get_by_test_id("mlops-lifecycle")
    expect(view).to_be_visible()

    # The project card on top.
    card = view.get_by_test_id("mlops-lifecycle-project")
    expect(card).to_have_attribute("data-defined", "true")
    expect(card.get_by_test_id("mlops-project-problem")).to_have_text(state["project"]["problem"])
    expect(card.locator('[data-fact="objective"] dd')).to_have_text("roc_auc ≥ 0.85")
    expect(card.locator('[data-fact="guardrails"] dd')).to_have_text(
        "recall ≥ 0.7 in every segment"
    )
    expect(card.locator('[data-fact="serving"] dd')).to_have_text(
        "p99 ≤ 20 ms · errors ≤ 1% · over 60s"
    )
    expect(card.locator('[data-fact="owners"] dd')).to_contain_text("churn-science (science)")

    # Define, then the server's four steps, each with its status; left to right.
    steps = view.get_by_test_id("mlops-lifecycle-step")
    expect(steps).to_have_count(5)
    assert [steps.nth(i).get_attribute("data-step") for i in range(5)] == STEPS
    for step in state["steps"]:
        card_of = view.locator(f'[data-testid="mlops-lifecycle-step"][data-step="{step["id"]}"]')
        expect(card_of).to_have_attribute("data-status", step["status"])
        expect(card_of.locator(".jp-mlops-lc-summary")).to_have_text(any_age(step["summary"]))
        # The first few items, and every one not on track; the rest behind "N more".
        items = card_of.get_by_test_id("mlops-lifecycle-item")
        shown = [
            item
            for i, item in enumerate(step["items"])
            if i < ITEMS_SHOWN or item["status"] in ("bad", "warn")
        ]
        expect(items).to_have_count(len(shown))
        if len(shown) < len(step["items"]):
            more = card_of.get_by_test_id("mlops-lifecycle-more")
            expect(more).to_have_text(f"{len(step['items']) - len(shown)} more")
            more.click()
            expect(items).to_have_count(len(step["items"]))
            more.click()
            expect(items).to_have_count(len(shown))
    columns = [view.locator(f'[data-column="{c}"]') for c in ("define", "data", "train")]
    xs = [column.bounding_box()["x"] for column in columns]  # type: ignore[index]
    assert xs == sorted(xs), xs
    define = view.locator('[data-step="define"]')
    expect(define.get_by_test_id("mlops-lifecycle-item")).to_have_count(len(state["checks"]))

    # The loops back, each with how often it fired.
    loops = view.get_by_test_id("mlops-lifecycle-loop")
    expect(loops).to_have_count(len(state["loops"]))
    for loop in state["loops"]:
        drawn = view.locator(f'[data-testid="mlops-lifecycle-loop"][data-loop="{loop["id"]}"]')
        expect(drawn).to_have_attribute("data-fired", str(loop["fired"]))
        expect(drawn.get_by_test_id("mlops-loop-count")).to_have_text(loop_text(loop))

    # The timeline, newest first, with its activity badges.
    rows = view.get_by_test_id("mlops-timeline-row")
    assert state["timeline"], state
    expect(rows).to_have_count(len(state["timeline"]))
    newest = state["timeline"][0]
    expect(rows.first).to_have_attribute("data-activity", newest["activity"])
    expect(rows.first).to_have_attribute("data-kind", newest["kind"])
    activities = {event["activity"] for event in state["timeline"]}
    assert {"CD", "CM"} <= activities, activities
    # A badge filters the timeline to its activity.
    view.locator('.jp-mlops-lc-filter[data-activity="CD"]').click()
    cd = [e for e in state["timeline"] if e["activity"] == "CD"]
    expect(rows).to_have_count(len(cd))
    view.locator('.jp-mlops-lc-filter[data-activity="CD"]').click()
    expect(rows).to_have_count(len(state["timeline"]))

    scroll_tab(page, 0)
    page.wait_for_timeout(300)
    shoot(page, screenshots_dir / "lifecycle-{theme}.png")
    scroll_tab(page, 10_000)
    page.wait_for_timeout(300)
    shoot(page, screenshots_dir / "lifecycle-timeline-{theme}.png")
    scroll_tab(page, 0)

    # A link opens its item's tab: the champion's model version.
    version = next(
        item["link"]
        for item in next(s for s in state["steps"] if s["id"] == "train")["items"]
        if item["link"]["kind"] == "model"
    )
    link = view.locator(
        '[data-step="train"] [data-testid="mlops-lifecycle-link"]'
        f'[data-kind="model"][data-id="{version["id"]}"]'
    ).first
    link.click()
    label = f"{version['id']} v{version['version']}"
    expect(page.locator(MAIN_TABS, has_text=re.compile(f"^{re.escape(label)}$"))).to_have_count(1)
    expect(shown_tab(page, "mlops-version-tab")).to_have_count(1)
    # A timeline row's link too: the newest deployment event opens its dashboard.
    tab.click()
    deployment = view.locator('[data-testid="mlops-timeline-link"][data-kind="deployment"]').first
    deployment.click()
    expect(shown_tab(page, "mlops-deployment-tab")).to_have_count(1)
    tab.click()
    # An alert has no tab: its link shows the Evaluations view, which lists the open ones.
    monitor = next(s for s in state["steps"] if s["id"] == "monitor")
    assert any(item["link"]["kind"] == "alert" for item in monitor["items"]), monitor
    view.locator(
        '[data-step="monitor"] [data-testid="mlops-lifecycle-link"][data-kind="alert"]'
    ).first.click()
    expect(panel.locator(".jp-mlops-sidebar-heading")).to_have_text("Evaluations")

    # The form: a wrong value is named next to its field, nothing is written.
    card.get_by_test_id("mlops-project-edit").click()
    form = view.get_by_test_id("mlops-project-form")
    expect(field(form, "project.objective.min")).to_have_value("0.85")
    field(form, "project.guardrails[0].min").fill("lots")
    form.get_by_test_id("mlops-project-check").click()
    problem = form.locator(
        '[data-testid="mlops-project-problem"][data-field="project.guardrails[0].min"]'
    )
    expect(problem).to_contain_text("must be a number")
    save = form.get_by_test_id("mlops-project-save")
    save.click()
    expect(save).to_have_text("Save")  # the server answered (422)
    expect(problem).to_contain_text("must be a number")
    assert config.read_text(encoding="utf-8") == before
    shoot(page, screenshots_dir / "lifecycle-form-{theme}.png")

    # Fixed, checked, saved: the file changes where edited, its comments kept.
    field(form, "project.guardrails[0].min").fill("0.7")
    field(form, "project.objective.min").fill("0.8")
    form.get_by_test_id("mlops-project-check").click()
    expect(form.get_by_test_id("mlops-project-valid")).to_be_visible()
    save.click()
    expect(form).to_have_count(0)
    expect(card.locator('[data-fact="objective"] dd')).to_have_text("roc_auc ≥ 0.8")
    after = config.read_text(encoding="utf-8")
    assert after != before
    assert re.search(r"objective: \{metric: roc_auc, min: 0\.8\}", after), after
    for comment in comments:
        assert comment in after, f"comment lost: {comment!r}\n{after}"
    saved = lifecycle(server)["project"]
    assert saved["objective"] == {"metric": "roc_auc", "min": 0.8}, saved
    assert saved["guardrails"] == state["project"]["guardrails"], saved


def test_lifecycle_view_defines_a_project(
    start_lab: LabFactory, page: Page, tmp_path: Path, screenshots_dir: Path
) -> None:
    """A workspace without a definition: the card asks for one, the form writes it."""
    server = start_lab(tmp_path / "ws")
    config = server.root / "mlops_lab.yaml"
    before = config.read_text(encoding="utf-8")
    assert "project:" not in before

    panel = open_mlops(page, server.lab_url)
    panel.get_by_test_id("mlops-open-lifecycle").click()
    view = page.get_by_test_id("mlops-lifecycle")
    card = view.get_by_test_id("mlops-lifecycle-project")
    expect(card).to_have_attribute("data-defined", "false")
    define = view.locator('[data-testid="mlops-lifecycle-step"][data-step="define"]')
    expect(define).to_have_attribute("data-status", "warn")
    expect(define.locator(".jp-mlops-lc-summary")).to_contain_text("No project definition")
    for step in ("data", "train", "deploy", "monitor"):
        expect(view.locator(f'[data-step="{step}"]')).to_have_attribute("data-status", "idle")
    expect(view.get_by_test_id("mlops-loop-count")).to_have_text(["not fired yet"] * len(LOOPS))

    card.get_by_test_id("mlops-project-define").click()
    form = view.get_by_test_id("mlops-project-form")
    # Nothing filled in: the server names what is missing, next to each field.
    form.get_by_test_id("mlops-project-check").click()
    expect(
        form.locator('[data-testid="mlops-project-problem"][data-field="project.problem"]')
    ).to_have_text("is required")
    expect(
        form.locator('[data-testid="mlops-project-problem"][data-field="project.objective"]')
    ).to_contain_text("needs a bound")

    field(form, "project.problem").fill("Predict next month's demand per store")
    form.locator('[name="project.task"]').select_option("regression")
    field(form, "project.entity").fill("store")
    field(form, "project.label").fill("demand")
    field(form, "project.objective.metric").fill("rmse")
    field(form, "project.objective.max").fill("12.5")
    form.get_by_test_id("mlops-project-guardrail-add").click()
    field(form, "project.guardrails[0].metric").fill("mae")
    field(form, "project.guardrails[0].max").fill("20")
    field(form, "project.guardrails[0].slice").fill("region")
    field(form, "project.owners[0].team").fill("forecasting")
    form.get_by_test_id("mlops-project-save").click()
    expect(form).to_have_count(0)
    expect(card).to_have_attribute("data-defined", "true")
    expect(card.get_by_test_id("mlops-project-problem")).to_have_text(
        "Predict next month's demand per store"
    )
    expect(card.locator('[data-fact="objective"] dd')).to_have_text("rmse ≤ 12.5")
    expect(card.locator('[data-fact="guardrails"] dd')).to_have_text("mae ≤ 20 in every region")

    after = config.read_text(encoding="utf-8")
    for line in before.splitlines():
        assert line in after, f"lost {line!r}:\n{after}"
    status, saved = api(server, "project")
    assert status == 200, saved
    assert saved["task"] == "regression"
    assert saved["objective"] == {"metric": "rmse", "max": 12.5}
    assert saved["guardrails"] == [{"metric": "mae", "max": 20, "slice": "region"}]
    assert saved["owners"] == {"science": "forecasting"}
    shoot(page, screenshots_dir / "lifecycle-defined-{theme}.png")

    # A narrow main area: the steps one under the other, the loops as a list.
    page.wait_for_timeout(500)  # the theme switched back: let its layout settle
    widen_sidebar(page, 700)
    expect(view.locator(".jp-mlops-lc-loop-arrow").first).to_be_hidden()
    columns = [view.locator(f'[data-column="{c}"]') for c in ("define", "data", "train")]
    boxes = [column.bounding_box() for column in columns]
    assert all(b is not None for b in boxes), boxes
    assert len({round(b["x"]) for b in boxes if b}) == 1, boxes
    ys = [b["y"] for b in boxes if b]
    assert ys == sorted(ys), ys
    shoot(page, screenshots_dir / "lifecycle-narrow-{theme}.png")

    # A reload restores the tab, which loads its own data.
    page.wait_for_timeout(1500)  # the layout is saved after a debounce
    page.reload()
    restored = page.locator(MAIN_TABS, has_text=re.compile("^Lifecycle$"))
    expect(restored).to_have_count(1, timeout=60_000)
    restored.click()
    expect(card.get_by_test_id("mlops-project-problem")).to_have_text(
        "Predict next month's demand per store", timeout=30_000
    )

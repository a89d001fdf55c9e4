"""A progressive rollout, live in the Deployments view at JupyterLab's default sidebar width.

Real JupyterLab on a copy of the demo workspace, a second version of `churn` trained by
the pipeline's train stage as `churn@challenger`, a real `mlops-lab serve` with it as the
challenger under a steady load, the rollout started over the REST API (its controller a
process of its own), paused and resumed from the panel, to completion.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import mlops_lab_cli, open_mlops, shoot
from deployments_support import RAW, api, copy_demo
from playwright.sync_api import expect

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory, LabServer
    from deployments_support import ModelServer
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def _cli(server: LabServer, *args: str) -> None:
    result = subprocess.run(
        [*mlops_lab_cli(), *args],
        cwd=server.root,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _load(model_server: ModelServer, stop: threading.Event) -> threading.Thread:
    """Predictions for 200 customers in turn, one at a time, until `stop`."""

    def run() -> None:
        i = 0
        while not stop.wait(0.01):
            body = {"entity": {"customer_id": f"c{i % 200 + 1:05d}"}, "features": RAW}
            model_server.call("/predict", body)
            i += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_rollout_live_paused_resumed_and_completed(
    start_lab: LabFactory,
    serve: Any,
    page: Page,
    demo: Path,
    tmp_path: Path,
    screenshots_dir: Path,
) -> None:
    root = copy_demo(demo, tmp_path / "demo")
    server = start_lab(root, init=False)
    _cli(server, "run", "churn", "--force", "--only", "train")  # churn/2
    _cli(server, "models", "promote", "churn", "2", "--alias", "challenger", "--reason", "test")
    model_server = serve(server, challenger="churn@challenger")
    stop = threading.Event()
    sender = _load(model_server, stop)
    try:
        _, listed = api(server, "deployments")
        (deployment,) = listed["deployments"]
        panel = open_mlops(page, server.lab_url, view="Deployments")  # the default width
        panel.get_by_test_id("mlops-deployment-row").locator(".jp-mlops-dp-open").click()
        section = panel.get_by_test_id("mlops-rollout")
        expect(section.get_by_test_id("mlops-rollout-start")).to_be_visible()

        body = {"steps": [50, 100], "interval_s": 6, "min_requests": 5}
        body |= {"max_p99_ratio": 10, "max_p99_ms": 500}  # a busy CI machine is not the model
        status, started = api(server, f"deployments/{deployment['id']}/rollouts", body)
        assert status == 202, started
        # The view reloads every 5 s: the rollout shows up running.
        expect(section).to_have_attribute("data-rollout-id", started["rollout_id"], timeout=15_000)
        expect(section.get_by_test_id("mlops-rollout-state")).to_have_text("running")
        expect(section.get_by_test_id("mlops-rollout-step")).to_have_text(["50%", "100%"])
        expect(section.get_by_test_id("mlops-rollout-start")).to_have_count(0)

        section.get_by_test_id("mlops-rollout-pause").click()
        expect(section.get_by_test_id("mlops-rollout-state")).to_have_text("paused", timeout=15_000)
        _, paused = api(server, f"rollouts/{started['rollout_id']}")
        assert paused["split"] in (0.5, 1.0)
        assert model_server.call("/metadata")[1]["split"] == paused["split"]  # kept
        decisions = section.get_by_test_id("mlops-rollout-decision")
        expect(decisions.first).to_have_attribute("data-decision", "pause")
        section.scroll_into_view_if_needed()
        shoot(page, screenshots_dir / "deployments-rollout-paused.png")

        section.get_by_test_id("mlops-rollout-resume").click()
        expect(section.get_by_test_id("mlops-rollout-state")).to_have_text(
            "completed", timeout=60_000
        )
        expect(decisions).to_have_count(5)  # pause, resume, continue x2, promote
        expect(decisions.first).to_have_attribute("data-decision", "promote")
        expect(decisions.first).to_contain_text("churn@champion moved from v1 to v2")
        judged = section.locator('[data-decision="continue"]').first
        expect(
            judged.locator('[data-variant="challenger"] [data-column="requests"]')
        ).not_to_have_text("0")
        expect(judged.get_by_test_id("mlops-rollout-drift")).to_contain_text("A/B: no outcomes yet")
        expect(section.get_by_test_id("mlops-rollout-start")).to_be_visible()  # another one
        section.scroll_into_view_if_needed()
        shoot(page, screenshots_dir / "deployments-rollout-completed.png")
    finally:
        stop.set()
        sender.join(10)
        for log in sorted((root / ".mlops_lab" / "rollouts").glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()}")  # shown when the test fails
    assert model_server.call("/metadata")[1]["served"]["champion"]["version"] == 2

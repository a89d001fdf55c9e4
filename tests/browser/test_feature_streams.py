"""The Features view's streams: per streamed view its stream, state, rate, lag, freshness,
last event, dead letters and last error, reloaded live while shown.

Real JupyterLab and Chromium; the consumers' progress is written to the catalog with
`record_progress`, as a running `mlops-lab ingest` writes it every second.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest
from conftest import open_mlops, shoot
from playwright.sync_api import Page, expect

from mlops_lab import init_workspace, open_workspace
from mlops_lab.datasets import save_dataset
from mlops_lab.features.streams import declare_stream, record_progress

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabFactory

pytestmark = pytest.mark.browser

SOURCE = "redis://127.0.0.1:6379/0?stream=transactions"
# The sidebar at its default width and part of the main area.
CLIP = {"x": 0, "y": 0, "width": 720, "height": 800}


def _workspace(root: Path) -> None:
    ws = init_workspace(root)
    at = pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True)
    save_dataset(
        ws, "tx", pd.DataFrame({"customer_id": ["a", "b"], "at": at, "amount": [1.0, 2.0]})
    )
    ws.features.register_entity("customer", ["customer_id"])
    ws.features.register_feature_view(
        "spend",
        entity="customer",
        source="tx",
        timestamp="at",
        aggregations=[{"column": "amount", "functions": ["sum"], "windows": ["7d"]}],
    )
    ws.features.register_feature_view("profile", entity="customer", source="tx", timestamp="at")
    declare_stream(ws, "spend", SOURCE)


def _progress(root: Path, **values: Any) -> None:
    """What `mlops-lab ingest spend` reports each second (one consumer, `host-1`)."""
    started = datetime.now(UTC) - timedelta(minutes=10)
    record_progress(
        open_workspace(root), "spend", "host-1", started, source=SOURCE, pid=4242, **values
    )


def test_streams_show_and_follow_the_consumers(
    start_lab: LabFactory, page: Page, tmp_path: Path, screenshots_dir: Path
) -> None:
    root = tmp_path / "ws"
    _workspace(root)
    lab = start_lab(root, init=False)
    now = datetime.now(UTC)
    _progress(
        root,
        status="running",
        received=1300,
        applied=1200,
        duplicates=40,
        dead_letters=3,
        rate=250.5,
        lag=12,
        freshness_ms=340.0,
        last_event_at=now - timedelta(seconds=5),
        last_error="event 1699: amount: 'abc' is not a number",
        last_error_at=now - timedelta(minutes=3),
    )
    panel = open_mlops(page, lab.lab_url, view="Features")

    card = panel.locator('[data-testid="mlops-stream"][data-view="spend"]')
    expect(card).to_be_visible()
    expect(card.get_by_test_id("mlops-stream-health")).to_have_text("running")
    expect(card.locator(".jp-mlops-stream-source")).to_have_text("redistransactions")
    stats = {
        "rate": "251/s",
        "lag": "12",
        "freshness": "340 ms",
        "last-event": "just now",
        "dead-letters": "3",
    }
    for key, value in stats.items():
        expect(card.locator(f'[data-stat="{key}"] dd')).to_have_text(value)
    expect(card.get_by_test_id("mlops-stream-error")).to_have_text(
        "Last error · 3 min ago: event 1699: amount: 'abc' is not a number"
    )
    # The plain view is not streamed: one card only.
    expect(panel.get_by_test_id("mlops-stream")).to_have_count(1)
    # This is the worktree's build (JUPYTER_PATH first), not the installed one.
    entries = page.evaluate(
        "[...document.scripts].map(s => s.src).filter(s => s.includes('mlops-lab'))"
    )
    print("mlops-lab scripts loaded:", entries)
    shoot(page, screenshots_dir / "feature-streams-{theme}.png", clip=CLIP)

    # The consumer goes on: the card follows without a click.
    _progress(
        root,
        status="running",
        applied=95_000,
        dead_letters=4,
        rate=52_100.0,
        lag=0,
        freshness_ms=1234.0,
        last_event_at=datetime.now(UTC),
    )
    live = {"rate": "52.1k/s", "lag": "0", "freshness": "1.2 s", "dead-letters": "4"}
    for key, value in live.items():
        expect(card.locator(f'[data-stat="{key}"] dd')).to_have_text(value, timeout=6000)

    # The broker goes down: the consumer retries, and says so.
    _progress(root, status="waiting", last_error="reading redis://…: Connection refused")
    expect(card.get_by_test_id("mlops-stream-health")).to_have_text("waiting", timeout=6000)

    # The view's detail shows its stream too.
    card.locator(".jp-mlops-stream-view").click()
    block = panel.get_by_test_id("mlops-fv-stream")
    expect(block.get_by_test_id("mlops-stream-health")).to_have_text("waiting")
    expect(block.get_by_test_id("mlops-stream-error")).to_contain_text("Connection refused")
    shoot(page, screenshots_dir / "feature-streams-detail-{theme}.png", clip=CLIP)

    # Nothing streamed any more: one line says how to stream a view.
    panel.get_by_test_id("mlops-fv-back").click()
    ws = open_workspace(root)
    ws.catalog.write("DELETE FROM stream_consumers")
    ws.catalog.write("DELETE FROM feature_streams")
    empty = panel.get_by_test_id("mlops-streams-empty")
    expect(empty).to_contain_text("mlops-lab ingest VIEW --source redis://", timeout=6000)
    expect(panel.get_by_test_id("mlops-stream")).to_have_count(0)
    shoot(page, screenshots_dir / "feature-streams-empty-{theme}.png", clip=CLIP)

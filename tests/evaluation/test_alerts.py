"""Alerts raised once per rule and acknowledged or closed with who and why; A/B tests
stored once per data; drift counts from one function; histograms with clipped bins."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import mlops_lab
from mlops_lab.cli import cli
from mlops_lab.errors import ConflictError, InvalidInputError, NotFoundError
from mlops_lab.evaluation import (
    acknowledge_alert,
    close_ab_test,
    close_alert,
    get_drift_report,
    list_ab_tests,
    list_alerts,
    list_drift_reports,
)
from mlops_lab.evaluation.drift import build_profile, compare_to_profile
from mlops_lab.evaluation.report import drift_counts
from mlops_lab.pipelines.spec import load_pipeline
from mlops_lab.pipelines.triggers import ct_decision, open_alert
from mlops_lab.workspace import Workspace
from tests.notebooks import write_notebook, write_pipelines


def _pipeline(ctx) -> Workspace:  # type: ignore[no-untyped-def]
    write_notebook(ctx.workspace.root / "train.ipynb", "x = 1")
    return write_pipelines(
        ctx.workspace,
        """
        pipelines:
          churn:
            stages:
              - {name: train, notebook: train.ipynb}
    """,
    )


def _data(n: int, seed: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(shift, 1, n), "b": rng.normal(shift, 1, n)})


def test_a_drift_rule_firing_again_updates_its_open_alert(ctx) -> None:  # type: ignore[no-untyped-def]
    _pipeline(ctx)
    ctx.save_dataset("reference", _data(2000, 1, 0.0))
    ctx.save_dataset("current", _data(2000, 2, 0.5))
    first = mlops_lab.check_drift("reference", "current", pipeline="churn")
    ctx.save_dataset("current", _data(2000, 3, 0.8))
    second = mlops_lab.check_drift("reference", "current", pipeline="churn")
    assert first.alert_id and second.alert_id == first.alert_id
    [alert] = list_alerts(ctx.workspace)
    assert alert["occurrences"] == 2 and alert["status"] == "open"
    assert "current@2" in alert["message"]  # the latest numbers
    assert alert["last_seen_at"] >= alert["created_at"]
    # Another rule (another pipeline) is another alert.
    other = open_alert(ctx.workspace.catalog, pipeline="other", kind="drift", message="m")
    assert other != first.alert_id and len(list_alerts(ctx.workspace)) == 2


def test_acknowledge_then_close_records_who_and_why(ctx) -> None:  # type: ignore[no-untyped-def]
    workspace = _pipeline(ctx)
    alert_id = open_alert(workspace.catalog, pipeline="churn", kind="drift", message="moved")
    with pytest.raises(InvalidInputError, match="reason"):
        acknowledge_alert(workspace, alert_id, reason="  ", by="ana")
    with pytest.raises(NotFoundError, match="No alert 'nope'"):
        close_alert(workspace, "nope", reason="x", by="ana")
    acked = acknowledge_alert(workspace, alert_id, reason="looking into it", by="ana")
    assert acked["status"] == "acknowledged" and acked["acknowledged_by"] == "ana"
    assert acked["acknowledge_reason"] == "looking into it" and acked["acknowledged_at"]
    # Acknowledged is still active: ct retrains on it, and it still deduplicates.
    assert alert_id in ct_decision(workspace, load_pipeline(workspace, "churn")).alerts
    again = open_alert(workspace.catalog, pipeline="churn", kind="drift", message="moved more")
    assert again == alert_id
    assert list_alerts(workspace, status="active")[0]["occurrences"] == 2
    assert list_alerts(workspace, status="open") == []
    with pytest.raises(ConflictError, match="already acknowledged"):
        acknowledge_alert(workspace, alert_id, reason="again", by="ana")
    closed = close_alert(workspace, alert_id, reason="false alarm: a holiday", by="bo")
    assert (closed["status"], closed["closed_by"], closed["close_reason"]) == (
        "closed",
        "bo",
        "false alarm: a holiday",
    )
    assert closed["acknowledged_by"] == "ana"  # both steps kept
    with pytest.raises(ConflictError, match="already closed"):
        close_alert(workspace, alert_id, reason="x", by="bo")
    assert not ct_decision(workspace, load_pipeline(workspace, "churn")).alerts
    # Once closed, the rule firing again opens a new alert.
    new = open_alert(workspace.catalog, pipeline="churn", kind="drift", message="again")
    assert new != alert_id and list_alerts(workspace)[0]["occurrences"] == 1


def test_alerts_cli_ack_and_close(ctx) -> None:  # type: ignore[no-untyped-def]
    workspace = ctx.workspace
    alert_id = open_alert(workspace.catalog, pipeline="churn", kind="metric", message="low")
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["--workspace", str(workspace.root), *args])
        return result.exit_code, result.stdout

    code, out = run("alerts", "ack", alert_id, "--reason", "on it", "--by", "ana", "--json")
    assert code == 0 and json.loads(out)["status"] == "acknowledged"
    code, out = run("alerts", "list", "--status", "active")
    assert code == 0 and alert_id in out and "acknowledged" in out
    code, out = run("alerts", "close", alert_id, "--reason", "fixed upstream")
    assert code == 0 and "closed by" in out and "fixed upstream" in out
    code, out = run("alerts", "close", alert_id, "--reason", "again", "--json")
    assert code != 0 and "already closed" in out
    code, _ = run("alerts", "ack", alert_id)  # --reason is required
    assert code == 2


def test_an_ab_test_rerun_on_the_same_data_returns_the_stored_one(ctx) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    logged = pd.DataFrame(
        {
            "variant": np.repeat(["a", "b"], [500, 500]),
            "converted": (rng.random(1000) < 0.1).astype(int),
        }
    )
    first = mlops_lab.ab_test(logged, variant="variant", outcome="converted")
    again = mlops_lab.ab_test(logged.copy(), variant="variant", outcome="converted")
    assert again["id"] == first["id"] and again["existing"] is True
    assert len(list_ab_tests(ctx.workspace)) == 1
    other = mlops_lab.ab_test(logged, variant="variant", outcome="converted", control="b")
    assert other["id"] != first["id"] and len(list_ab_tests(ctx.workspace)) == 2
    closed = close_ab_test(ctx.workspace, first["id"], reason="shipped b", by="ana")
    assert (closed["status"], closed["closed_by"], closed["close_reason"]) == (
        "closed",
        "ana",
        "shipped b",
    )
    assert [t["id"] for t in list_ab_tests(ctx.workspace, status="active")] == [other["id"]]
    with pytest.raises(ConflictError):
        close_ab_test(ctx.workspace, first["id"], reason="again", by="ana")
    # Its catalog rows from before the migration (no status) read as active.
    ctx.workspace.catalog.write("UPDATE ab_tests SET status = NULL WHERE id = ?", [other["id"]])
    assert list_ab_tests(ctx.workspace, status="active")[0]["status"] == "active"


def test_drift_counts_are_the_same_in_the_report_the_alert_and_the_listing(ctx) -> None:  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    _pipeline(ctx)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"f{i}": rng.normal(0, 1, 3000) for i in range(4)})
    frame["y"] = (frame.f0 + rng.normal(0, 0.5, 3000) > 0).astype(int)
    ctx.save_dataset("train", frame)
    model = LogisticRegression().fit(frame[["f0", "f1", "f2", "f3"]], frame.y)
    mlops_lab.register_model(
        "m", model, X_sample=frame[["f0", "f1", "f2", "f3"]].head(), training_frame="train"
    )
    current = frame.assign(f0=frame.f0 + 1.5, f1=frame.f1 + 1.0)
    report = mlops_lab.check_drift(
        "train", current, columns=["f0", "f1", "f2", "f3"], model="m", pipeline="churn"
    )
    # 5 columns checked (4 features + the prediction); the prediction counted apart.
    assert "prediction" in report.drifted and len(report.columns) == 5
    counts = report.counts
    assert (counts["features"], counts["features_drifted"]) == (4, 2)
    assert counts["prediction_drifted"] is True
    [alert] = list_alerts(ctx.workspace)
    assert "2 of 4 feature columns drifted" in alert["message"]
    listed = list_drift_reports(ctx.workspace)[0][0]["counts"]
    stored = get_drift_report(ctx.workspace, report.id or "")["counts"]
    assert listed == stored == counts
    assert "2 of 4 feature columns drifted" in report._repr_html_()
    # Without a model, a column named "prediction" is a feature like any other.
    assert drift_counts(["prediction"], checked=3, with_model=False)["features_drifted"] == 1


def test_a_log_normal_column_spreads_over_the_histogram_bins() -> None:
    rng = np.random.default_rng(1)
    reference = pd.DataFrame({"spend": rng.lognormal(0, 2, 20_000)})
    current = pd.DataFrame({"spend": rng.lognormal(0.3, 2, 10_000)})
    [result] = compare_to_profile(build_profile(reference, ["spend"]), current)
    hist = result.histogram
    assert len(hist["edges"]) == 21 and len(hist["reference"]) == 20
    # min..max bins put ~95% of a sigma-2 log-normal in the first bin, equal-width bins
    # between its 1st and 99th percentiles ~79%: log-spaced bins spread it.
    assert hist["scale"] == "log"
    assert max(hist["reference"]) < 0.15
    assert sum(f > 0.01 for f in hist["reference"]) >= 5
    assert hist["below"]["reference"] == pytest.approx(0.01, abs=0.002)
    assert hist["above"]["reference"] == pytest.approx(0.01, abs=0.002)
    for side in ("reference", "current"):
        total = sum(hist[side]) + hist["below"][side] + hist["above"][side]
        assert total == pytest.approx(1.0)
    assert hist["above"]["current"] > hist["above"]["reference"]  # the shift shows in the tail
    expected = np.histogram(current.spend, bins=hist["edges"])[0] / len(current)
    assert np.allclose(hist["current"][1:-1], expected[1:-1])
    # A normal column keeps equal-width bins; a 0/1 column too (no bins spread it).
    normal = build_profile(pd.DataFrame({"x": rng.normal(0, 1, 5000)}), ["x"])
    edges = normal.numeric["x"].hist_edges
    assert np.allclose(np.diff(edges), np.diff(edges)[0])
    binary = build_profile(pd.DataFrame({"x": rng.integers(0, 2, 500)}), ["x"])
    assert binary.numeric["x"].hist_edges[[0, -1]].tolist() == [0.0, 1.0]
    # A constant column still has bins.
    [flat] = compare_to_profile(
        build_profile(pd.DataFrame({"x": [2.0] * 50}), ["x"]), pd.DataFrame({"x": [2.0] * 10})
    )
    assert sum(flat.histogram["reference"]) == pytest.approx(1.0)

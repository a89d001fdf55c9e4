"""The project definition drives the gate, evaluate's alerts and the drift check.

A challenger that is far better on the objective metric but misses a guardrail on one
slice is held; an identical challenger is "no better"; the live model under the objective
opens an alert naming the rule; explicit arguments still win.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import mlops_lab
from mlops_lab.evaluation import list_alerts
from mlops_lab.workspace import init_workspace
from tests.cli_runner import run_cli
from tests.contexts import interactive

PROJECT = """\
project:
  problem: Who churns
  task: classification
  label: churned
  objective: {metric: roc_auc, min: 0.6}
  guardrails:
    - {metric: recall, min: 0.5, slice: segment}   # in every segment
  gate: {min_improvement: 0.0}
  drift: {max_drifted_share: 0.9}
"""
FEATURES = ["signal", "noise"]


def _frame(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """Segment a: churn follows ``signal``. Segment b: a fifth churn at random while their
    ``signal`` is low, so a model of ``signal`` never flags them (recall 0 in b)."""
    rng = np.random.default_rng(seed)
    segment = rng.choice(["a", "b"], n, p=[0.7, 0.3])
    signal = rng.normal(0, 1, n)
    churned = (signal + rng.normal(0, 0.3, n) > 0).astype(int)
    in_b = segment == "b"
    signal[in_b] = rng.normal(-2.5, 0.3, in_b.sum())
    churned[in_b] = (rng.random(in_b.sum()) < 0.2).astype(int)
    return pd.DataFrame(
        {"signal": signal, "noise": rng.normal(0, 1, n), "segment": segment, "churned": churned}
    )


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[mlops_lab.RunContext]:
    init_workspace(tmp_path / "ws", name="rules", project=PROJECT)
    with interactive(tmp_path / "ws") as context:
        yield context


def _register(frame: pd.DataFrame, labels: np.ndarray) -> int:
    model = LogisticRegression().fit(frame[FEATURES], labels)
    version = mlops_lab.register_model("churn", model, X_sample=frame[FEATURES].head())
    return int(version.version)


def _holdout(ctx: mlops_lab.RunContext) -> pd.DataFrame:
    frame = _frame(seed=1)
    ctx.save_dataset("holdout", frame[[*FEATURES, "segment", "churned"]])
    return frame


def test_a_better_challenger_that_breaks_a_guardrail_on_one_slice_is_held(ctx) -> None:  # type: ignore[no-untyped-def]
    train = _frame()
    champion = _register(train, (train.noise > 0).to_numpy())  # learnt noise: ROC AUC ~0.5
    mlops_lab.promote("churn", champion, alias="champion", reason="first")
    challenger = _register(train, train.churned.to_numpy())
    holdout = _holdout(ctx)

    decision = mlops_lab.compare(
        "churn", "holdout", label="churned", candidate=str(challenger), promote_to="champion"
    )

    assert decision["difference"] > 0.2  # far better on the objective metric
    assert decision["decision"] == "hold" and decision["promoted"] is None
    checks = {c["rule"]: c for c in decision["checks"]}
    assert checks["project.objective"]["met"] is True
    guard = checks["project.guardrails[0]"]
    assert guard["met"] is False and guard["worst_slice"] == "b"
    assert [b["slice_value"] for b in guard["breaches"]] == ["b"]
    in_b = holdout[holdout.segment == "b"]
    model = LogisticRegression().fit(train[FEATURES], train.churned)
    flagged = model.predict(in_b[FEATURES])[in_b.churned.to_numpy() == 1]
    assert guard["value"] == pytest.approx(flagged.mean())
    assert (
        "breaks project.guardrails[0] (recall >= 0.5 in every segment): segment=b"
        in (decision["reason"])
    )
    assert mlops_lab.load_model("churn@champion").version.version == champion


def test_an_identical_challenger_is_no_better_and_the_champion_stays(ctx) -> None:  # type: ignore[no-untyped-def]
    train = _frame()
    train["segment"] = "a"
    labels = train.churned.to_numpy()
    champion = _register(train, labels)
    mlops_lab.promote("churn", champion, alias="champion", reason="first")
    twin = _register(train, labels)
    holdout = _frame(seed=1)
    ctx.save_dataset("holdout", holdout[holdout.segment == "a"][[*FEATURES, "segment", "churned"]])

    decision = mlops_lab.compare(
        "churn", "holdout", label="churned", candidate=str(twin), promote_to="champion"
    )

    assert decision["difference"] == 0
    assert decision["decision"] == "hold"
    assert decision["reason"].startswith("no better: kept the champion")
    assert decision["rule"]["from"] == "project.gate"
    # A non-inferiority margin, given explicitly, accepts the twin.
    again = mlops_lab.compare(
        "churn", "holdout", label="churned", candidate=str(twin), non_inferiority=0.01
    )
    assert again["decision"] == "promote"
    assert again["rule"] == {
        "non_inferiority": 0.01,
        "from": "arguments",
        "text": "non-inferiority margin 0.01",
    }


def test_evaluating_the_live_model_under_the_objective_opens_an_alert_naming_the_rule(ctx) -> None:  # type: ignore[no-untyped-def]
    train = _frame()
    weak = _register(train, (train.noise > 0).to_numpy())  # learnt noise: ROC AUC ~0.5
    _holdout(ctx)
    mlops_lab.evaluate(f"churn/{weak}", "holdout", label="churned", pipeline="churn")
    assert list_alerts(ctx.workspace) == []  # not live yet: no alert
    mlops_lab.promote("churn", weak, alias="champion", reason="first")
    ctx.save_dataset("live", _frame(seed=2)[[*FEATURES, "segment", "churned"]])

    evaluation = mlops_lab.evaluate("churn@champion", "live", label="churned", pipeline="churn")

    assert evaluation.metrics["roc_auc"] < 0.6
    alerts = {a["kind"]: a for a in list_alerts(ctx.workspace)}
    assert set(alerts) == {"objective", "guardrail"}
    assert alerts["objective"]["data"]["rule"] == "project.objective"
    assert alerts["objective"]["pipeline"] == "churn"
    assert "misses project.objective: roc_auc >= 0.6" in alerts["objective"]["message"]
    assert alerts["guardrail"]["data"]["rule"] == "project.guardrails[0]"
    # Explicit thresholds win over the project for their metric.
    ctx.save_dataset("live2", _frame(seed=3)[[*FEATURES, "segment", "churned"]])
    mlops_lab.evaluate(
        "churn@champion",
        "live2",
        label="churned",
        pipeline="churn",
        thresholds={"roc_auc": {"min": 0.1}, "recall": {"min": 0.0}},
    )
    objective = [a for a in list_alerts(ctx.workspace) if a["kind"] == "objective"]
    assert len(objective) == 1 and objective[0]["occurrences"] == 1


def test_check_drift_takes_the_projects_share_unless_given(ctx) -> None:  # type: ignore[no-untyped-def]
    reference = _frame()
    shifted = _frame(seed=4).assign(signal=lambda f: f.signal + 3)
    ctx.save_dataset("reference", reference)
    ctx.save_dataset("current", shifted)
    report = mlops_lab.check_drift("reference", "current", columns=FEATURES, pipeline="churn")
    assert report.drifted == ["signal"]  # 1 of 2 columns: under the project's 0.9
    assert list_alerts(ctx.workspace) == []
    mlops_lab.check_drift(
        "reference", "current", columns=FEATURES, pipeline="churn", max_drifted_share=0.2
    )
    (alert,) = list_alerts(ctx.workspace)
    assert alert["kind"] == "drift" and alert["data"]["rule"] == "argument"


def test_status_lifecycle_in_the_terminal_and_as_json(ctx) -> None:  # type: ignore[no-untyped-def]
    train = _frame()
    champion = _register(train, (train.noise > 0).to_numpy())
    mlops_lab.promote("churn", champion, alias="champion", reason="first")
    _holdout(ctx)
    mlops_lab.evaluate("churn@champion", "holdout", label="churned", pipeline="churn")
    root = str(ctx.workspace.root)

    code, out, _ = run_cli("--workspace", root, "status", "--lifecycle")

    assert code == 0
    assert "Project        Who churns" in out
    assert "Guardrail      recall (min 0.5) in every segment" in out
    assert "BROKEN     project.objective: roc_auc >= 0.6 = " in out
    assert "[BAD ] Train and iterate: champion churn/1 breaks the project's rules" in out
    assert "monitor -> define  Live model misses the project's rules: fired 2 time(s)" in out
    code, out, _ = run_cli("--workspace", root, "status", "--lifecycle", "--json")
    state = json.loads(out)
    assert code == 0 and state["project"]["label"] == "churned"
    assert [loop["fired"] for loop in state["loops"]] == [0, 0, 0, 2, 0]

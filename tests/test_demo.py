from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mlops_lab import Workspace
from mlops_lab.cli import cli
from mlops_lab.datachecks import checks_for_run
from mlops_lab.datasets import list_dataset_versions
from mlops_lab.demo import init_demo_workspace
from mlops_lab.evaluation import list_ab_tests, list_alerts, list_drift_reports, list_evaluations
from mlops_lab.handoff import check_notebook
from mlops_lab.lifecycle.state import lifecycle_state
from mlops_lab.models import get_model_version
from mlops_lab.pipelines import Runner, RunOptions, load_pipeline


def test_the_demo_pipeline_runs_end_to_end_then_is_cached(tmp_path: Path) -> None:
    ws = init_demo_workspace(tmp_path / "demo")
    spec = load_pipeline(ws, "churn")
    assert [s.name for s in spec.stages] == ["generate", "features", "train", "evaluate", "monitor"]
    first = Runner(ws, spec, RunOptions(jobs=2)).run()
    assert first.status == "succeeded", [(s.stage, s.error_value) for s in first.stages]
    metrics = first.metrics["evaluate"]
    assert 0.5 < metrics["roc_auc"] <= 1.0 and 0.5 < metrics["accuracy"] <= 1.0
    assert first.metrics["generate"]["customers"] == 2000.0
    for name in ("customers", "transactions", "training_frame", "holdout"):
        assert len(list_dataset_versions(ws, name)) == 1, name
    # The demo's declared data checks hold on its data (customers, transactions, training_frame).
    checked = checks_for_run(ws, first.id)
    assert {c["dataset"] for c in checked} == {"customers", "transactions", "training_frame"}
    assert [c["name"] for c in checked if not c["passed"]] == []
    assert first.stages[2].outputs is not None
    assert first.stages[2].outputs["models"]["churn"]["version"] == 1
    champion = get_model_version(ws, "churn@champion")
    assert champion.version == 1 and champion.flavor == "sklearn-skops"
    assert champion.training_dataset == "training_frame@1"
    assert champion.feature_views == ["customer_spend@1"]
    assert champion.notebook == "notebooks/03_train.ipynb" and champion.notebook_hash
    evaluations, _ = list_evaluations(ws, model="churn")
    assert [e["dataset"] for e in evaluations] == ["holdout"]
    assert evaluations[0]["metrics"]["roc_auc"] == metrics["roc_auc"]
    reports, _ = list_drift_reports(ws)
    assert reports[0]["verdict"] == "drift" and "amount_avg_30d" in reports[0]["drifted"]
    assert "segment_smb" not in reports[0]["drifted"]  # not shifted: no false alarm
    assert [a["pipeline"] for a in list_alerts(ws)] == ["churn"]
    assert list_ab_tests(ws)[0]["name"] == "retention offer"
    view = ws.features.get_feature_view("customer_spend")
    assert "amount_avg_7d" in view.feature_names and "amount_max_30d" in view.feature_names
    # The holdout split of the training frame carries its lineage (Parquet keeps frame.attrs).
    used_by = {c["id"] for c in ws.features.consumers("customer_spend")}
    assert used_by == {"training_frame@1", "holdout@1", "current_batch@1", "churn/1"}
    assert ws.features.freshness()["customer_spend"] is not None
    online = ws.features.online_reader(["customer_spend:amount_count_30d"]).get(
        {"customer_id": "c00001"}
    )
    assert online["amount_count_30d"] is None or online["amount_count_30d"] >= 1
    # The Lifecycle view's story: the project, its champion meeting its rules, the shifted
    # batch's drift alert, no loop fired yet.
    state = lifecycle_state(ws)
    assert state["project"]["objective"] == {"metric": "roc_auc", "min": 0.85}
    assert {c["rule"]: c["met"] for c in state["checks"]} == {
        "project.objective": True,
        "project.guardrails[0]": True,
    }
    steps = {s["id"]: s for s in state["steps"]}
    assert steps["train"]["summary"] == "champion churn/1"
    data = {i["label"]: i for i in steps["data"]["items"]}
    assert data["customers@1"]["status"] == "ok"
    assert "data check(s) pass" in data["customers@1"]["detail"]
    assert steps["monitor"]["status"] == "bad" and steps["monitor"]["items"][1]["rule"] == (
        "project.drift.max_drifted_share"
    )
    assert [loop["fired"] for loop in state["loops"]] == [0, 0, 0, 0, 0]
    kinds = {(e["activity"], e["kind"]) for e in state["timeline"]}
    assert {("CT", "run"), ("CD", "promotion"), ("CM", "drift"), ("CM", "alert_opened")} <= kinds
    second = Runner(ws, load_pipeline(ws, "churn"), RunOptions()).run()
    assert {s.status for s in second.stages} == {"cached"}
    # The two handoff notebooks: one ready, one failing with its findings on their cells.
    ready = check_notebook(ws, "notebooks/06_churn_report.ipynb", pipeline="reports")
    assert ready["status"] == "ready", ready["findings"]
    assert ready["contract"]["outputs"]["datasets"] == ["at_risk"]
    failing = check_notebook(ws, "notebooks/07_exploration.ipynb", pipeline="reports")
    found = {(f["check"], f["status"], f["cell"]) for f in failing["findings"]}
    assert {("paths", "warn", 4), ("execution_order", "warn", 5), ("clean_run", "fail", 4)} <= found
    assert load_pipeline(Workspace(ws.root), "reports").stages[0].name == "churn_report"


def test_init_demo_keeps_a_foreign_config(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    result = runner.invoke(cli, ["init", "--demo", str(tmp_path)])
    assert result.exit_code == 1
    assert "without the demo's 'churn' pipeline" in result.stderr
    assert not (tmp_path / "notebooks").exists()


def test_demo_notebooks_carry_this_kernels_metadata(tmp_path: Path) -> None:
    """JupyterLab replaces language_info and kernelspec with the kernel's: equal, so the
    notebooks open clean (not marked unsaved)."""
    import platform

    from jupyter_client.kernelspec import KernelSpecManager

    from mlops_lab.demo import install_demo

    spec = KernelSpecManager().get_kernel_spec("python3")
    for path in install_demo(tmp_path):
        metadata = json.loads(path.read_text())["metadata"]
        assert metadata["language_info"]["version"] == platform.python_version()
        assert metadata["language_info"]["codemirror_mode"] == {"name": "ipython", "version": 3}
        assert metadata["kernelspec"]["display_name"] == spec.display_name

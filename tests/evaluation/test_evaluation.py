"""The evaluation store: metrics equal scikit-learn's, comparisons with a gate, drift
statistics equal scipy's with the documented rule, alerts feeding CT, A/B tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LinearRegression, LogisticRegression

import mlops_lab
from mlops_lab.errors import InvalidInputError
from mlops_lab.evaluation import ColumnRule, get_evaluation, list_alerts, list_evaluations
from mlops_lab.evaluation import monitoring as monitoring_module
from mlops_lab.evaluation.drift import build_profile, compare_to_profile
from mlops_lab.pipelines.spec import load_pipeline
from mlops_lab.pipelines.triggers import ct_decision
from tests.notebooks import write_notebook, write_pipelines


def _frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure": rng.normal(30, 10, n),
            "spend": rng.gamma(2.0, 20.0, n),
            "segment": rng.choice(["retail", "smb", "enterprise"], n, p=[0.5, 0.3, 0.2]),
        }
    )
    logit = 0.08 * (frame.tenure - 30) - 0.03 * (frame.spend - 40) + rng.normal(0, 1, n)
    frame["churned"] = (logit > 0).astype(int)
    frame["value"] = 3 * frame.tenure + 0.5 * frame.spend + rng.normal(0, 5, n)
    return frame


FEATURES = ["tenure", "spend"]


def _classifier(ctx: mlops_lab.RunContext, frame: pd.DataFrame, c: float = 1.0) -> None:
    model = LogisticRegression(C=c).fit(frame[FEATURES], frame.churned)
    mlops_lab.register_model(
        "churn", model, X_sample=frame[FEATURES].head(), training_frame="train"
    )


def test_classification_metrics_equal_scikit_learn_overall_and_per_slice(ctx) -> None:  # type: ignore[no-untyped-def]
    frame = _frame()
    ctx.save_dataset("train", frame)
    _classifier(ctx, frame)
    evaluation = mlops_lab.evaluate("churn", "train", label="churned", slices=["segment"])
    model = LogisticRegression().fit(frame[FEATURES], frame.churned)
    proba = model.predict_proba(frame[FEATURES])[:, 1]
    predicted = model.predict(frame[FEATURES])
    y = frame.churned.to_numpy()
    expected = {
        "accuracy": skm.accuracy_score(y, predicted),
        "precision": skm.precision_score(y, predicted),
        "recall": skm.recall_score(y, predicted),
        "f1": skm.f1_score(y, predicted),
        "roc_auc": skm.roc_auc_score(y, proba),
        "pr_auc": skm.average_precision_score(y, proba),
        "log_loss": skm.log_loss(y, model.predict_proba(frame[FEATURES])),
        "brier": skm.brier_score_loss(y, proba),
    }
    assert evaluation.metrics.keys() == expected.keys()
    for name, value in expected.items():
        assert evaluation.metrics[name] == pytest.approx(value, rel=1e-12), name
    details = evaluation.details or {}
    assert details["confusion_matrix"]["matrix"] == skm.confusion_matrix(y, predicted).tolist()
    fraction, mean_predicted = calibration_curve(y, proba, n_bins=10)
    assert details["curves"]["calibration"]["y"] == pytest.approx(list(fraction))
    assert details["curves"]["calibration"]["x"] == pytest.approx(list(mean_predicted))
    fpr, _, _ = skm.roc_curve(y, proba)
    assert details["curves"]["roc"]["x"][0] == fpr[0] and details["curves"]["roc"]["y"][-1] == 1
    smb = next(s for s in details["slice_metrics"] if s["value"] == "smb")
    mask = (frame.segment == "smb").to_numpy()
    assert smb["rows"] == mask.sum()
    assert smb["metrics"]["roc_auc"] == pytest.approx(skm.roc_auc_score(y[mask], proba[mask]))
    assert smb["metrics"]["accuracy"] == pytest.approx(skm.accuracy_score(y[mask], predicted[mask]))
    # Stored, and the figure renders from the stored copy.
    stored = get_evaluation(ctx.workspace, evaluation.id or "")
    assert stored.metrics == evaluation.metrics
    figure = stored.plot("roc")
    assert len(figure.data) == 2 and figure.layout.xaxis.title.text == "False positive rate"
    assert "AUC" in figure.layout.title.text
    assert "roc_auc" in stored._repr_html_()


def test_regression_metrics_equal_scikit_learn(ctx) -> None:  # type: ignore[no-untyped-def]
    frame = _frame()
    ctx.save_dataset("houses", frame)
    model = LinearRegression().fit(frame[FEATURES], frame.value)
    mlops_lab.register_model("price", model, X_sample=frame[FEATURES].head())
    data = ctx.load_dataset("houses")[[*FEATURES, "value"]]
    evaluation = mlops_lab.evaluate("price", data, label="value")
    predicted = model.predict(frame[FEATURES])
    assert evaluation.task == "regression"
    assert evaluation.metrics["mae"] == pytest.approx(
        skm.mean_absolute_error(frame.value, predicted)
    )
    assert evaluation.metrics["rmse"] == pytest.approx(
        np.sqrt(skm.mean_squared_error(frame.value, predicted))
    )
    assert evaluation.metrics["r2"] == pytest.approx(skm.r2_score(frame.value, predicted))
    residuals = (evaluation.details or {})["residuals"]
    assert residuals["mean"] == pytest.approx(float(np.mean(frame.value - predicted)))
    assert sum(residuals["histogram"]["counts"]) == len(frame)
    assert evaluation.plot("residuals").data[0].type == "bar"


def test_evaluate_is_idempotent_and_refuses_bad_input(ctx) -> None:  # type: ignore[no-untyped-def]
    frame = _frame()
    ctx.save_dataset("train", frame)
    _classifier(ctx, frame)
    first = mlops_lab.evaluate("churn/1", "train", label="churned")
    again = mlops_lab.evaluate("churn", "train@1", label="churned")
    assert first.id == again.id
    assert list_evaluations(ctx.workspace, model="churn")[1] == 1
    with pytest.raises(InvalidInputError, match=r"'nope'.*columns: tenure, spend, segment"):
        mlops_lab.evaluate("churn", "train", label="nope")
    with pytest.raises(InvalidInputError, match="task='classification'"):
        mlops_lab.evaluate("churn", "train", label="churned", task="regression")
    model = LinearRegression().fit(frame[FEATURES], frame.value)
    mlops_lab.register_model("price", model, X_sample=frame[FEATURES].head())
    with pytest.raises(
        InvalidInputError, match="regression model; evaluate it with task='regression'"
    ):
        mlops_lab.evaluate("price", "train", label="churned", task="classification")
    with pytest.raises(InvalidInputError, match="missing column 'tenure'"):
        mlops_lab.evaluate(
            "churn", ctx.load_dataset("train").drop(columns=["tenure"]), label="churned"
        )


def test_compare_gates_with_a_paired_bootstrap_and_records_the_decision(ctx) -> None:  # type: ignore[no-untyped-def]
    frame = _frame(2000)
    ctx.save_dataset("train", frame)
    weak = LogisticRegression().fit(frame[["spend"]].assign(tenure=0.0)[FEATURES], frame.churned)
    mlops_lab.register_model("churn", weak, X_sample=frame[FEATURES].head())
    _classifier(ctx, frame)
    mlops_lab.promote("churn", 1, alias="champion", reason="first")
    mlops_lab.promote("churn", 2, alias="challenger", reason="uses tenure")
    passed = mlops_lab.compare(
        "churn", "train", label="churned", min_improvement=0.01, n_boot=200, promote_to="champion"
    )
    assert passed["decision"] == "promote" and passed["ci_low"] > 0.01
    assert passed["promoted"]["to"] == 2
    assert passed["difference"] == pytest.approx(
        passed["candidate_value"] - passed["baseline_value"]
    )
    held = mlops_lab.compare(
        "churn",
        "train",
        label="churned",
        baseline="2",
        candidate="1",
        n_boot=200,
        promote_to="champion",
    )
    assert held["decision"] == "hold" and held["promoted"] is None
    assert mlops_lab.load_model("churn@champion").version.version == 2
    from mlops_lab.evaluation import list_comparisons

    decisions = [c["decision"] for c in list_comparisons(ctx.workspace, model="churn")]
    assert sorted(decisions) == ["hold", "promote"]


def _shifted(n: int, seed: int, *, shift: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = [0.32, 0.3, 0.24, 0.14] if shift else [0.4, 0.3, 0.2, 0.1]  # Jensen-Shannon 0.083
    return pd.DataFrame(
        {
            "stable": rng.normal(0, 1, n),
            "moved": rng.normal(0.3 if shift else 0.0, 1, n),
            "plan": rng.choice(["a", "b", "c", "d"], n, p=p),
            "tiny": rng.normal(0.02 if shift else 0.0, 1, n),  # real but too small to matter
            "visits": rng.poisson(3.0, n),  # integers: many ties
        }
    )


@pytest.mark.parametrize("n", [3000, 30_000])
def test_drift_statistics_equal_scipy(n: int) -> None:
    reference, current = _shifted(n, 1, shift=False), _shifted(n // 2 + 7, 2, shift=True)
    profile = build_profile(reference, list(reference.columns))
    results = {r.column: r for r in compare_to_profile(profile, current)}
    for column in ("stable", "moved", "tiny", "visits"):
        ks = stats.ks_2samp(reference[column], current[column])
        assert results[column].statistic == pytest.approx(ks.statistic, abs=1e-12)
        assert results[column].p_value == pytest.approx(ks.pvalue, rel=1e-9, abs=1e-300)
        w = stats.wasserstein_distance(reference[column], current[column])
        assert results[column].effect_size == pytest.approx(w / reference[column].std(ddof=0))
    table = pd.crosstab(
        np.r_[np.zeros(len(reference)), np.ones(len(current))],
        np.r_[reference.plan.to_numpy(), current.plan.to_numpy()],
    ).to_numpy()
    chi2 = stats.chi2_contingency(table)
    assert results["plan"].statistic == pytest.approx(chi2.statistic)
    assert results["plan"].p_value == pytest.approx(chi2.pvalue, rel=1e-9, abs=1e-300)
    js = jensenshannon(table[0] / table[0].sum(), table[1] / table[1].sum(), base=2)
    assert results["plan"].effect_size == pytest.approx(js)
    names = ("stable", "moved", "tiny", "visits", "plan")
    adjusted = stats.false_discovery_control([results[c].p_value for c in names], method="bh")
    got = [results[c].p_adjusted for c in names]
    assert got == pytest.approx(list(adjusted))


def test_the_default_rule_finds_small_categorical_shifts_but_not_negligible_ones() -> None:
    reference, current = _shifted(200_000, 1, shift=False), _shifted(200_000, 2, shift=True)
    results = {
        r.column: r for r in compare_to_profile(build_profile(reference, list(reference)), current)
    }
    # The distance-only rule (> 0.1) misses this shift; significance + floor catches it.
    assert 0.05 <= results["plan"].effect_size < 0.1 and results["plan"].drifted
    assert results["moved"].drifted
    # Significant on 200k rows, but below the effect floor: not an alarm.
    assert results["tiny"].p_adjusted < 0.05 and not results["tiny"].drifted
    assert not results["stable"].drifted
    overridden = compare_to_profile(
        build_profile(reference, ["tiny", "plan"]),
        current,
        {"tiny": ColumnRule(method="ks"), "plan": ColumnRule(method="psi", threshold=0.5)},
    )
    assert [(r.column, r.drifted) for r in overridden] == [("tiny", True), ("plan", False)]
    with pytest.raises(InvalidInputError, match="needs a threshold"):
        ColumnRule(method="psi")


def test_drift_report_is_stored_reuses_the_profile_and_opens_an_alert_for_ct(
    ctx, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    write_notebook(ctx.workspace.root / "train.ipynb", "x = 1", "y = x")
    workspace = write_pipelines(
        ctx.workspace,
        """
        pipelines:
          churn:
            stages:
              - {name: train, notebook: train.ipynb}
    """,
    )
    ctx.save_dataset("reference", _shifted(5000, 1, shift=False))
    ctx.save_dataset("current", _shifted(5000, 2, shift=True))
    report = mlops_lab.check_drift("reference", "current", pipeline="churn")
    assert report.drifted == ["moved", "plan"] and report.verdict == "drift"
    assert report.id and report.alert_id
    assert report.to_frame().column.tolist()[:2] == ["moved", "plan"]
    assert report.plot("plan").data[0].name == "reference"
    alerts = list_alerts(workspace)
    assert [a["id"] for a in alerts] == [report.alert_id]
    assert (
        alerts[0]["pipeline"] == "churn"
        and "2 of 5 feature columns drifted" in alerts[0]["message"]
    )
    decision = ct_decision(workspace, load_pipeline(workspace, "churn"))
    assert decision.run and report.alert_id in decision.alerts
    # The reference profile is stored once and reused, even by a fresh process.
    monitoring_module._profiles.clear()

    def no_rebuild(*_: object) -> None:
        raise AssertionError("the reference profile was computed again")

    monkeypatch.setattr(monitoring_module, "build_profile", no_rebuild)
    again = mlops_lab.check_drift("reference", "current", max_drifted_share=0.9)
    assert again.drifted == report.drifted and again.alert_id is None
    assert workspace.catalog.read_value("SELECT count(*) FROM drift_profiles") == 1
    assert workspace.catalog.read_value("SELECT count(*) FROM drift_reports") == 2


def test_prediction_drift(ctx) -> None:  # type: ignore[no-untyped-def]
    frame = _frame(3000)
    ctx.save_dataset("train", frame)
    _classifier(ctx, frame)
    current = _frame(3000, seed=5).assign(tenure=lambda f: f.tenure + 15)
    report = mlops_lab.check_drift("train", current, columns=FEATURES, model="churn")
    assert "prediction" in report.drifted and report.model == {"name": "churn", "version": 1}
    assert "predictions drifted" in (report.alert_reason or "")


def test_ab_tests_equal_scipy(ctx) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    logged = pd.DataFrame(
        {
            "variant": np.repeat(["control", "treatment"], [4000, 3000]),
            "converted": np.r_[rng.random(4000) < 0.10, rng.random(3000) < 0.12].astype(int),
            "revenue": np.r_[rng.gamma(2, 10, 4000), rng.gamma(2, 11, 3000)],
        }
    )
    ctx.save_dataset("outcomes", logged)
    rate = mlops_lab.ab_test("outcomes", variant="variant", outcome="converted")
    assert rate["kind"] == "rate" and rate["control"] == "control" and rate["id"]
    result = rate["comparisons"][0]
    table = pd.crosstab(logged.variant, logged.converted).to_numpy()
    chi2 = stats.chi2_contingency(table, correction=False)
    assert result["statistic"] ** 2 == pytest.approx(chi2.statistic)
    assert result["p_value"] == pytest.approx(chi2.pvalue)
    assert [v["n"] for v in rate["variants"]] == [4000, 3000]
    mean = mlops_lab.ab_test("outcomes", variant="variant", outcome="revenue")
    revenue = {v: logged.revenue[logged.variant == v] for v in ("control", "treatment")}
    welch = stats.ttest_ind(revenue["treatment"], revenue["control"], equal_var=False)
    assert mean["kind"] == "mean" and mean["comparisons"][0]["test"] == "Welch t"
    assert mean["comparisons"][0]["p_value"] == pytest.approx(welch.pvalue)
    ci = welch.confidence_interval(0.95)
    assert mean["comparisons"][0]["ci_low"] == pytest.approx(ci.low)
    with pytest.raises(InvalidInputError, match="No variant 'B'"):
        mlops_lab.ab_test("outcomes", variant="variant", outcome="converted", control="B")


def test_notebook_browsers_show_models_versions_and_evaluations(ctx) -> None:  # type: ignore[no-untyped-def]
    from mlops_lab.widgets import EvaluationBrowser, ModelBrowser, metric_over_versions

    frame = _frame()
    ctx.save_dataset("train", frame)
    _classifier(ctx, frame)
    _classifier(ctx, frame, c=0.1)
    mlops_lab.promote("churn", 2, alias="champion", reason="better")
    for version in (1, 2):
        mlops_lab.evaluate(f"churn/{version}", "train", label="churned")
    mlops_lab.check_drift("train", frame.assign(tenure=frame.tenure + 5), columns=FEATURES)
    models = ModelBrowser(ctx.workspace)
    assert list(models.models.options) == ["churn"]
    models.models.value = "churn"
    assert [label for label, _ in models.versions.options] == ["2 (champion)", "1"]
    assert "better" in models.details.value
    models.versions.value = 2
    assert "train@1" in models.details.value and "tenure" in models.details.value
    browser = EvaluationBrowser(ctx.workspace, "churn")
    assert browser.metric.value == "roc_auc" and len(browser.chosen.options) == 2
    assert "tenure" in browser.drift.value and "drifted" in browser.drift.value
    trend = metric_over_versions(browser.evaluations, "roc_auc")
    assert [list(t.x) for t in trend.data] == [[1, 2]] and trend.data[0].name == "train"


def test_evaluation_cli(ctx) -> None:  # type: ignore[no-untyped-def]
    import json

    from click.testing import CliRunner

    from mlops_lab.cli import cli

    frame = _frame()
    ctx.save_dataset("train", frame)
    _classifier(ctx, frame)
    evaluation = mlops_lab.evaluate("churn", "train", label="churned")
    report = mlops_lab.check_drift(
        "train", frame.assign(tenure=frame.tenure + 5), columns=FEATURES, pipeline="churn"
    )
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["--workspace", str(ctx.workspace.root), *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    listed = json.loads(run("evaluations", "list", "--model", "churn", "--json"))
    assert listed["evaluations"][0]["id"] == evaluation.id
    assert f"{evaluation.metrics['roc_auc']:.4f}" in run("evaluations", "list")
    assert report.id in run("drift", "list")
    shown = run("drift", "show", report.id or "")
    assert shown.splitlines()[3].startswith("tenure") and "yes" in shown.splitlines()[3]
    assert report.alert_id in run("alerts", "list")
    assert "No closed alerts." in run("alerts", "list", "--status", "closed")
    assert "training data train@1" in run("models", "show", "churn")


def test_a_monitored_metric_below_its_threshold_opens_an_alert(ctx) -> None:  # type: ignore[no-untyped-def]
    frame = _frame()
    ctx.save_dataset("train", frame)
    _classifier(ctx, frame)
    fine = mlops_lab.evaluate(
        "churn", "train", label="churned", thresholds={"roc_auc": {"min": 0.5}}, pipeline="churn"
    )
    assert list_alerts(ctx.workspace) == []
    ctx.save_dataset("later", _frame(seed=9).assign(churned=lambda f: 1 - f.churned))
    worse = mlops_lab.evaluate(
        "churn", "later", label="churned", thresholds={"roc_auc": {"min": 0.5}}, pipeline="churn"
    )
    assert fine.metrics["roc_auc"] > 0.5 > (worse.metrics["roc_auc"] or 1)
    alerts = list_alerts(ctx.workspace)
    assert [(a["pipeline"], a["kind"]) for a in alerts] == [("churn", "metric")]
    assert "roc_auc" in alerts[0]["message"] and "later@1" in alerts[0]["message"]

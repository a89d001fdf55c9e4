"""Serving a model alias: online features, signature checks, canary split, alias moves,
prediction logging, and the HTTP service end to end (a real `mlops-lab serve` process)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tornado.httpclient import HTTPClientError

from mlops_lab import Workspace
from mlops_lab.datasets import load_dataset
from mlops_lab.errors import InvalidInputError
from mlops_lab.models import load_model, promote, register_model
from mlops_lab.pipelines import load_pipeline
from mlops_lab.serving.predictor import Predictor
from mlops_lab.serving.predlog import PredictionLog, read_predictions
from tests.contexts import interactive
from tests.paths import REPO
from tests.serving.demo import offline_features as _offline
from tests.serving.demo import training_row as _row


def test_predict_reads_online_features_and_checks_the_signature(demo: Workspace) -> None:
    predictor = Predictor(demo, "churn@champion")
    answer = predictor.predict({"customer_id": "c00001"}, _offline(demo, "c00001"))
    model = load_model(demo, "churn@champion")
    columns = [c["name"] for c in model.version.signature["inputs"]]
    row = _row(demo, "c00001")
    frame = pd.DataFrame(
        [{c: row[c].item() if hasattr(row[c], "item") else row[c] for c in columns}]
    )
    expected = model.predict_proba(frame)[0, 1]
    assert answer["score"] == pytest.approx(expected, rel=1e-9)
    assert answer["variant"] == "champion" and answer["version"] == 1
    assert set(answer["probabilities"]) == {"False", "True"}
    # Windows are computed as of the request time: never stale.
    assert answer["stale_features"] == {}
    # A customer without purchases has empty windows (count 0, null amounts): the model's
    # imputer reads them as 0, as in training; predicted, not refused.
    quiet = predictor.predict({"customer_id": "c99999"}, _offline(demo, "c00001"))
    frame = pd.DataFrame([{c: _offline(demo, "c00001").get(c, np.nan) for c in columns}])
    frame["amount_count_7d"] = frame["amount_count_30d"] = 0
    assert quiet["score"] == pytest.approx(model.predict_proba(frame)[0, 1], rel=1e-9)
    with pytest.raises(InvalidInputError, match="days_since_last, tenure_days"):
        predictor.predict({"customer_id": "c00001"})
    with pytest.raises(InvalidInputError, match="lacks join key 'customer_id'"):
        predictor.predict({"id": "c00001"}, _offline(demo, "c00001"))
    metadata = predictor.metadata()
    assert metadata["served"]["champion"]["online_features"]["customer_spend"]


@pytest.fixture
def challenger(demo: Workspace) -> Iterator[int]:
    frame = load_dataset(demo, "training_frame")
    champion = load_model(demo, "churn@champion")
    columns = [c["name"] for c in champion.version.signature["inputs"]]
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    imputer = SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True)
    model = make_pipeline(imputer, StandardScaler(), LogisticRegression())
    model.fit(frame[columns].astype(float), frame.churned)
    version = register_model(
        demo, "churn", model, X_sample=frame[columns].head(), training_dataset="training_frame@1"
    )
    promote(demo, "churn", version.version, alias="challenger", reason="test", by="test")
    yield int(version.version or 0)
    promote(demo, "churn", 1, alias="champion", reason="restore", by="test")


def test_the_canary_split_is_sticky_and_moves_without_restart(
    demo: Workspace, challenger: int
) -> None:
    predictor = Predictor(demo, "churn@champion", challenger="churn@challenger", split=0.3)
    entities = [{"customer_id": f"c{i:05d}"} for i in range(2000)]
    shares = np.mean([predictor.variant(e) == "challenger" for e in entities])
    assert 0.26 < shares < 0.34
    assert {predictor.variant(entities[7]) for _ in range(20)} == {predictor.variant(entities[7])}
    answer = predictor.predict({"customer_id": "c00002"}, _offline(demo, "c00002"))
    assert answer["version"] == (challenger if answer["variant"] == "challenger" else 1)
    predictor.split.set(1.0, reason="full rollout")
    assert predictor.predict({"customer_id": "c00003"}, _offline(demo, "c00003"))["version"] == (
        challenger
    )
    predictor.split.set(0.0, reason="rollback")
    assert {predictor.variant(e) for e in entities[:100]} == {"champion"}
    assert [h["reason"] for h in predictor.split.history] == ["start", "full rollout", "rollback"]


def test_an_alias_move_is_picked_up_and_a_broken_version_keeps_the_old(
    demo: Workspace, challenger: int
) -> None:
    predictor = Predictor(demo, "churn@champion")
    promote(demo, "churn", challenger, alias="champion", reason="won", by="test")
    assert predictor.refresh() == ["champion"]
    assert predictor.slots["champion"].version == challenger
    # A version whose blob is corrupted: refused by the hash check, the old one keeps serving.
    bad = register_model(
        demo,
        "churn",
        load_model(demo, f"churn/{challenger}").model,
        training_dataset="training_frame@1",
    )
    blob = demo.state_dir / "artifacts" / bad.artifact_hash[:2] / bad.artifact_hash
    blob.write_bytes(blob.read_bytes()[:-10] + b"0123456789")
    promote(demo, "churn", int(bad.version or 0), alias="champion", reason="bad", by="test")
    assert predictor.refresh() == []
    assert predictor.slots["champion"].version == challenger
    assert "ArtifactCorruptError" in (predictor.slots["champion"].last_error or "")


def test_prediction_logging_loses_nothing_on_close(demo: Workspace, tmp_path: Path) -> None:
    log = PredictionLog(tmp_path / "log", batch=50, interval=0.05)
    predictor = Predictor(demo, "churn@champion", log=log)
    for i in range(120):
        predictor.predict({"customer_id": f"c{i:05d}"}, _offline(demo, f"c{i:05d}"))
    counts = log.close()
    assert counts["appended"] == counts["written"] == 120
    frame = read_predictions(tmp_path / "log")
    assert len(frame) == 120 and set(frame.variant) == {"champion"}
    assert json.loads(frame.entity.iloc[0]) == {"customer_id": "c00000"}
    assert "amount_avg_7d" in json.loads(frame.features.iloc[0])


def test_served_windows_match_the_offline_store(demo: Workspace) -> None:
    """Consistency: the served values, recomputed offline as of their logged times."""
    import shutil

    from mlops_lab.serving.consistency import check_consistency, consistency_reports

    folder = demo.state_dir / "predictions" / "consistency-test"
    log = PredictionLog(folder, batch=25, interval=0.05)
    predictor = Predictor(demo, "churn@champion", log=log)
    customers = [f"c{i:05d}" for i in range(40)] + ["c99999"]  # one without purchases
    for customer in customers:
        predictor.predict({"customer_id": customer}, _offline(demo, "c00001"))
    log.close()
    frame = read_predictions(folder)
    served = json.loads(frame.online.iloc[0])
    assert "customer_spend@1:amount_avg_7d" in served and frame.features_at.notna().all()
    try:
        since = frame.logged_at.min().to_pydatetime()
        report = check_consistency(demo, "customer_spend", since=since)
        assert report["verdict"] == "consistent" and report["mismatches"] == 0
        assert report["rows_checked"] == len(customers)
        checked = {f["feature"]: f["checked"] for f in report["features"]}
        assert checked["amount_count_7d"] == len(customers) and len(checked) == 10
        # A served value the offline store disagrees with is found, with its example.
        bad = PredictionLog(folder, batch=10, interval=0.05)
        at = frame.features_at.iloc[0].to_pydatetime()
        bad.append(
            "r1",
            "champion",
            "churn",
            1,
            {"customer_id": "c00001"},
            {},
            0.5,
            online={"customer_spend@1:amount_count_7d": 999},
            features_at=at,
        )
        bad.close()
        report = check_consistency(demo, "customer_spend", since=since, alert_pipeline="churn")
        wrong = {f["feature"]: f for f in report["features"]}["amount_count_7d"]
        assert report["verdict"] == "mismatch" and report["mismatches"] == wrong["mismatches"] == 1
        assert wrong["examples"][0]["online"] == 999 and report["alert"]
        stored = consistency_reports(demo, "customer_spend")
        assert stored[0]["id"] == report["id"] and stored[0]["mismatches"] == 1
        assert stored[0]["alert"] == report["alert"]
    finally:
        shutil.rmtree(folder)
        demo.catalog.write("UPDATE alerts SET status = 'closed' WHERE kind = 'consistency'")


def test_an_empty_window_for_a_model_without_imputation_is_a_clear_error(
    demo: Workspace,
) -> None:
    from sklearn.linear_model import LogisticRegression

    frame = load_dataset(demo, "training_frame")
    champion = load_model(demo, "churn@champion")
    columns = [c["name"] for c in champion.version.signature["inputs"]]
    model = LogisticRegression(max_iter=500).fit(frame[columns].fillna(0.0), frame.churned)
    version = register_model(
        demo,
        "churn_no_nan",
        model,
        X_sample=frame[columns].head(),
        training_dataset="training_frame@1",
    )
    predictor = Predictor(demo, f"churn_no_nan/{version.version}")
    with pytest.raises(InvalidInputError, match=r"amount_avg_7d.*does not accept missing"):
        predictor.predict({"customer_id": "c99999"}, _offline(demo, "c00001"))
    active = frame[frame.amount_count_7d > 0].customer_id.iloc[0]  # every window has events
    answer = predictor.predict({"customer_id": active}, _offline(demo, active))
    assert 0 <= answer["score"] <= 1
    assert predictor._fast[("churn_no_nan", int(version.version or 0))] is True  # still on


def test_entity_keys_and_feature_types_are_checked_by_name(demo: Workspace) -> None:
    from mlops_lab.errors import InvalidFieldError

    predictor = Predictor(demo, "churn@champion")
    # A list as a join key used to reach the online store and come back as a 503.
    with pytest.raises(InvalidFieldError, match=r"entity\.customer_id: .* got a list") as bad:
        predictor.predict({"customer_id": ["x"]}, _offline(demo, "c00001"))
    assert bad.value.http_status == 422
    with pytest.raises(InvalidFieldError, match=r"features\.tenure_days: .*bool"):
        predictor.predict(
            {"customer_id": "c00001"}, {**_offline(demo, "c00001"), "tenure_days": True}
        )
    # JSON's 400.0 for an integer column is 400, on the checked path too (it was a 422).
    key = ("churn", 1)
    predictor._fast[key] = False
    answer = predictor.predict(
        {"customer_id": "c00001"}, {**_offline(demo, "c00001"), "tenure_days": 400.0}
    )
    fast = Predictor(demo, "churn@champion").predict(
        {"customer_id": "c00001"}, {**_offline(demo, "c00001"), "tenure_days": 400}
    )
    assert answer["score"] == pytest.approx(fast["score"], rel=1e-9)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _call(url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text.startswith("{") else text
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read().decode())


def test_the_http_service_end_to_end(demo: Workspace) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlops_lab",
            "--workspace",
            str(demo.root),
            "serve",
            "churn@champion",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if _call(base + "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        status, answer = _call(
            base + "/predict",
            {"entity": {"customer_id": "c00001"}, "features": _offline(demo, "c00001")},
        )
        assert status == 200 and answer["model"] == "churn" and 0 <= answer["score"] <= 1
        status, batch = _call(
            base + "/predict",
            {
                "instances": [
                    {
                        "entity": {"customer_id": f"c0000{i}"},
                        "features": _offline(demo, f"c0000{i}"),
                    }
                    for i in range(3)
                ]
            },
        )
        assert status == 200 and len(batch["predictions"]) == 3
        # No purchases known: empty windows (count 0), predicted as in training.
        status, quiet = _call(
            base + "/predict",
            {"entity": {"customer_id": "nobody"}, "features": _offline(demo, "c00001")},
        )
        assert status == 200 and 0 <= quiet["score"] <= 1
        status, error = _call(base + "/predict", {"entity": {"customer_id": "c00001"}})
        assert status == 422 and "days_since_last" in error["error"]["message"]
        status, error = _call(base + "/predict", {"entiti": {}})
        assert status == 422 and "entiti" in error["error"]["message"]
        assert _call(base + "/rollout", {"split": 0.5})[0] == 422  # no challenger served
        status, metadata = _call(base + "/metadata")
        assert metadata["served"]["champion"]["version"] == 1
        status, metrics = _call(base + "/metrics")
        assert 'mlops_lab_requests_total{variant="champion",status="200"} 3' in metrics
        assert 'mlops_lab_request_seconds_count{variant="champion"}' in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Predictions logged: 5 of 5" in stderr


def test_monitoring_logged_predictions_opens_an_alert_for_ct(demo: Workspace) -> None:
    from mlops_lab.datasets import save_dataset
    from mlops_lab.evaluation import list_alerts
    from mlops_lab.pipelines.triggers import ct_decision
    from mlops_lab.serving.monitor import monitor

    log = PredictionLog(demo.state_dir / "predictions" / "test-monitor")
    predictor = Predictor(demo, "churn@champion", log=log)
    frame = load_dataset(demo, "training_frame")
    for customer in frame.customer_id.head(300):
        features = _offline(demo, customer)
        features["days_since_last"] = features["days_since_last"] + 45  # customers went quiet
        predictor.predict({"customer_id": customer}, features)
    log.close()
    save_dataset(demo, "outcomes", frame[["customer_id", "churned"]].head(300))
    before = {a["id"] for a in list_alerts(demo)}
    with interactive(demo.root):
        result = monitor(demo, "churn@champion", outcomes="outcomes", label="churned")
    assert result["predictions"] >= 300 and result["pipeline"] == "churn"  # + the HTTP test's
    assert "days_since_last" in result["drift"]["drifted"]
    assert "amount_avg_7d" not in result["drift"]["drifted"]  # served as stored: no drift
    assert result["evaluation"]["rows"] == 300  # one row per entity with an outcome
    assert 0 <= result["evaluation"]["metrics"]["roc_auc"] <= 1
    opened = [a for a in list_alerts(demo) if a["id"] not in before]
    assert {a["pipeline"] for a in opened} == {"churn"}
    assert "drift" in {a["kind"] for a in opened}
    # The demo's project definition judges the live model: ROC AUC at least 0.85.
    objective = [a for a in opened if a["kind"] == "objective"]
    if result["evaluation"]["metrics"]["roc_auc"] < 0.85:
        assert [a["data"]["rule"] for a in objective] == ["project.objective"]
    else:
        assert objective == []
    decision = ct_decision(demo, load_pipeline(demo, "churn"))
    assert decision.run and {a["id"] for a in opened} <= set(decision.alerts)


async def test_deployments_and_a_quick_try_through_the_jupyter_server(
    demo: Workspace, jp_fetch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_LAB_HOME", str(demo.root))
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlops_lab",
            "--workspace",
            str(demo.root),
            "serve",
            "churn@champion",
            "--challenger",
            "churn@champion",
            "--split",
            "0.2",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"

    async def api(*parts: str, body: Any = None, **params: Any) -> Any:
        options = {"method": "POST", "body": json.dumps(body)} if body is not None else {}
        response = await jp_fetch("mlops-lab", "api", *parts, params=params, **options)
        return json.loads(response.body)

    try:
        for _ in range(100):
            try:
                if _call(base + "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        for i in range(20):
            customer = f"c{i:05d}"
            _call(
                base + "/predict",
                {"entity": {"customer_id": customer}, "features": _offline(demo, customer)},
            )
        assert _call(base + "/predict", {"entity": {"customer_id": "c00001"}})[0] == 422
        listed = (await api("deployments"))["deployments"]
        mine = next(d for d in listed if d["url"] == base)
        assert mine["alive"] and mine["split"] == 0.2 and mine["challenger"] == "churn@champion"
        served = sum(sum(v.values()) for v in mine["metrics"]["requests"].values())
        assert served == 21
        errors = mine["metrics"]["errors"].values()  # the 422 is the client's: no error rate
        assert sum(e["client_errors"] for e in errors) == 1
        assert {e["server_errors"] for e in errors} == {0} and {
            e["error_rate"] for e in errors
        } == {0}
        history = await api("deployments", mine["id"], "history")
        assert history["deployment_id"] == mine["id"] and history["bucket_seconds"] == 10
        counted = [c for b in history["buckets"] for c in b["variants"].values()]
        assert sum(c["requests"] for c in counted) == 21
        assert sum(c["client_errors"] for c in counted) == 1
        change = await api(
            "deployments", mine["id"], "split", body={"split": 0.5, "reason": "healthy"}
        )
        assert (change["from"], change["to"]) == (0.2, 0.5)
        assert _call(base + "/metadata")[1]["split"] == 0.5
        with pytest.raises(HTTPClientError) as bad:
            await api("deployments", mine["id"], "split", body={"split": 2})
        assert bad.value.code == 422
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    stopped = (await api("deployments", all="true"))["deployments"]
    mine = next(d for d in stopped if d["url"] == base)
    assert mine["status"] == "stopped" and not mine["alive"]
    with pytest.raises(HTTPClientError) as gone:
        await api("deployments", mine["id"], "history")
    assert gone.value.code == 409 and "stopped" in gone.value.response.body.decode()
    assert mine["counts"]["written"] == mine["counts"]["appended"] == 20
    tried = await api(
        "models",
        "churn",
        "predict",
        body={
            "ref": "churn/1",
            "entity": {"customer_id": "c00001"},
            "features": _offline(demo, "c00001"),
        },
    )
    direct = Predictor(demo, "churn/1").predict({"customer_id": "c00001"}, _offline(demo, "c00001"))
    assert tried["score"] == pytest.approx(direct["score"]) and tried["version"] == 1
    quiet = await api(
        "models",
        "churn",
        "predict",
        body={"entity": {"customer_id": "zz"}, "features": _offline(demo, "c00001")},
    )  # no purchases known: empty windows, predicted as in training
    assert 0 <= quiet["score"] <= 1
    with pytest.raises(HTTPClientError) as bad:
        await api("models", "churn", "predict", body={"entity": {"customer_id": "zz"}})
    assert bad.value.code == 400 and "days_since_last" in bad.value.response.body.decode()


def test_an_unreachable_online_store_is_a_503_and_the_predictor_stays_up(demo: Workspace) -> None:
    from mlops_lab.errors import OnlineStoreUnavailableError
    from mlops_lab.features.online import RedisOnlineStore

    predictor = Predictor(demo, "churn@champion")
    inputs = predictor.inputs_of(predictor.slots["champion"].current)
    assert inputs.reader is not None
    working = inputs.reader.store
    inputs.reader.store = RedisOnlineStore("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        with pytest.raises(OnlineStoreUnavailableError) as failed:
            predictor.predict({"customer_id": "c00001"}, _offline(demo, "c00001"))
        assert failed.value.http_status == 503 and "cannot be reached" in failed.value.message
    finally:
        inputs.reader.store = working
    assert predictor.predict({"customer_id": "c00001"}, _offline(demo, "c00001"))["version"] == 1


def test_monitoring_a_canary_compares_the_variants_outcomes(demo: Workspace) -> None:
    from mlops_lab.datasets import save_dataset
    from mlops_lab.serving.monitor import monitor

    log = PredictionLog(demo.state_dir / "predictions" / "test-canary")
    predictor = Predictor(demo, "churn@champion", challenger="churn@champion", split=0.5, log=log)
    frame = load_dataset(demo, "training_frame")
    bought = set(load_dataset(demo, "transactions").customer_id)  # in the online store
    customers = [c for c in frame.customer_id.iloc[400:800] if c in bought]
    for customer in customers:
        predictor.predict({"customer_id": customer}, _offline(demo, customer))
    log.close()
    save_dataset(
        demo,
        "canary_outcomes",
        frame[frame.customer_id.isin(customers)][["customer_id", "churned"]],
    )
    with interactive(demo.root):
        result = monitor(demo, "churn@champion", outcomes="canary_outcomes", label="churned")
    test = result["evaluation"]["ab_test"]
    assert test is not None and [c["variant"] for c in test["comparisons"]] == ["challenger"]
    from mlops_lab.evaluation.store import get_ab_test

    stored = get_ab_test(demo, test["id"])
    assert stored["control"] == "champion"
    assert sum(v["n"] for v in stored["variants"]) == len(customers)

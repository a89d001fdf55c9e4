"""REST for the model and evaluation stores, against a real Jupyter server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from tornado.httpclient import HTTPClientError

import mlops_lab
from mlops_lab import init_workspace
from tests.contexts import interactive


def _store(root: Path) -> None:
    """Two versions of churn (champion, challenger), evaluations, a drift report, an A/B test."""
    init_workspace(root, name="api")
    with interactive(root) as ctx:
        rng = np.random.default_rng(0)
        frame = pd.DataFrame({"x": rng.normal(size=500), "segment": rng.choice(["a", "b"], 500)})
        frame["y"] = (frame.x + rng.normal(size=500) > 0).astype(int)
        ctx.save_dataset("train", frame)
        for c in (1.0, 0.01):
            model = LogisticRegression(C=c).fit(frame[["x"]], frame.y)
            mlops_lab.register_model(
                "churn",
                model,
                X_sample=frame[["x"]].head(),
                training_frame="train",
                description="Churn classifier",
            )
            mlops_lab.evaluate("churn", "train", label="y", slices=["segment"])
        mlops_lab.promote("churn", 1, alias="champion", reason="first")
        mlops_lab.promote("churn", 2, alias="challenger", reason="stronger regularisation")
        mlops_lab.compare("churn", "train", label="y", n_boot=100)
        mlops_lab.check_drift(
            "train", frame.assign(x=frame.x + 1), columns=["x", "segment"], pipeline="churn"
        )
        outcomes = pd.DataFrame({"variant": ["A", "B"] * 100, "converted": [0, 1, 1, 0] * 50})
        mlops_lab.ab_test(outcomes, variant="variant", outcome="converted")


async def _get(jp_fetch: Any, *parts: str, **params: Any) -> Any:
    response = await jp_fetch("mlops-lab", "api", *parts, params=params)
    return json.loads(response.body)


async def test_models_versions_lineage_and_alias_moves(jp_fetch: Any, jp_root_dir: Path) -> None:
    _store(jp_root_dir)
    listed = await _get(jp_fetch, "models")
    assert listed["total"] == 1
    churn = listed["models"][0]
    assert churn["name"] == "churn" and churn["latest"] == 2 and churn["versions"] == 2
    assert churn["aliases"] == {"challenger": 2, "champion": 1}
    assert churn["headline"]["metric"] == "roc_auc" and churn["headline"]["dataset"] == "train@1"
    assert (await _get(jp_fetch, "models", q="classif"))["total"] == 1
    assert (await _get(jp_fetch, "models", q="nothing"))["models"] == []
    detail = await _get(jp_fetch, "models", "churn", limit="1")
    assert detail["total"] == 2 and [v["version"] for v in detail["versions"]] == [2]
    assert detail["versions"][0]["aliases"] == ["challenger"]
    assert detail["versions"][0]["metrics"]["roc_auc"] > 0.5
    assert [h["reason"] for h in detail["history"]] == ["stronger regularisation", "first"]
    version = await _get(jp_fetch, "models", "churn", "versions", "1")
    assert version["training_dataset"] == "train@1" and version["run"]["status"] == "interactive"
    assert version["signature"]["inputs"] == [{"name": "x", "kind": "float", "dtype": "float64"}]
    assert len(version["evaluations"]) == 1
    response = await jp_fetch(
        "mlops-lab",
        "api",
        "models",
        "churn",
        "aliases",
        method="POST",
        body=json.dumps({"alias": "champion", "version": 2, "reason": "won the gate"}),
    )
    moved = json.loads(response.body)
    assert (moved["from"], moved["to"]) == (1, 2)
    history = (await _get(jp_fetch, "models", "churn"))["history"]
    assert history[0]["reason"] == "won the gate" and history[0]["to_version"] == 2


async def test_evaluations_comparisons_drift_ab_tests_and_alerts(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    _store(jp_root_dir)
    evaluations = await _get(jp_fetch, "evaluations", model="churn")
    assert evaluations["total"] == 2
    first = evaluations["evaluations"][0]
    detail = await _get(jp_fetch, "evaluations", first["id"])
    assert detail["metrics"] == first["metrics"]
    assert {s["value"] for s in detail["slice_metrics"]} == {"a", "b"}
    assert len(detail["curves"]["roc"]["x"]) == len(detail["curves"]["roc"]["y"]) > 2
    comparisons = (await _get(jp_fetch, "comparisons", model="churn"))["comparisons"]
    assert comparisons[0]["baseline"] == 1 and comparisons[0]["decision"] in ("promote", "hold")
    reports = await _get(jp_fetch, "drift")
    assert reports["total"] == 1 and reports["reports"][0]["drifted"] == ["x"]
    report = await _get(jp_fetch, "drift", reports["reports"][0]["id"])
    x = next(c for c in report["columns"] if c["column"] == "x")
    assert x["drifted"] and len(x["histogram"]["reference"]) == len(x["histogram"]["current"])
    tests = (await _get(jp_fetch, "ab-tests"))["tests"]
    assert tests[0]["control"] == "A" and tests[0]["comparisons"][0]["variant"] == "B"
    assert (await _get(jp_fetch, "ab-tests", tests[0]["id"]))["id"] == tests[0]["id"]
    alerts = (await _get(jp_fetch, "alerts"))["alerts"]
    assert [a["pipeline"] for a in alerts] == ["churn"] and alerts[0]["kind"] == "drift"
    assert (await _get(jp_fetch, "alerts", status="closed"))["alerts"] == []
    assert alerts[0]["occurrences"] == 1 and alerts[0]["status"] == "open"
    assert reports["reports"][0]["counts"]["summary"] == "1 of 2 feature columns drifted"


async def _post(jp_fetch: Any, *parts: str, body: dict[str, Any]) -> Any:
    response = await jp_fetch("mlops-lab", "api", *parts, method="POST", body=json.dumps(body))
    return json.loads(response.body)


async def test_alerts_are_acknowledged_and_closed_and_ab_tests_closed_with_who_and_why(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    _store(jp_root_dir)
    [alert] = (await _get(jp_fetch, "alerts"))["alerts"]
    acked = await _post(jp_fetch, "alerts", alert["id"], "acknowledge", body={"reason": "on it"})
    assert acked["status"] == "acknowledged" and acked["acknowledge_reason"] == "on it"
    assert acked["acknowledged_by"]  # the server's user
    assert (await _get(jp_fetch, "alerts"))["alerts"] == []  # no longer open...
    assert len((await _get(jp_fetch, "alerts", status="active"))["alerts"]) == 1  # ...but active
    with pytest.raises(HTTPClientError) as twice:
        await _post(jp_fetch, "alerts", alert["id"], "acknowledge", body={"reason": "again"})
    assert twice.value.code == 409
    closed = await _post(jp_fetch, "alerts", alert["id"], "close", body={"reason": "retrained"})
    assert closed["status"] == "closed" and closed["close_reason"] == "retrained"
    [test] = (await _get(jp_fetch, "ab-tests"))["tests"]
    assert test["status"] == "active"
    archived = await _post(jp_fetch, "ab-tests", test["id"], "close", body={"reason": "done"})
    assert archived["status"] == "closed" and archived["closed_by"]
    assert (await _get(jp_fetch, "ab-tests", status="active"))["tests"] == []
    assert len((await _get(jp_fetch, "ab-tests", status="closed"))["tests"]) == 1


ERRORS: list[tuple[str, tuple[str, ...], dict[str, Any] | None, int, str]] = [
    ("GET", ("models", "nope"), None, 404, "No model 'nope'"),
    ("GET", ("models", "churn", "versions", "9"), None, 404, "versions: 1, 2"),
    ("GET", ("models", "churn", "versions", "x"), None, 400, "version must be an integer"),
    ("GET", ("evaluations", "e0"), None, 404, "No evaluation"),
    ("GET", ("drift", "d0"), None, 404, "No drift report"),
    ("GET", ("alerts",), None, 400, "'status' is one of open, acknowledged, active, closed, all"),
    ("POST", ("alerts", "a0", "close"), {"reason": "x"}, 404, "No alert 'a0'"),
    ("POST", ("alerts", "a0", "acknowledge"), {}, 422, "reason: is required"),
    ("POST", ("alerts", "a0", "acknowledge"), {"reason": "x", "by": "me"}, 422, "by"),
    ("POST", ("ab-tests", "t0", "close"), {"reason": "x"}, 404, "No A/B test 't0'"),
    (
        "POST",
        ("models", "churn", "aliases"),
        {"alias": "champion", "version": 1},
        422,
        "reason: is required",
    ),
    (
        "POST",
        ("models", "churn", "aliases"),
        {"alias": "champion", "version": 1, "reason": " "},
        400,
        "Give a reason",
    ),
    (
        "POST",
        ("models", "churn", "aliases"),
        {"alias": "no way", "version": 1, "reason": "x"},
        422,
        "alias: 'no way' is not valid",
    ),
    (
        "POST",
        ("models", "churn", "aliases"),
        {"alias": "champion", "version": 7, "reason": "x"},
        404,
        "has no version 7",
    ),
]


async def test_model_store_errors(jp_fetch: Any, jp_root_dir: Path) -> None:
    _store(jp_root_dir)
    for method, parts, body, status, message in ERRORS:
        params = {"status": "bogus"} if parts == ("alerts",) else {}
        with pytest.raises(HTTPClientError) as failed:
            await jp_fetch(
                "mlops-lab",
                "api",
                *parts,
                method=method,
                params=params,
                **({"body": json.dumps(body)} if body is not None else {}),
            )
        assert failed.value.code == status, parts
        assert message in json.loads(failed.value.response.body)["error"]["message"]

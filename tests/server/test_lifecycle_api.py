"""GET/PUT /project, POST /project/validate and GET /lifecycle against a real server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
import yaml
from sklearn.linear_model import LogisticRegression
from tornado.httpclient import HTTPClientError

import mlops_lab
from mlops_lab import init_workspace
from tests.contexts import interactive
from tests.lifecycle.test_gate_rules import FEATURES, PROJECT, _frame
from tests.server.test_feature_streams_api import _schema

COMMENTED = PROJECT.replace("problem: Who churns", "problem: Who churns  # ask sales")


async def _json(jp_fetch: Any, *path: str, **kwargs: Any) -> Any:
    response = await jp_fetch("mlops-lab", "api", *path, **kwargs)
    return json.loads(response.body)


async def test_no_project_then_one_written_from_the_form_keeping_comments(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    init_workspace(jp_root_dir)
    config = jp_root_dir / "mlops_lab.yaml"
    assert (await _json(jp_fetch, "project"))["defined"] is False
    proposed = {
        "problem": "Who churns",
        "objective": {"metric": "roc_auc", "min": 0.8},
        "guardrails": [{"metric": "recall", "min": 0.6, "slice": "segment"}],
        "owners": {"science": "team-a"},
    }
    saved = await _json(jp_fetch, "project", method="PUT", body=json.dumps({"project": proposed}))
    assert saved["defined"] is True and saved["objective"] == {"metric": "roc_auc", "min": 0.8}
    text = config.read_text()
    assert "# Pipelines of papermill stages" in text  # the template's comments stayed
    assert yaml.safe_load(text)["project"]["guardrails"] == proposed["guardrails"]
    jsonschema.validate(saved, _schema("ProjectState"))


async def test_a_save_keeps_the_sections_comments_and_refuses_an_invalid_definition(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    init_workspace(jp_root_dir, project=COMMENTED)
    config = jp_root_dir / "mlops_lab.yaml"
    current = await _json(jp_fetch, "project")
    edited = {k: v for k, v in current.items() if k not in ("defined", "file")}
    edited["objective"]["min"] = 0.75
    await _json(jp_fetch, "project", method="PUT", body=json.dumps({"project": edited}))
    text = config.read_text()
    assert "problem: Who churns  # ask sales" in text
    assert "- {metric: recall, min: 0.5, slice: segment}   # in every segment" in text
    assert "objective: {metric: roc_auc, min: 0.75}" in text

    bad = {**edited, "objective": {"metric": "roc_auc"}}
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch(
            "mlops-lab", "api", "project", method="PUT", body=json.dumps({"project": bad})
        )
    assert refused.value.code == 422
    error = json.loads(refused.value.response.body)["error"]
    assert "project.objective: needs a bound: min: VALUE" in error["message"]
    assert any(p.startswith("project.objective: needs a bound") for p in error["problems"])
    assert config.read_text() == text  # nothing written

    checked = await _json(
        jp_fetch,
        "project",
        "validate",
        method="POST",
        body=json.dumps({"project": {**bad, "task": "ranking"}}),
    )
    assert checked["valid"] is False
    assert "project.objective: needs a bound: min: VALUE" in checked["problems"]
    assert any(p.startswith("project.task: must be one of") for p in checked["problems"])
    good = await _json(
        jp_fetch, "project", "validate", method="POST", body=json.dumps({"project": edited})
    )
    assert good["valid"] is True and good["project"]["gate"] == {"min_improvement": 0.0}


async def test_lifecycle_state_after_a_gate_held_and_an_objective_alert(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    init_workspace(jp_root_dir, project=PROJECT)
    with interactive(jp_root_dir) as ctx:
        train = _frame()
        weak = LogisticRegression().fit(train[FEATURES], (train.noise > 0).to_numpy())
        strong = LogisticRegression().fit(train[FEATURES], train.churned)
        champion = mlops_lab.register_model("churn", weak, X_sample=train[FEATURES].head())
        mlops_lab.promote("churn", champion.version, alias="champion", reason="first")
        challenger = mlops_lab.register_model("churn", strong, X_sample=train[FEATURES].head())
        ctx.save_dataset("holdout", _frame(seed=1)[[*FEATURES, "segment", "churned"]])
        mlops_lab.compare("churn", "holdout", label="churned", candidate=str(challenger.version))
        mlops_lab.evaluate("churn@champion", "holdout", label="churned", pipeline="churn")

    state = await _json(jp_fetch, "lifecycle")

    jsonschema.validate(state, _schema("Lifecycle"))
    assert [s["id"] for s in state["steps"]] == ["data", "train", "deploy", "monitor"]
    steps = {s["id"]: s for s in state["steps"]}
    assert steps["train"]["status"] == "bad"  # the champion breaks the objective
    assert steps["deploy"]["status"] == "idle"
    assert steps["monitor"]["summary"] == "2 open alert(s)"
    assert {c["rule"]: c["met"] for c in state["checks"]} == {
        "project.objective": False,
        "project.guardrails[0]": False,
    }
    loops = {loop["id"]: loop for loop in state["loops"]}
    assert loops["gate_held"]["fired"] == 1 and loops["gate_held"]["link"]["kind"] == "comparison"
    assert loops["objective_missed"]["fired"] == 2
    assert loops["retrain"]["fired"] == 0
    kinds = [(e["activity"], e["kind"]) for e in state["timeline"]]
    assert ("CT", "gate") in kinds and ("CD", "promotion") in kinds
    assert kinds.count(("CM", "alert_opened")) == 2
    assert state["timeline"] == sorted(state["timeline"], key=lambda e: e["at"], reverse=True)
    assert np.all([e["link"]["id"] for e in state["timeline"]])

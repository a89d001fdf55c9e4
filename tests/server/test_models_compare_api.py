"""REST for comparing model versions and for a version's example request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from tornado.httpclient import HTTPClientError

from mlops_lab import Workspace
from mlops_lab.datasets import load_dataset
from mlops_lab.models.registry import register_model
from tests.server.test_models_api import _get, _store


def _unevaluated(root: Path) -> None:
    """Version 3 of churn: no training dataset recorded, never evaluated."""
    frame = pd.DataFrame({"x": np.linspace(-1, 1, 50)})
    model = LogisticRegression().fit(frame[["x"]], (frame.x > 0).astype(int))
    register_model(
        Workspace(root),
        "churn",
        model,
        X_sample=frame.head(),
        parameters={"C": 1.0, "features": ["x"], "max_iter": 100},
    )


async def test_compare_lines_versions_up_on_shared_datasets(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    _store(jp_root_dir)
    compared = await _get(jp_fetch, "models", "churn", "compare", versions="2,1")
    assert [v["version"] for v in compared["versions"]] == [2, 1]
    assert compared["versions"][1]["aliases"] == ["champion"]
    [shared] = compared["datasets"]
    assert (shared["dataset"], shared["dataset_version"]) == ("train", 1)
    auc = next(m for m in shared["metrics"] if m["name"] == "roc_auc")
    assert auc["higher_is_better"] and len(auc["values"]) == 2
    if auc["values"][0] != auc["values"][1]:
        assert auc["best"] == (0 if auc["values"][0] > auc["values"][1] else 1)
    assert compared["signature"] == [
        {"name": "x", "values": ["float64", "float64"], "differs": False}
    ]
    lineage = {row["name"]: row for row in compared["lineage"]}
    assert lineage["training_dataset"] == {
        "name": "training_dataset",
        "values": ["train@1", "train@1"],
        "differs": False,
    }


async def test_compare_shares_no_dataset_with_an_unevaluated_version(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    _store(jp_root_dir)
    _unevaluated(jp_root_dir)
    compared = await _get(jp_fetch, "models", "churn", "compare", versions="1,3")
    assert compared["datasets"] == []
    params = {p["name"]: p for p in compared["parameters"]}
    assert params["C"] == {"name": "C", "values": [None, 1.0], "differs": True}
    assert params["features"]["values"] == [None, ["x"]]
    lineage = {row["name"]: row for row in compared["lineage"]}
    assert lineage["training_dataset"]["values"] == ["train@1", None]
    assert lineage["training_dataset"]["differs"]


async def test_example_is_a_real_training_row(jp_fetch: Any, jp_root_dir: Path) -> None:
    _store(jp_root_dir)
    example = await _get(jp_fetch, "models", "churn", "versions", "1", "example")
    train = load_dataset(Workspace(jp_root_dir), "train", 1)
    assert example["dataset"] == "train@1" and example["row"] == 0
    assert example["entity"] == {} and example["online"] == []
    assert example["features"] == {"x": pytest.approx(float(train.x.iloc[0]))}


@pytest.mark.parametrize(
    ("parts", "params", "status", "message"),
    [
        (("models", "churn", "compare"), {"versions": "1"}, 400, "between 2 and 8"),
        (("models", "churn", "compare"), {"versions": "1,x"}, 400, "?versions=1,2"),
        (("models", "churn", "compare"), {}, 400, "?versions=1,2"),
        (("models", "churn", "compare"), {"versions": "1,9"}, 404, "churn"),
        (("models", "nope", "compare"), {"versions": "1,2"}, 404, "nope"),
        (("models", "churn", "versions", "3", "example"), {}, 400, "no training dataset"),
        (("models", "churn", "versions", "9", "example"), {}, 404, "churn"),
    ],
)
async def test_compare_and_example_errors(
    jp_fetch: Any,
    jp_root_dir: Path,
    parts: tuple[str, ...],
    params: dict[str, str],
    status: int,
    message: str,
) -> None:
    _store(jp_root_dir)
    _unevaluated(jp_root_dir)
    with pytest.raises(HTTPClientError) as failed:
        await jp_fetch("mlops-lab", "api", *parts, params=params)
    assert failed.value.code == status
    assert message in json.loads(failed.value.response.body)["error"]["message"]


async def test_a_training_dataset_version_in_detail(jp_fetch: Any, jp_root_dir: Path) -> None:
    _store(jp_root_dir)
    found = await _get(jp_fetch, "datasets", "train", "versions", "1")
    assert (found["name"], found["version"], found["row_count"]) == ("train", 1, 500)
    assert [c["name"] for c in found["columns"]] == ["x", "segment", "y"]
    assert found["run_id"] and found["created_at"]
    with pytest.raises(HTTPClientError) as failed:
        await jp_fetch("mlops-lab", "api", "datasets", "train", "versions", "7")
    assert failed.value.code == 404

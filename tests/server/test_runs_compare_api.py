"""GET /runs/compare?runs=: 2 to 50 runs side by side; ?a=&b= still answers as before."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from mlops_lab import init_workspace
from tests.pipelines.test_compare import record_run


async def _get(fetch: Any, params: Any) -> Any:
    response = await fetch("mlops-lab", "api", "runs", "compare", params=params)
    return json.loads(response.body)


def _three_runs(root: Path) -> None:
    workspace = init_workspace(root)
    for run_id, lr, loss in [("r1", 0.1, 0.5), ("r2", 0.01, 0.4), ("r3", 0.2, 0.7)]:
        record_run(
            workspace,
            run_id,
            parameters={"train": {"lr": lr, "depth": 3}},
            metrics={"train": {"val_loss": loss}},
        )


async def test_runs_side_by_side(jp_fetch: Any, jp_root_dir: Path) -> None:
    _three_runs(jp_root_dir)
    compared = await _get(jp_fetch, {"runs": "r1,r2,r3"})
    assert compared["baseline"] == "r1"
    assert [r["id"] for r in compared["runs"]] == ["r1", "r2", "r3"]
    lr = next(p for p in compared["parameters"] if p["name"] == "lr")
    assert (lr["values"], lr["differs"]) == ([0.1, 0.01, 0.2], True)
    [loss] = compared["metrics"]
    assert loss["higher_is_better"] is False
    assert loss["changes"] == [None, "better", "worse"]
    assert loss["best"] == 1
    # Repeated parameters and comma lists add up, in order.
    again = await _get(jp_fetch, [("runs", "r3"), ("runs", "r1,r2")])
    assert [r["id"] for r in again["runs"]] == ["r3", "r1", "r2"]


async def test_two_runs_by_a_and_b_answer_as_before(jp_fetch: Any, jp_root_dir: Path) -> None:
    _three_runs(jp_root_dir)
    diff = await _get(jp_fetch, {"a": "r1", "b": "r2"})
    assert set(diff) == {"a", "b", "parameters", "metrics"}
    assert diff["parameters"] == [{"stage": "train", "name": "lr", "a": 0.1, "b": 0.01}]
    assert diff["metrics"][0]["change"] == "better"


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({"runs": "r1"}, 400, "between 2 and 50 runs, got 1"),
        ({"runs": ",".join(["r1"] * 51)}, 400, "between 2 and 50 runs, got 51"),
        ({"runs": "r1,r2,r1"}, 400, "Run 'r1' is given more than once"),
        ({"runs": "r1,,r2"}, 400, "An empty run id"),
        ({"runs": "r1,r2", "a": "r1"}, 400, "not both"),
        ({"runs": "r1,r-nope"}, 404, "No run 'r-nope'"),
        ({}, 400, "?runs=RUN_ID,RUN_ID"),
        ({"b": "r2"}, 400, "?a=RUN_ID&b=RUN_ID"),
    ],
)
async def test_bad_comparisons_are_refused(
    jp_fetch: Any, jp_root_dir: Path, params: dict[str, str], status: int, fragment: str
) -> None:
    _three_runs(jp_root_dir)
    with pytest.raises(HTTPClientError) as info:
        await _get(jp_fetch, params)
    assert info.value.code == status
    assert info.value.response is not None
    assert fragment in json.loads(info.value.response.body)["error"]["message"]

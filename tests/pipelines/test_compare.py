"""Runs side by side (mlops_lab.pipelines.compare): 2 to 50 runs, the first the baseline."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlops_lab import Workspace
from mlops_lab.errors import InvalidInputError, RunNotFoundError
from mlops_lab.pipelines.compare import MAX_COMPARED_RUNS, compare_many


def record_run(
    workspace: Workspace,
    run_id: str,
    *,
    parameters: dict[str, dict[str, Any]],
    metrics: dict[str, dict[str, float]],
    started_at: str = "2026-01-01 12:00:00",
) -> None:
    """A finished run as the runner records it: a row, a stage row each, their metrics."""

    def write(con: Any) -> None:
        con.execute(
            "INSERT INTO runs (id, pipeline, kind, trigger, reason, status, parameters, "
            "started_at, ended_at) VALUES (?, 'sweep', 'pipeline', 'cli', '', 'succeeded', "
            "'{}', ?, ?)",
            [run_id, started_at, started_at],
        )
        for position, (stage, values) in enumerate(parameters.items()):
            con.execute(
                "INSERT INTO stage_runs (run_id, stage, position, needs, notebook, source_hash, "
                "parameters, status) VALUES (?, ?, ?, '[]', ?, 'h', ?, 'succeeded')",
                [run_id, stage, position, f"{stage}.ipynb", json.dumps(values)],
            )
        for stage, values in metrics.items():
            for name, value in values.items():
                con.execute(
                    "INSERT INTO metrics (run_id, stage, name, step, value) VALUES (?, ?, ?, ?, ?)",
                    [run_id, stage, name, None, value],
                )

    workspace.catalog.transaction(write)


def _sweep(workspace: Workspace) -> None:
    record_run(
        workspace,
        "r1",
        parameters={"train": {"lr": 0.1, "depth": 3}},
        metrics={"train": {"accuracy": 0.8, "val_loss": 0.5}},
    )
    record_run(
        workspace,
        "r2",
        parameters={"train": {"lr": 0.01, "depth": 3}},
        metrics={"train": {"accuracy": 0.9, "val_loss": 0.6}},
    )
    record_run(
        workspace,
        "r3",
        parameters={"train": {"lr": 0.1, "depth": 3, "seed": 7}},
        metrics={"train": {"accuracy": 0.8, "latency_ms": 12.5}},
    )


def test_runs_line_up_on_the_union_with_deltas_from_the_baseline(workspace: Workspace) -> None:
    _sweep(workspace)
    compared = compare_many(workspace, ["r1", "r2", "r3"])
    assert compared["baseline"] == "r1"
    assert [r["id"] for r in compared["runs"]] == ["r1", "r2", "r3"]
    assert compared["runs"][0]["pipeline"] == "sweep"
    params = {p["name"]: p for p in compared["parameters"]}
    assert list(params) == ["depth", "lr", "seed"]
    assert params["depth"] == {
        "stage": "train",
        "name": "depth",
        "values": [3, 3, 3],
        "missing": [False, False, False],
        "differs": False,
    }
    assert params["lr"]["values"] == [0.1, 0.01, 0.1] and params["lr"]["differs"]
    # A parameter only one run has: missing elsewhere, and it differs.
    assert params["seed"]["values"] == [None, None, 7]
    assert params["seed"]["missing"] == [True, True, False] and params["seed"]["differs"]

    metrics = {m["name"]: m for m in compared["metrics"]}
    assert list(metrics) == ["accuracy", "latency_ms", "val_loss"]
    accuracy = metrics["accuracy"]
    assert accuracy["higher_is_better"] is True
    assert accuracy["values"] == [0.8, 0.9, 0.8]
    assert accuracy["deltas"][0] is None and accuracy["deltas"][1] == pytest.approx(0.1)
    assert accuracy["deltas"][2] == 0
    assert accuracy["changes"] == [None, "better", "same"]
    assert accuracy["best"] == 1
    loss = metrics["val_loss"]
    assert loss["higher_is_better"] is False
    assert loss["changes"] == [None, "worse", None]  # r3 has no val_loss
    assert loss["missing"] == [False, False, True] and loss["deltas"][2] is None
    assert loss["best"] == 0  # lower is better
    latency = metrics["latency_ms"]
    # Only r3 has it: no delta from a baseline that has none, no best of one value.
    assert latency["values"] == [None, None, 12.5]
    assert latency["deltas"] == [None, None, None] and latency["changes"] == [None, None, None]
    assert latency["best"] is None


def test_the_order_asked_is_kept_and_the_first_is_the_baseline(workspace: Workspace) -> None:
    _sweep(workspace)
    compared = compare_many(workspace, ["r2", "r1"])
    assert compared["baseline"] == "r2"
    accuracy = next(m for m in compared["metrics"] if m["name"] == "accuracy")
    assert accuracy["values"] == [0.9, 0.8]
    assert accuracy["changes"] == [None, "worse"]
    assert accuracy["deltas"][1] == pytest.approx(-0.1)


def test_a_tie_for_best_goes_to_the_first_run(workspace: Workspace) -> None:
    _sweep(workspace)
    record_run(
        workspace,
        "r4",
        parameters={"train": {"lr": 0.5, "depth": 3}},
        metrics={"train": {"accuracy": 0.9}},
    )
    accuracy = next(
        m for m in compare_many(workspace, ["r1", "r4", "r2"])["metrics"] if m["name"] == "accuracy"
    )
    assert accuracy["best"] == 1


@pytest.mark.parametrize(
    ("ids", "fragment"),
    [
        (["r1"], "between 2 and 50 runs, got 1"),
        ([], "between 2 and 50 runs, got 0"),
        ([f"r{i}" for i in range(MAX_COMPARED_RUNS + 1)], "between 2 and 50 runs, got 51"),
        (["r1", "r2", "r1"], "Run 'r1' is given more than once"),
    ],
)
def test_too_few_too_many_or_repeated_runs_are_refused(
    workspace: Workspace, ids: list[str], fragment: str
) -> None:
    _sweep(workspace)
    with pytest.raises(InvalidInputError, match=fragment.replace("(", r"\(")):
        compare_many(workspace, ids)


def test_an_unknown_run_is_named(workspace: Workspace) -> None:
    _sweep(workspace)
    with pytest.raises(RunNotFoundError, match="r-nope"):
        compare_many(workspace, ["r1", "r-nope"])

"""CT that learns from what arrived: requests served by a real `mlops-lab serve` process,
their outcomes collected into a dataset, a CT run triggered by the alert training on
the training frame with those rows appended (features as served, point in time)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pandas as pd
import pytest

from mlops_lab import Workspace
from mlops_lab.datasets import get_dataset_version, load_dataset, save_dataset
from mlops_lab.demo import init_demo_workspace
from mlops_lab.errors import InvalidInputError
from mlops_lab.features.served import append_served_rows
from mlops_lab.lifecycle.state import lifecycle_state
from mlops_lab.models import get_model_version
from mlops_lab.pipelines import Runner, RunOptions, load_pipeline
from mlops_lab.pipelines.service import run_trigger
from mlops_lab.pipelines.triggers import ct_decision
from mlops_lab.serving.monitor import monitor
from mlops_lab.serving.predlog import PredictionLog, make_record, read_predictions
from mlops_lab.serving.served_rows import (
    collect_served_outcomes,
    new_training_data,
    served_training_rows,
)
from tests.contexts import interactive
from tests.paths import REPO
from tests.serving.demo import offline_features

SERVED = 60  # requests sent (monitor wants 50 to judge drift)
WINDOWS = ["amount_avg_7d", "amount_count_7d", "amount_sum_30d", "amount_max_30d"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, list[dict]]]:
    """A small demo workspace after one run, and the answers of SERVED requests to a real
    server for customers who went quiet (45 more days since their last purchase)."""
    ws = init_demo_workspace(tmp_path_factory.mktemp("ct") / "demo")
    small = load_pipeline(ws, "churn", overrides={"n_customers": 600, "batch": 200})
    assert Runner(ws, small, RunOptions(jobs=2)).run().status == "succeeded"
    frame = load_dataset(ws, "training_frame")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    serve = ("serve", "churn@champion", "--port", str(port))
    server = subprocess.Popen(
        [sys.executable, "-m", "mlops_lab", "--workspace", str(ws.root), *serve],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stderr=subprocess.PIPE,
        text=True,
    )
    answers = []
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        for customer in frame.customer_id.head(SERVED):
            features = offline_features(ws, customer)
            features["days_since_last"] += 45
            body = json.dumps({"entity": {"customer_id": customer}, "features": features})
            request = urllib.request.Request(f"http://127.0.0.1:{port}/predict", body.encode())
            with urllib.request.urlopen(request, timeout=10) as response:
                answers.append({**json.loads(response.read()), "sent": features})
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)
    assert f"Predictions logged: {SERVED} of {SERVED}" in stderr
    yield ws, answers


def test_served_requests_with_outcomes_become_training_rows_once_each(
    served: tuple[Workspace, list[dict]],
) -> None:
    ws, answers = served
    frame = load_dataset(ws, "training_frame")
    # The same request logged twice (a retried write): one training row all the same.
    logged = read_predictions(ws.state_dir / "predictions")
    first = logged.iloc[0]
    again = PredictionLog(ws.state_dir / "predictions" / "replayed")
    again.extend(
        [
            make_record(
                first.request_id,
                first.variant,
                first.model,
                int(first.version),
                json.loads(first.entity),
                json.loads(first.features),
                first.prediction,
                online=json.loads(first.online),
                features_at=first.features_at.to_pydatetime(),
            )
        ]
    )
    assert again.close()["written"] == 1
    # Outcomes for the served customers and for others never served (not training rows).
    outcomes = frame[["customer_id", "churned"]].head(SERVED + 40)
    save_dataset(ws, "outcomes", outcomes)
    with interactive(ws.root):
        result = monitor(
            ws, "churn@champion", outcomes="outcomes", label="churned", collect="served_outcomes"
        )
    assert result["consistency"]["customer_spend"]["mismatches"] == 0
    collected = result["collected"]
    assert collected["version"] == 1 and collected["rows"] == collected["new_rows"] == SERVED
    assert set(collected["request_ids"]) == {a["request_id"] for a in answers}
    rows = load_dataset(ws, "served_outcomes")
    assert len(rows) == SERVED and rows.request_id.is_unique
    # Features as served: what the client sent, and the windows as of each request.
    by_request = rows.set_index("request_id")
    for answer in answers:
        row = by_request.loc[answer["request_id"]]
        assert {c: row[c] for c in answer["sent"]} == answer["sent"]
        truth = outcomes.set_index("customer_id").churned[row.customer_id]
        assert row.churned == truth
    entity_df = rows[["customer_id"]].assign(event_timestamp=rows.served_at)
    offline = ws.features.get_training_frame(
        entity_df, [f"customer_spend:{name}" for name in WINDOWS]
    )
    pd.testing.assert_frame_equal(
        offline[WINDOWS].reset_index(drop=True).astype(float),
        rows[WINDOWS].reset_index(drop=True),
        check_names=False,
    )
    # Collecting again adds nothing: each request is in the collection once.
    again_collected = collect_served_outcomes(
        ws, "churn@champion", outcomes="outcomes", label="churned"
    )
    assert again_collected["version"] is None and again_collected["new_rows"] == 0
    assert get_dataset_version(ws, "served_outcomes").version == 1


def test_a_ct_run_on_the_alert_trains_on_the_frame_with_the_served_rows(
    served: tuple[Workspace, list[dict]],
) -> None:
    ws, answers = served
    before = get_dataset_version(ws, "training_frame")
    spec = load_pipeline(ws, "churn", overrides={"n_customers": 600, "batch": 200})
    decision = ct_decision(ws, spec)
    assert decision.run and decision.alerts
    assert "dataset served_outcomes has a new version (1)" in decision.reason
    # The alert forces every stage: the features stage rebuilds the frame from the
    # generated data and appends the collection, the train stage trains on it.
    _, record = run_trigger(ws, spec, "ct", RunOptions())
    assert record is not None and record.status == "succeeded", record
    after = get_dataset_version(ws, "training_frame")
    assert after.version == (before.version or 0) + 1
    assert after.row_count == before.row_count + SERVED
    trained = get_model_version(ws, "churn")
    assert trained.run_id == record.id
    assert trained.training_dataset == f"training_frame@{after.version}"
    frame = load_dataset(ws, "training_frame", after.version)
    appended = frame.tail(SERVED).reset_index(drop=True)
    collection = load_dataset(ws, "served_outcomes")
    pd.testing.assert_frame_equal(
        appended.drop(columns=["segment"]),
        collection[list(frame.columns.drop("segment"))].astype(frame.dtypes.drop("segment")),
    )
    customers = load_dataset(ws, "customers").set_index("customer_id").segment
    assert (appended.segment == appended.customer_id.map(customers)).all()  # filled
    learned = new_training_data(ws, record.id)
    assert learned is not None
    assert learned["version"] == after.version and learned["rows"] == after.row_count
    assert learned["previous"] == {"version": before.version, "rows": before.row_count}
    assert learned["served"]["filled"] == ["segment"] and learned["served"]["left_null"] == []
    assert learned["new"]["rows"] == SERVED
    assert set(learned["new"]["request_ids"]) == {a["request_id"] for a in answers}
    assert learned["new"]["from"] <= learned["new"]["to"]
    assert new_training_data(ws, _first_run(ws)) is None  # trained on generated data only
    # The lifecycle: the CT loop fired once, on the frame holding the outcomes that arrived.
    loops = {loop["id"]: loop for loop in lifecycle_state(ws)["loops"]}
    assert loops["retrain"]["fired"] == 1 and loops["retrain"]["link"]["id"] == record.id
    assert loops["retrain"]["learned"]["new"]["rows"] == SERVED
    assert loops["retrain"]["learned"]["version"] == after.version


def test_outcomes_join_by_request_id_and_bad_inputs_are_explained(
    served: tuple[Workspace, list[dict]],
) -> None:
    ws, answers = served
    one = answers[0]["request_id"]
    # An outcome naming its request: only that request, not the entity's others.
    rows = served_training_rows(
        ws,
        "churn",
        outcomes=pd.DataFrame({"request_id": [one], "churned": [True]}),
        label="churned",
    )
    assert rows.request_id.tolist() == [one] and rows.churned.tolist() == [True]
    with pytest.raises(InvalidInputError, match="no column 'label'"):
        served_training_rows(ws, "churn", outcomes="outcomes", label="label")
    with pytest.raises(InvalidInputError, match="share no entity key"):
        served_training_rows(
            ws, "churn", outcomes=pd.DataFrame({"user": ["u"], "churned": [1]}), label="churned"
        )
    with pytest.raises(InvalidInputError, match="not a collection of served requests"):
        collect_served_outcomes(
            ws, "churn", outcomes="outcomes", label="churned", into="training_frame"
        )
    with pytest.raises(InvalidInputError, match="not a collection of served requests"):
        append_served_rows(
            load_dataset(ws, "training_frame"),
            load_dataset(ws, "outcomes"),
            source=get_dataset_version(ws, "outcomes"),
        )
    with pytest.raises(InvalidInputError, match="needs their outcomes"):
        monitor(ws, "churn@champion", collect="served_outcomes")
    assert get_dataset_version(ws, "served_outcomes").version == 1  # nothing written


def _first_run(ws: Workspace) -> str:
    found = ws.catalog.read_value(
        "SELECT id FROM runs WHERE pipeline = 'churn' ORDER BY started_at LIMIT 1"
    )
    return str(found)

"""Feature views registered in a pipeline stage are committed with the stage's other outputs."""

from __future__ import annotations

import pandas as pd

from mlops_lab import Workspace
from mlops_lab.datasets import save_dataset
from mlops_lab.pipelines import Runner, RunOptions, load_pipeline
from mlops_lab.pipelines.records import RunRecord
from tests.notebooks import write_notebook, write_pipelines

T0 = pd.Timestamp("2026-03-01", tz="UTC")
H = pd.Timedelta(hours=1)

# Registers a window view, uses it at once (a training frame, the online store), then
# fails when asked to: after the view and its uses were recorded.
REGISTER_AND_USE = """\
import mlops_lab, pandas as pd
ctx = mlops_lab.context()
store = ctx.workspace.features
view = store.register_feature_view(
    "spend", entity="customer", source="tx", timestamp="at", run_id=ctx.run_id,
    aggregations=[{"column": "amount", "functions": ["sum"], "windows": ["1d"]}],
)
entities = pd.DataFrame({"customer_id": ["a", "b"],
                         "event_timestamp": [pd.Timestamp("2026-03-01 06:00", tz="UTC")] * 2})
frame = store.get_training_frame(entities, ["spend:amount_sum_1d"])
ctx.save_dataset("frame", frame)
store.materialize("spend")
ctx.log_params({"view_version": view.version})
assert not fail, "the stage fails after registering the view"
"""

PIPELINE = """
pipelines:
  features:
    stages:
      - name: spend
        notebook: spend.ipynb
        outputs: {datasets: [frame]}
"""


def _workspace(workspace: Workspace) -> Workspace:
    events = pd.DataFrame(
        {"customer_id": ["a", "a", "b"], "at": [T0, T0 + H, T0 + 2 * H], "amount": [1.0, 2.0, 10.0]}
    )
    save_dataset(workspace, "tx", events)
    workspace.features.register_entity("customer", ["customer_id"])
    write_notebook(workspace.root / "spend.ipynb", "fail = 0", REGISTER_AND_USE)
    return write_pipelines(workspace, PIPELINE)


def _run(ws: Workspace, **overrides: object) -> RunRecord:
    spec = load_pipeline(ws, "features", overrides=overrides)
    return Runner(ws, spec, RunOptions()).run()


def _count(ws: Workspace, table: str, where: str = "true") -> int:
    return int(ws.catalog.read_value(f"SELECT count(*) FROM {table} WHERE {where}") or 0)


def test_a_failed_stage_leaves_no_feature_view_and_a_good_one_registers_it(
    workspace: Workspace,
) -> None:
    ws = _workspace(workspace)
    parquet = "media_type = 'application/vnd.apache.parquet'"
    tables = _count(ws, "artifacts", parquet)  # the source dataset's

    failed = _run(ws, fail=1)
    assert failed.status == "failed"
    assert "the stage fails after registering the view" in (failed.stages[0].error_value or "")
    for table in ("feature_views", "feature_view_versions", "materializations"):
        assert _count(ws, table) == 0, table
    assert _count(ws, "feature_consumers") == 0
    assert _count(ws, "artifacts", parquet) == tables  # not even the view's table

    record = _run(ws)
    assert record.status == "succeeded", record.stages[0].error_value
    view = ws.features.get_feature_view("spend")
    assert view.version == 1 and view.run_id == record.id
    assert view.feature_names == ["amount_sum_1d"]
    assert ws.artifacts.info(view.table_artifact).run_id == record.id
    # What the stage did with the view while it was not committed yet holds now.
    logged = "SELECT value FROM params WHERE run_id = ? AND name = 'view_version'"
    assert ws.catalog.read_value(logged, [record.id]) == "1"
    assert {c["id"] for c in ws.features.consumers("spend")} == {"frame@1"}
    assert ws.catalog.read("SELECT view, version FROM materializations") == [("spend", 1)]
    assert ws.features.freshness()["spend"] is not None

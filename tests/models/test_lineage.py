"""Models registered from pipeline stages and notebooks: lineage, deferred commits,
downstream stages loading exactly their upstream's version."""

from __future__ import annotations

import json

import mlops_lab
from mlops_lab import Workspace
from mlops_lab.models import get_model_version
from mlops_lab.pipelines import Runner, RunOptions, load_pipeline
from tests.notebooks import write_notebook, write_pipelines

TRAIN = (
    "import mlops_lab, numpy as np, pandas as pd\n"
    "from sklearn.linear_model import LogisticRegression\n"
    "ctx = mlops_lab.context()\n"
    "rng = np.random.default_rng(0)\n"
    "frame = pd.DataFrame({'x': rng.normal(size=300)})\n"
    "frame['y'] = (frame.x + rng.normal(size=300) > 0).astype(int)\n"
    "ctx.save_dataset('train', frame)\n"
    "train = ctx.load_dataset('train')\n"
    "ctx.log_params({'solver': 'lbfgs'})\n"
    "model = LogisticRegression(C=C).fit(train[['x']], train.y)\n"
    "version = mlops_lab.register_model('churn', model, X_sample=train[['x']].head(),\n"
    "                                   training_frame=train)\n"
    "assert version.version is None  # numbered when the stage commits\n"
    "mlops_lab.promote('churn', alias='champion', reason='trained by the pipeline')\n"
    "evaluation = mlops_lab.evaluate('churn', 'train', label='y')\n"
    "assert evaluation.id is None and evaluation.metrics['roc_auc'] > 0.6\n"
    "if fail:\n"
    "    raise RuntimeError('training went wrong')"
)
CHECK = (
    "import mlops_lab\n"
    "loaded = mlops_lab.load_model('churn')\n"
    "mlops_lab.context().log_metric('loaded_version', loaded.version.version)"
)
PIPELINE = """
pipelines:
  churn:
    stages:
      - {name: train, notebook: train.ipynb}
      - {name: check, notebook: check.ipynb, needs: [train]}
"""


def _pipeline(workspace: Workspace) -> Workspace:
    write_notebook(workspace.root / "train.ipynb", "C = 1.0\nfail = False", TRAIN)
    write_notebook(workspace.root / "check.ipynb", "unused = 0", CHECK)
    return write_pipelines(workspace, PIPELINE)


def test_a_stage_registers_with_lineage_and_downstream_loads_that_version(
    workspace: Workspace,
) -> None:
    ws = _pipeline(workspace)
    # A newer version registered elsewhere must not be what the check stage loads.
    record = Runner(ws, load_pipeline(ws, "churn"), RunOptions()).run()
    assert record.status == "succeeded", record.stages
    version = get_model_version(ws, "churn@champion")
    assert version.version == 1 and version.run_id == record.id and version.stage == "train"
    assert version.training_dataset == "train@1"
    assert version.parameters == {"C": 1.0, "fail": False, "solver": "lbfgs"}
    source_hash = ws.catalog.read_value(
        "SELECT source_hash FROM stage_runs WHERE run_id = ? AND stage = 'train'", [record.id]
    )
    assert version.notebook == "train.ipynb" and version.notebook_hash == source_hash
    assert record.metrics["check"] == {"loaded_version": 1.0}
    evaluations = ws.catalog.read_dicts("SELECT model, version, dataset, run_id FROM evaluations")
    assert evaluations == [
        {"model": "churn", "version": 1, "dataset": "train", "run_id": record.id}
    ]
    edges = ws.catalog.read(
        "SELECT src_kind, src_id FROM lineage_edges WHERE dst_kind = 'model_version' "
        "ORDER BY src_kind"
    )
    assert edges == [("dataset_version", "train@1"), ("stage_run", f"{record.id}/train")]
    outputs = json.loads(
        ws.catalog.read_value(
            "SELECT outputs FROM stage_runs WHERE run_id = ? AND stage = 'train'", [record.id]
        )
    )
    assert outputs["models"]["churn"]["version"] == 1


def test_a_failed_stage_registers_no_model(workspace: Workspace) -> None:
    ws = _pipeline(workspace)
    spec = load_pipeline(ws, "churn", overrides={"fail": True})
    record = Runner(ws, spec, RunOptions()).run()
    assert record.status == "failed"
    for table in ("model_versions", "model_aliases", "evaluations", "dataset_versions"):
        assert ws.catalog.read_value(f"SELECT count(*) FROM {table}") == 0, table


def test_feature_views_behind_the_training_frame_become_model_consumers(ctx) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    frame = pd.DataFrame({"spend_7d": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 2.1, 2.9, 4.2]})
    frame.attrs["mlops_lab_features"] = {"spend@2": ["spend_7d"]}
    ctx.save_dataset("training_frame", frame)
    model = LinearRegression().fit(frame[["spend_7d"]], frame.y)
    version = mlops_lab.register_model(
        "spend", model, X_sample=frame[["spend_7d"]], training_frame="training_frame"
    )
    assert version.feature_views == ["spend@2"] and version.training_dataset == "training_frame@1"
    consumers = ctx.workspace.catalog.read(
        "SELECT view, version, feature, consumer_id FROM feature_consumers "
        "WHERE consumer_kind = 'model'"
    )
    assert consumers == [("spend", 2, "spend_7d", "spend/1")]
    # A frame that is not a stored dataset is saved first: the lineage is never lost.
    other = mlops_lab.register_model("spend", model, training_frame=frame.assign(extra=1))
    assert other.training_dataset == "spend_training@1"

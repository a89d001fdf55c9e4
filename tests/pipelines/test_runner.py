from __future__ import annotations

import json

import nbformat
import pytest

from mlops_lab import Workspace
from mlops_lab.datasets import list_dataset_versions
from mlops_lab.pipelines import Runner, RunOptions, load_pipeline
from mlops_lab.pipelines.records import RunRecord
from tests.notebooks import SAVE_NUMBERS, two_stage_workspace, write_notebook, write_pipelines


def _run(ws: Workspace, pipeline: str | None = None, **options: object) -> RunRecord:
    overrides = options.pop("overrides", None)
    spec = load_pipeline(ws, pipeline, overrides=overrides)  # type: ignore[arg-type]
    return Runner(ws, spec, RunOptions(**options)).run()  # type: ignore[arg-type]


def _statuses(record: RunRecord) -> dict[str, str]:
    return {s.stage: s.status for s in record.stages}


def test_run_registers_outputs_metrics_lineage_and_notebooks(workspace: Workspace) -> None:
    ws = two_stage_workspace(workspace)
    record = _run(ws)
    assert record.status == "succeeded"
    assert _statuses(record) == {"make": "succeeded", "total": "succeeded"}
    assert record.metrics == {"make": {"n": 3.0}, "total": {"total": 6.0}}
    versions = list_dataset_versions(ws, "numbers")
    assert [(v.version, v.row_count, v.run_id, v.stage) for v in versions] == [
        (1, 3, record.id, "make")
    ]
    make, total = record.stages
    assert make.outputs is not None and make.outputs["datasets"]["numbers"]["version"] == 1
    assert total.inputs == {"dataset:numbers": versions[0].artifact_hash}
    edges = ws.catalog.read(
        "SELECT src_kind, src_id, dst_kind, dst_id FROM lineage_edges ORDER BY src_kind"
    )
    assert ("dataset_version", "numbers@1", "stage_run", f"{record.id}/total") in edges
    assert ("stage_run", f"{record.id}/make", "dataset_version", "numbers@1") in edges
    executed = json.loads(ws.artifacts.get_bytes(total.executed_notebook or ""))
    assert executed["metadata"]["papermill"]["parameters"] == {"factor": 2.0}
    assert all("papermill" in c["metadata"] for c in executed["cells"])
    assert "duration" in executed["cells"][-1]["metadata"]["papermill"]
    assert total.cells_total == 3 and total.duration_s and total.duration_s > 0
    assert record.kind == "pipeline" and record.trigger == "manual"


def test_second_run_is_fully_cached_and_resaving_keeps_the_cache(workspace: Workspace) -> None:
    ws = two_stage_workspace(workspace)
    first = _run(ws)
    # Re-save a notebook with outputs, execution counts and new metadata.
    path = ws.root / "total.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", text="hello\n")]
    notebook.cells[1].execution_count = 12
    notebook.metadata["saved_by"] = "someone"
    nbformat.write(notebook, path)
    second = _run(ws)
    assert second.status == "succeeded"
    assert _statuses(second) == {"make": "cached", "total": "cached"}
    assert {s.cached_from for s in second.stages} == {first.id}
    assert second.metrics == first.metrics  # a cached stage shows the metrics it reused
    assert [s.executed_notebook for s in second.stages] == [
        s.executed_notebook for s in first.stages
    ]
    assert len(list_dataset_versions(ws, "numbers")) == 1


def test_editing_a_stage_reruns_it_and_only_what_depends_on_it(workspace: Workspace) -> None:
    ws = two_stage_workspace(workspace)
    _run(ws)
    write_notebook(
        ws.root / "total.ipynb",
        "factor = 2.0",
        "import mlops_lab\nctx = mlops_lab.context()\n"
        "ctx.log_metric('total', float(ctx.load_dataset('numbers').x.sum() * factor * 10))",
    )
    record = _run(ws)
    assert _statuses(record) == {"make": "cached", "total": "succeeded"}
    assert record.metrics["total"] == {"total": 60.0}
    changed = _run(ws, overrides={"n": 4})
    assert _statuses(changed) == {"make": "succeeded", "total": "succeeded"}
    assert [v.row_count for v in list_dataset_versions(ws, "numbers")] == [3, 4]


FAILING = "raise ValueError('bad input: ' + str(n))"


def test_failure_records_the_cell_and_keeps_nothing_half_registered(workspace: Workspace) -> None:
    ws = two_stage_workspace(workspace)
    write_notebook(ws.root / "make.ipynb", "n = 3", SAVE_NUMBERS, FAILING)
    record = _run(ws)
    assert record.status == "failed"
    make, total = record.stages
    assert (make.status, total.status) == ("failed", "skipped")
    assert make.error_name == "ValueError"
    assert make.error_value == "bad input: 3"
    assert make.traceback and "ValueError" in make.traceback
    # error_cell is the saved notebook's cell, from 1 (papermill's banner and injected
    # cells in the executed copy do not count).
    saved = json.loads((ws.root / "make.ipynb").read_text())
    assert make.error_cell == 3
    assert "".join(saved["cells"][make.error_cell - 1]["source"]) == FAILING
    executed = json.loads(ws.artifacts.get_bytes(make.executed_notebook or ""))
    failing = next(c for c in executed["cells"] if "".join(c["source"]) == FAILING)
    assert failing["outputs"][-1]["ename"] == "ValueError"
    # The dataset saved before the failing cell was not registered, nor its metric.
    assert list_dataset_versions(ws, "numbers") == []
    assert ws.catalog.read_value("SELECT count(*) FROM metrics") == 0
    # Fixed: the rerun resumes; nothing upstream was cached, both run.
    write_notebook(ws.root / "make.ipynb", "n = 3", SAVE_NUMBERS)
    fixed = _run(ws)
    assert _statuses(fixed) == {"make": "succeeded", "total": "succeeded"}


def test_a_rerun_after_a_downstream_failure_reuses_the_upstream(workspace: Workspace) -> None:
    ws = two_stage_workspace(workspace)
    write_notebook(ws.root / "total.ipynb", "factor = 2.0", "raise RuntimeError('oops')")
    failed = _run(ws)
    assert _statuses(failed) == {"make": "succeeded", "total": "failed"}
    write_notebook(ws.root / "total.ipynb", "factor = 2.0", "x = factor")
    resumed = _run(ws)
    assert _statuses(resumed) == {"make": "cached", "total": "succeeded"}
    assert resumed.stages[0].cached_from == failed.id


def test_a_declared_output_that_is_not_saved_fails_the_stage(workspace: Workspace) -> None:
    ws = two_stage_workspace(workspace)
    write_notebook(ws.root / "make.ipynb", "n = 3", "x = n")
    record = _run(ws)
    make = record.stages[0]
    assert make.status == "failed"
    assert make.error_name == "MissingOutputError"
    assert "dataset numbers" in (make.error_value or "")


def test_only_and_from(workspace: Workspace) -> None:
    ws = two_stage_workspace(workspace)
    with_nothing_cached = _run(ws, only="total")
    assert with_nothing_cached.status == "failed"
    assert "not selected by --only/--from" in (with_nothing_cached.stages[0].error_value or "")
    _run(ws)
    only = _run(ws, only="total", force=True)
    assert _statuses(only) == {"make": "cached", "total": "succeeded"}
    from_make = _run(ws, from_stage="make", force=True)
    assert _statuses(from_make) == {"make": "succeeded", "total": "succeeded"}


def test_independent_stages_run_in_parallel(workspace: Workspace) -> None:
    for name in ("left", "right"):
        write_notebook(
            workspace.root / f"{name}.ipynb", "seconds = 2", "import time\ntime.sleep(seconds)"
        )
    ws = write_pipelines(
        workspace,
        """
        pipelines:
          wide:
            stages:
              - {name: left, notebook: left.ipynb}
              - {name: right, notebook: right.ipynb}
    """,
    )
    record = _run(ws, jobs=2)
    left, right = record.stages
    assert left.started_at and right.started_at and left.ended_at and right.ended_at
    assert left.started_at < right.ended_at and right.started_at < left.ended_at
    sequential = _run(ws, jobs=1, force=True)
    first, second = sorted(sequential.stages, key=lambda s: s.started_at)  # type: ignore[arg-type, return-value]
    assert first.ended_at and second.started_at and first.ended_at <= second.started_at


def test_interactive_context_records_at_once(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    import mlops_lab
    from tests.contexts import interactive

    monkeypatch.setenv("JPY_SESSION_NAME", str(workspace.root / "explore.ipynb"))
    with interactive(workspace.root) as ctx:
        assert ctx.interactive and ctx.stage == "explore"
        ctx.log_metric("auc", 0.9)
        ctx.log_params({"depth": 3})
        version = ctx.save_dataset("sample", pd.DataFrame({"a": [1, 2]}))
        assert version.version == 1
        again = ctx.save_dataset("sample", pd.DataFrame({"a": [1, 2]}))
        assert again.version == 1  # identical content: the same version
        assert ctx.load_dataset("sample")["a"].tolist() == [1, 2]
        with pytest.raises(mlops_lab.MlopsLabError, match="must be finite"):
            ctx.log_metric("bad", float("nan"))
        run = mlops_lab.pipelines.get_run(workspace.catalog, ctx.run_id)
        assert run.kind == "interactive" and run.notebook and run.notebook.endswith("explore.ipynb")
        assert run.metrics == {"explore": {"auc": 0.9}}


def test_stages_read_what_their_upstream_produced_not_the_latest(workspace: Workspace) -> None:
    import pandas as pd

    from mlops_lab.datasets import save_dataset

    ws = two_stage_workspace(workspace)
    _run(ws)
    save_dataset(ws, "numbers", pd.DataFrame({"x": [100]}))  # someone else's newer version
    again = _run(ws)
    assert _statuses(again) == {"make": "cached", "total": "cached"}
    forced = _run(ws, only="total", force=True)
    assert forced.metrics["total"] == {"total": 6.0}  # version 1, from the make stage
    assert forced.stages[1].inputs == again.stages[1].inputs


def test_runs_record_the_git_commit_and_dirty_flag(workspace: Workspace) -> None:
    import subprocess

    ws = two_stage_workspace(workspace)

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ws.root, check=True, capture_output=True, text=True
        ).stdout.strip()

    git("init", "-q")
    git("add", "make.ipynb", "total.ipynb", "mlops_lab.yaml")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "stages")
    clean = _run(ws)
    assert clean.git_commit == git("rev-parse", "HEAD") and clean.git_dirty is False
    (ws.root / "mlops_lab.yaml").write_text((ws.root / "mlops_lab.yaml").read_text() + "\n")
    dirty = _run(ws)
    assert dirty.git_dirty is True

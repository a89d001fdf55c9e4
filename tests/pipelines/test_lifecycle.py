"""Killed runners, cancels, CI/CT triggers and the Dask executor, with real kernels."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from mlops_lab import Workspace
from mlops_lab.cli import cli
from mlops_lab.datasets import save_dataset
from mlops_lab.errors import ConflictError, InvalidInputError, PipelineSpecError
from mlops_lab.pipelines import Runner, RunOptions, get_run, list_runs, liveness, load_pipeline
from mlops_lab.pipelines import bookkeeping as books
from mlops_lab.pipelines.service import launch_run, request_cancel, run_trigger
from mlops_lab.pipelines.triggers import open_alert, open_alerts
from tests.notebooks import two_stage_workspace, write_notebook, write_pipelines

SLOW = """
pipelines:
  slow:
    stages:
      - {name: nap, notebook: nap.ipynb}
      - {name: after, notebook: after.ipynb, needs: [nap]}
"""
NAP = "import time\ntime.sleep(seconds)"


def _slow_workspace(workspace: Workspace, seconds: int = 60) -> Workspace:
    write_notebook(workspace.root / "nap.ipynb", f"seconds = {seconds}", NAP)
    write_notebook(workspace.root / "after.ipynb", "x = 1", "y = x")
    return write_pipelines(workspace, SLOW)


def _wait_for(predicate: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def _stage_status(ws: Workspace, run_id: str, stage: str) -> str:
    return next(s.status for s in get_run(ws.catalog, run_id).stages if s.stage == stage)


def _running_stages(ws: Workspace) -> int:
    return int(ws.catalog.read_value("SELECT count(*) FROM stage_runs WHERE status = 'running'"))


def _kill_runner(pid: int) -> None:
    """SIGKILL a runner and its kernels (which run in sessions of their own)."""
    import psutil  # type: ignore[import-untyped]

    kernels = psutil.Process(pid).children(recursive=True)
    os.killpg(pid, signal.SIGKILL)
    for kernel in kernels:
        with contextlib.suppress(psutil.NoSuchProcess):
            kernel.kill()


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_killed_runner_shows_interrupted_at_once(workspace: Workspace) -> None:
    ws = _slow_workspace(workspace)
    command = [sys.executable, "-m", "mlops_lab", "--workspace", str(ws.root), "run", "slow"]
    runner = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        _wait_for(lambda: _running_stages(ws) == 1)
        run_id = ws.catalog.read_value("SELECT id FROM runs")
        # While its runner lives, every read shows it running (no false positive).
        (alive,), _ = list_runs(ws.catalog)
        assert (alive.id, alive.status) == (run_id, "running")
        assert get_run(ws.catalog, run_id).status == "running"
        _kill_runner(runner.pid)
        runner.wait(30)
    finally:
        if runner.poll() is None:
            runner.kill()
    # No other run starts: reading the runs is enough to see it died.
    listed = json.loads(_cli("--workspace", str(ws.root), "runs", "list", "--json"))["runs"]
    assert [(r["id"], r["status"]) for r in listed] == [(run_id, "interrupted")]
    killed = get_run(ws.catalog, run_id)
    assert killed.status == "interrupted" and killed.ended_at is not None
    assert killed.error and "killed" in killed.error
    assert {s.stage: s.status for s in killed.stages} == {"nap": "interrupted", "after": "skipped"}
    assert list_runs(ws.catalog, status="running")[1] == 0
    with pytest.raises(ConflictError, match="is interrupted"):
        request_cancel(ws, run_id)


def test_cancel_of_a_run_whose_runner_died_marks_it_cancelled_at_once(
    workspace: Workspace,
) -> None:
    ws = _slow_workspace(workspace)
    run_id = launch_run(ws, pipeline="slow")  # as the REST API starts runs
    _wait_for(lambda: _running_stages(ws) == 1)
    pid = int(ws.catalog.read_value("SELECT runner_pid FROM runs WHERE id = ?", [run_id]))
    _kill_runner(pid)
    # Dead but not reaped (a zombie), as the Jupyter server leaves its runner children.
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    try:
        output = _cli("--workspace", str(ws.root), "runs", "cancel", run_id)
    finally:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    assert "cancelled" in output and "requested" not in output
    record = get_run(ws.catalog, run_id)
    assert record.status == "cancelled" and record.cancel_requested and record.ended_at
    assert {s.stage: s.status for s in record.stages} == {"nap": "cancelled", "after": "cancelled"}
    with pytest.raises(ConflictError, match="is cancelled"):
        request_cancel(ws, run_id)


def test_a_reused_pid_or_a_zombie_is_a_dead_runner(workspace: Workspace) -> None:
    ws = _slow_workspace(workspace)
    spec = load_pipeline(ws, "slow")
    no_git = books.GitState(commit=None, dirty=None)
    for run_id in ("r-reused", "r-zombie"):
        books.create_run(
            ws.catalog,
            run_id=run_id,
            pipeline=spec,
            trigger="manual",
            reason="",
            parameters={},
            git=no_git,
        )
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        books.record_runner(ws.catalog, "r-zombie", sleeper.pid)
        # This process runs r-reused, the sleeper r-zombie: both alive, both running.
        assert {r.id: r.status for r in list_runs(ws.catalog)[0]} == {
            "r-reused": "running",
            "r-zombie": "running",
        }
        # r-reused's PID now belongs to another process: same PID, another start time.
        lease = liveness.runners_dir(ws.catalog) / "r-reused.json"
        recorded = json.loads(lease.read_text())
        assert recorded["pid"] == os.getpid()
        lease.write_text(json.dumps({**recorded, "start": recorded["start"] + "1"}))
        assert get_run(ws.catalog, "r-reused").status == "interrupted"
        assert get_run(ws.catalog, "r-zombie").status == "running"
        sleeper.kill()
        os.waitid(os.P_PID, sleeper.pid, os.WEXITED | os.WNOWAIT)  # a zombie now
        assert list_runs(ws.catalog, status="interrupted")[1] == 2
    finally:
        sleeper.kill()
        sleeper.wait()


def test_cancel_stops_a_running_stage_and_the_rest(workspace: Workspace) -> None:
    ws = _slow_workspace(workspace)
    run_id = launch_run(ws, pipeline="slow")
    _wait_for(lambda: _stage_status(ws, run_id, "nap") == "running")
    assert request_cancel(ws, run_id) == "cancelling"
    _wait_for(lambda: get_run(ws.catalog, run_id).status != "running", timeout=60)
    record = get_run(ws.catalog, run_id)
    assert record.status == "cancelled"
    assert {s.stage: s.status for s in record.stages} == {"nap": "cancelled", "after": "cancelled"}
    with pytest.raises(ConflictError, match="only a running run can be cancelled"):
        request_cancel(ws, run_id)


def test_launch_validates_before_recording_anything(workspace: Workspace) -> None:
    ws = two_stage_workspace(workspace)
    with pytest.raises(PipelineSpecError, match="expects int"):
        launch_run(ws, pipeline="demo", parameters={"n": "many"})
    with pytest.raises(PipelineSpecError, match="has no stage 'ghost'"):
        launch_run(ws, pipeline="demo", only="ghost")
    with pytest.raises(InvalidInputError, match="outside the workspace"):
        launch_run(ws, notebook="../elsewhere.ipynb")
    assert ws.catalog.read_value("SELECT count(*) FROM runs") == 0


def test_ci_reruns_changed_code_and_downstream_only(workspace: Workspace) -> None:
    ws = two_stage_workspace(workspace)
    spec = load_pipeline(ws)
    decision, first = run_trigger(ws, spec, "ci", RunOptions())
    assert decision["reason"] == "no successful run of this pipeline yet"
    assert first is not None and first.status == "succeeded" and first.trigger == "ci"
    decision, none = run_trigger(ws, load_pipeline(ws), "ci", RunOptions())
    assert none is None and "no stage's code changed" in decision["reason"]
    write_notebook(
        ws.root / "total.ipynb",
        "factor = 2.0",
        "import mlops_lab\nmlops_lab.context().log_metric('total', factor)",
    )
    decision, second = run_trigger(ws, load_pipeline(Workspace(ws.root)), "ci", RunOptions())
    assert decision["force_stages"] == ["total"]
    assert second is not None
    assert {s.stage: s.status for s in second.stages} == {"make": "cached", "total": "succeeded"}
    assert second.reason == f"code changed since run {first.id}: total"


def test_ct_reruns_on_new_input_data_and_on_alerts(workspace: Workspace) -> None:
    import pandas as pd

    ws = two_stage_workspace(workspace)
    ws = write_pipelines(
        ws,
        """
        pipelines:
          demo:
            stages:
              - {name: total, notebook: total.ipynb, inputs: {datasets: [numbers]}}
    """,
    )
    save_dataset(ws, "numbers", pd.DataFrame({"x": [1, 2]}))
    spec = load_pipeline(ws)
    decision, first = run_trigger(ws, spec, "ct", RunOptions())
    assert decision["reason"] == "no successful run of this pipeline yet"
    assert first is not None and first.metrics["total"] == {"total": 6.0}
    decision, none = run_trigger(ws, spec, "ct", RunOptions())
    assert none is None and decision["reason"] == "no new input data and no open alert"
    # A serving SLO breach is not a reason to retrain: a new model does not make it faster.
    slo = open_alert(ws.catalog, pipeline="demo", kind="slo", message="p99 80 ms > 20 ms")
    decision, none = run_trigger(ws, spec, "ct", RunOptions())
    assert none is None and decision["reason"] == "no new input data and no open alert"
    save_dataset(ws, "numbers", pd.DataFrame({"x": [1, 2, 3]}))
    decision, second = run_trigger(ws, spec, "ct", RunOptions())
    assert decision["reason"] == "dataset numbers has a new version (2)"
    assert second is not None and second.metrics["total"] == {"total": 12.0}
    alert = open_alert(ws.catalog, pipeline="demo", kind="drift", message="amount drifted")
    decision, third = run_trigger(ws, spec, "ct", RunOptions())
    assert decision["alerts"] == [alert] and "drift: amount drifted" in decision["reason"]
    assert third is not None and third.stages[0].status == "succeeded"  # forced, not cached
    assert open_alerts(ws.catalog, "demo") == []
    closed = ws.catalog.read("SELECT status, closed_by_run FROM alerts WHERE id = ?", [alert])
    assert closed == [("closed", third.id)]
    assert ws.catalog.read("SELECT status FROM alerts WHERE id = ?", [slo]) == [("open",)]

    # The drift is seen again while the retrain runs (the monitor still finds it): the run
    # did not answer that, so the alert stays open for the next one.
    again = open_alert(ws.catalog, pipeline="demo", kind="drift", message="amount drifted")
    reraised: list[str] = []

    def monitor_meanwhile(event: object) -> None:
        if not reraised:
            reraised.append(
                open_alert(ws.catalog, pipeline="demo", kind="drift", message="still drifted")
            )

    decision, fourth = run_trigger(ws, spec, "ct", RunOptions(), on_event=monitor_meanwhile)
    assert decision["alerts"] == [again] and reraised == [again]
    assert fourth is not None and fourth.status == "succeeded"
    [(status, message, occurrences)] = ws.catalog.read(
        "SELECT status, message, occurrences FROM alerts WHERE id = ?", [again]
    )
    assert (status, message, occurrences) == ("open", "still drifted", 2)


def test_dask_executor_runs_stages_on_a_local_cluster(workspace: Workspace) -> None:
    distributed = pytest.importorskip("distributed")
    from mlops_lab.pipelines.dask_executor import dask_stage_runner

    ws = two_stage_workspace(workspace)
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        options = RunOptions(stage_runner=dask_stage_runner(client), jobs=2)
        record = Runner(ws, load_pipeline(ws), options).run()
        workers = client.run(os.getpid)
    assert record.status == "succeeded", [(s.stage, s.error_value) for s in record.stages]
    assert record.metrics == {"make": {"n": 3.0}, "total": {"total": 6.0}}
    assert len(workers) == 2


def test_a_cancel_during_kernel_start_kills_the_kernel_once_it_exists() -> None:
    from types import SimpleNamespace

    from mlops_lab.pipelines.executor import KernelRegistry

    killed: list[str] = []
    manager = SimpleNamespace(
        provisioner=SimpleNamespace(process=SimpleNamespace(kill=lambda: killed.append("k")))
    )
    registry = KernelRegistry()
    registry.cancel("run/stage")  # before the kernel is registered
    assert killed == []
    registry.add("run/stage", manager)
    assert killed == ["k"]
    registry.add("run/other", manager)  # not cancelled: left alone
    assert killed == ["k"]

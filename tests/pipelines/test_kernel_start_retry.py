"""A kernel that dies before its first reply is started again; a notebook error is not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import papermill
import pytest

from mlops_lab import Workspace
from mlops_lab.pipelines.executor import StageJob, execute_stage
from tests.notebooks import write_notebook

DIED = RuntimeError("Kernel died before replying to kernel_info")


def _job(workspace: Workspace, name: str) -> StageJob:
    folder = workspace.state_dir / name
    return StageJob(
        workspace_root=str(workspace.root),
        run_id=name,
        stage="s",
        notebook="nb.ipynb",
        parameters={},
        output_path=str(folder / "executed.ipynb"),
        manifest_path=str(folder / "manifest.jsonl"),
        observe_reads=False,
    )


def _failing_first(monkeypatch: pytest.MonkeyPatch, failures: int) -> list[int]:
    """papermill.execute_notebook that raises DIED `failures` times, then runs for real."""
    real = papermill.execute_notebook
    calls: list[int] = []

    def execute(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) <= failures:
            raise DIED
        return real(*args, **kwargs)

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    return calls


def test_a_kernel_that_died_at_start_is_started_again(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_notebook(workspace.root / "nb.ipynb", "x = 6 * 7", "print(x)")
    calls = _failing_first(monkeypatch, failures=1)
    outcome = execute_stage(_job(workspace, "retried"))
    assert outcome.ok, outcome
    assert len(calls) == 2
    executed = Path(workspace.state_dir / "retried" / "executed.ipynb").read_text()
    assert "42" in executed


def test_it_gives_up_after_three_starts(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_notebook(workspace.root / "nb.ipynb", "x = 1")
    calls = _failing_first(monkeypatch, failures=10)
    outcome = execute_stage(_job(workspace, "dead"))
    assert not outcome.ok
    assert len(calls) == 3
    assert "died before replying" in (outcome.error_value or "")


def test_a_notebook_error_is_not_retried(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_notebook(workspace.root / "nb.ipynb", "raise ValueError('no')")
    calls = _failing_first(monkeypatch, failures=0)
    outcome = execute_stage(_job(workspace, "raised"))
    assert not outcome.ok and outcome.error_name == "ValueError"
    assert len(calls) == 1

"""The demo workspace after one churn run, shared by the serving tests (made once)."""

from __future__ import annotations

import pytest

from mlops_lab import Workspace
from mlops_lab.demo import init_demo_workspace
from mlops_lab.pipelines import Runner, RunOptions, load_pipeline


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = init_demo_workspace(tmp_path_factory.mktemp("serving") / "demo")
    record = Runner(ws, load_pipeline(ws, "churn"), RunOptions(jobs=2)).run()
    assert record.status == "succeeded"
    return ws

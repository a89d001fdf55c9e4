from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_lab.workspace import ENV_HOME, Workspace, init_workspace


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's MLOPS_LAB_HOME."""
    monkeypatch.delenv(ENV_HOME, raising=False)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A fresh workspace with its catalog, under tmp_path."""
    return init_workspace(tmp_path / "ws", name="test")


@pytest.fixture
def in_workspace(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """Run the test with the workspace as the current directory."""
    monkeypatch.chdir(workspace.root)
    yield workspace

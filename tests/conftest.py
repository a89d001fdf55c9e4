from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mlops_lab
from mlops_lab.workspace import ENV_HOME, Workspace, init_workspace
from tests.contexts import interactive

# The Jupyter server fixtures (jp_fetch, jp_root_dir, ...), for every test that asks for them.
pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    """The Jupyter server of jp_fetch runs with the mlops_lab server extension."""
    return {"ServerApp": {"jpserver_extensions": {"mlops_lab": True}}}


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


@pytest.fixture
def ctx(workspace: Workspace) -> Iterator[mlops_lab.RunContext]:
    """The run context of an interactive notebook open in the workspace."""
    with interactive(workspace.root) as context:
        yield context


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test has its own node id. schemathesis names its items per API operation
    (``test_x[GET /status]``), but under pytest 9 they keep one node id, and pytest-xdist,
    which schedules by node id, ran only the first of them: the label goes into the id."""
    seen: set[str] = set()
    for item in items:
        if item.name.endswith("]") and "[" in item.name and not item.nodeid.endswith("]"):
            params = item.name.split("[", 1)[1][:-1]
            item._id = item._id.with_params(params)  # type: ignore[attr-defined]
        if item.nodeid in seen:
            raise pytest.UsageError(f"two tests have the node id {item.nodeid}")
        seen.add(item.nodeid)


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


class NatsServer:
    """nats-server with JetStream on a free loopback port, its files in ``folder``: it can
    be stopped and started again (its streams kept)."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.args = args  # more options, e.g. --user NAME --pass SECRET
        # Debian's package puts it in /usr/sbin, outside a normal user's PATH
        binary = shutil.which("nats-server") or shutil.which("nats-server", path="/usr/sbin")
        if binary is None:
            pytest.fail("nats-server is not installed (apt-get install nats-server)")
        self.binary = binary
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.url = f"nats://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *(self.binary, "-js", "-a", "127.0.0.1", "-p", str(self.port)),
                *("-sd", str(self.folder), *self.args),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        pytest.fail(f"nats-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A running nats-server -js (stop and start it to test a broker that goes away)."""
    server = NatsServer(tmp_path / "nats")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def nats_url(nats_server: NatsServer) -> str:
    """``nats://127.0.0.1:PORT`` of a running nats-server -js."""
    return nats_server.url

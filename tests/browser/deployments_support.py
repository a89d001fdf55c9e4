"""What the deployment browser tests share: the demo workspace after a churn run, copies of
it, `mlops-lab serve` subprocesses and calls to the REST API."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # fixtures' types, from this folder's conftest.py
    from conftest import LabServer

RAW = {
    "days_since_last": 3,
    "tenure_days": 400,
    "segment_consumer": 1,
    "segment_enterprise": 0,
    "segment_smb": 0,
}


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "mlops-lab"
    return [str(script)] if script.exists() else [sys.executable, "-m", "mlops_lab"]


def _isolated_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOPS_LAB_")}
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / "config"), PYTHONUNBUFFERED="1")
    return env


def build_demo(base: Path) -> Path:
    """The demo workspace under `base` after one run of the churn pipeline."""
    workspace = base / "ws"
    env = _isolated_env(base / "home")
    for args in (["init", "--demo", str(workspace)], ["run", "churn"]):
        result = subprocess.run(
            [*_cli(), *args],
            cwd=workspace if args[0] == "run" else base,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, f"mlops-lab {args}:\n{result.stdout}{result.stderr}"
    return workspace


def copy_demo(demo: Path, dest: Path, *, materialize: bool = True) -> Path:
    """A copy of the demo workspace, its online store filled again if `materialize`.

    The catalog records materializations by the online store's absolute URL, so a
    copy at another path has to materialize its own to serve online features.
    """
    shutil.copytree(demo, dest)
    if not materialize:
        return dest
    result = subprocess.run(
        [*_cli(), "features", "materialize", "customer_spend"],
        cwd=dest,
        env=_isolated_env(dest.parent / "materialize-home"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return dest


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ModelServer:
    """A `mlops-lab serve` subprocess in the lab's workspace."""

    def __init__(self, server: LabServer, log: Path, *, challenger: bool | str = True) -> None:
        """`challenger`: True serves churn@champion as its own challenger at 20%; a
        reference (e.g. churn@challenger) serves that at 0%; False none."""
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    *_cli(),
                    "serve",
                    "churn@champion",
                    *_challenger_args(challenger),
                    "--port",
                    str(self.port),
                ],
                cwd=server.root,
                env=server.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.process.poll() is None, log.read_text(errors="replace")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.25)
        raise AssertionError(f"mlops-lab serve did not start:\n{log.read_text(errors='replace')}")

    def call(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _challenger_args(challenger: bool | str) -> list[str]:
    if isinstance(challenger, str):
        return ["--challenger", challenger]
    return ["--challenger", "churn@champion", "--split", "0.2"] if challenger else []


class ModelServers:
    """Model servers started for a test; each is stopped (SIGTERM) by `stop_all`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[ModelServer] = []

    def __call__(self, server: LabServer, *, challenger: bool | str = True) -> ModelServer:
        log = self.folder / f"serve-{len(self.started)}.log"
        model_server = ModelServer(server, log, challenger=challenger)
        self.started.append(model_server)
        return model_server

    def stop_all(self) -> None:
        for model_server in self.started:
            model_server.stop()


def api(server: LabServer, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """Call a route of the REST API as the view does: (status, JSON body)."""
    request = urllib.request.Request(
        f"{server.base_url}/mlops-lab/api/{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def send_predictions(model_server: ModelServer, count: int) -> dict[int, int]:
    """Predict for `count` customers with raw features; how many answers by status."""
    statuses: dict[int, int] = {}
    for i in range(count):
        body = {"entity": {"customer_id": f"c{i + 1:05d}"}, "features": RAW}
        status, _ = model_server.call("/predict", body)
        statuses[status] = statuses.get(status, 0) + 1
    return statuses

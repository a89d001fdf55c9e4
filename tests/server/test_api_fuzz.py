"""Fuzz the Jupyter server's REST API from its own openapi.yaml (schemathesis).

A real ``jupyter server`` runs the mlops_lab extension on a small workspace;
every operation of the spec gets generated requests, valid and invalid
(negative mode), authenticated with the server's token. A test fails on any
5xx answer and on any answer the spec does not describe: an undocumented
status code or content type, or a body that does not match its schema.

It stays cheap and repeatable: the workspace has a dataset but no pipeline
and no notebook, so no request can start a runner or a kernel (``POST /runs``
and ``POST /handoffs`` are fuzzed up to their validation and lookups; no
operation is excluded); examples are few per operation and drawn from a
fixed seed (``derandomize``).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from mlops_lab import init_workspace
from mlops_lab.datasets import save_dataset
from tests.paths import OPENAPI, REPO

SPEC = OPENAPI
EXAMPLES = 25


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _small_workspace(root: Path) -> None:
    workspace = init_workspace(root, name="fuzz")
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1]})
    save_dataset(workspace, "numbers", frame)


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A ``jupyter server`` subprocess with the extension: (API base URL, token)."""
    base = tmp_path_factory.mktemp("fuzz")
    root = base / "root"
    _small_workspace(root)
    token, port = secrets.token_hex(16), _free_port()
    env = {
        **os.environ,
        "HOME": str(base / "home"),
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "PYTHONPATH": str(REPO),
    }
    env.pop("MLOPS_LAB_HOME", None)
    log = (base / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--port={port}",
            "--ip=127.0.0.1",
            "--no-browser",
            "--allow-root",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.jpserver_extensions={'mlops_lab': True}",
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/mlops-lab/api"
    try:
        deadline = time.monotonic() + 90
        while True:
            request = urllib.request.Request(
                f"{url}/status", headers={"Authorization": f"token {token}"}
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("jupyter server did not start:\n" + (base / "server.log").read_text())
            time.sleep(0.25)
        yield url, token
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


fuzzed = schemathesis.openapi.from_path(str(SPEC))
fuzzed.config.generation.update(
    modes=["positive", "negative"], max_examples=EXAMPLES, deterministic=True
)

_CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@fuzzed.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_every_generated_request_as_documented(
    case: Any, api_server: tuple[str, str]
) -> None:
    url, token = api_server
    case.call_and_validate(
        base_url=url, headers={"Authorization": f"token {token}"}, checks=_CHECKS, timeout=60
    )

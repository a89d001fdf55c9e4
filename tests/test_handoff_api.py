"""Handoffs through the CLI and the REST API (real server, real kernels)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from tornado.httpclient import HTTPClientError

from mlops_lab import init_workspace
from mlops_lab.cli import cli
from mlops_lab.datasets import save_dataset
from tests.notebooks import write_notebook
from tests.test_handoff import GOOD

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"mlops_lab": True}}}


def _workspace(root: Path) -> None:
    ws = init_workspace(root, name="api")
    save_dataset(ws, "numbers", pd.DataFrame({"x": [1, 2, 3]}))
    write_notebook(root / "double.ipynb", "factor = 2.0", GOOD)
    write_notebook(root / "broken.ipynb", "n = 1", "print(undefined_name)")


def test_handoff_cli(tmp_path: Path) -> None:
    _workspace(tmp_path)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, ["--workspace", str(tmp_path), *args])
        assert result.exit_code == code, result.output
        return result.stdout

    ready = run("handoff", "double.ipynb")
    assert "double.ipynb: READY" in ready and "mlops-lab run handoff --only double" in ready
    failing = json.loads(run("handoff", "broken.ipynb", "--json", code=1))
    assert failing["status"] == "failing"
    listed = run("handoffs", "list")
    assert "double.ipynb" in listed and "broken.ipynb" in listed and "failing" in listed
    report = run("handoffs", "show", failing["id"], "--report")
    assert report.startswith(f"# Handoff {failing['id']}") and "| FAIL |" in report
    missing = runner.invoke(cli, ["--workspace", str(tmp_path), "handoff", "nope.ipynb"])
    assert missing.exit_code == 1 and "not a notebook" in missing.stderr


async def test_handoff_rest(jp_fetch: Any, jp_root_dir: Path) -> None:
    _workspace(jp_root_dir)
    response = await jp_fetch(
        "mlops-lab",
        "api",
        "handoffs",
        method="POST",
        body=json.dumps({"notebook": "double.ipynb", "timeout": 120}),
    )
    handoff = json.loads(response.body)
    assert handoff["status"] == "ready" and handoff["counts"]["fail"] == 0
    listed = json.loads((await jp_fetch("mlops-lab", "api", "handoffs")).body)["handoffs"]
    assert [h["id"] for h in listed] == [handoff["id"]]
    one = json.loads((await jp_fetch("mlops-lab", "api", "handoffs", handoff["id"])).body)
    assert one["contract"]["inputs"]["datasets"]["numbers"]["version"] == 1
    report = await jp_fetch("mlops-lab", "api", "handoffs", handoff["id"], "report")
    assert report.headers["Content-Type"].startswith("text/markdown")
    assert "is READY" in report.body.decode()
    for body, status, message in [
        ({}, 400, "'notebook'"),
        ({"notebook": "double.ipynb", "color": "red"}, 400, "Unknown field(s) color"),
        ({"notebook": "double.ipynb", "timeout": "soon"}, 400, "'timeout' must be a number"),
        ({"notebook": "missing.ipynb"}, 400, "not a notebook"),
    ]:
        with pytest.raises(HTTPClientError) as failed:
            await jp_fetch("mlops-lab", "api", "handoffs", method="POST", body=json.dumps(body))
        assert failed.value.code == status
        assert message in json.loads(failed.value.response.body)["error"]["message"]
    with pytest.raises(HTTPClientError) as missing:
        await jp_fetch("mlops-lab", "api", "handoffs", "ho0")
    assert missing.value.code == 404

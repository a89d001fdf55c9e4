"""Handoffs through the CLI and the REST API (real server, real kernels)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from tornado.httpclient import HTTPClientError

from mlops_lab import init_workspace, open_workspace
from mlops_lab.cli import cli
from mlops_lab.datasets import save_dataset
from mlops_lab.errors import MlopsLabError
from mlops_lab.handoff.contract import check_in_subprocess
from tests.notebooks import GOOD, write_notebook
from tests.paths import OPENAPI

SPEC = yaml.safe_load(OPENAPI.read_text())


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
    assert missing.exit_code == 1 and "nope.ipynb does not exist" in missing.stderr


async def test_handoff_rest(jp_fetch: Any, jp_root_dir: Path) -> None:
    _workspace(jp_root_dir)
    config_before = (jp_root_dir / "mlops_lab.yaml").read_bytes()
    response = await jp_fetch(
        "mlops-lab",
        "api",
        "handoffs",
        method="POST",
        body=json.dumps({"notebook": "double.ipynb", "timeout": 120, "repeat": 1}),
    )
    handoff = json.loads(response.body)
    assert handoff["status"] == "ready" and handoff["counts"]["fail"] == 0
    assert handoff["contract"]["repeat"] == 1
    # Not asked to: the pipeline file is left alone, and the answer says so.
    assert handoff["pipeline_written"] is False
    assert (jp_root_dir / "mlops_lab.yaml").read_bytes() == config_before
    # The clean run is a run of kind handoff, inside the spec's enum.
    run = json.loads((await jp_fetch("mlops-lab", "api", "runs", handoff["check_run"])).body)
    assert run["kind"] in SPEC["components"]["schemas"]["Run"]["properties"]["kind"]["enum"]
    listed = json.loads((await jp_fetch("mlops-lab", "api", "handoffs")).body)["handoffs"]
    assert [h["id"] for h in listed] == [handoff["id"]]
    one = json.loads((await jp_fetch("mlops-lab", "api", "handoffs", handoff["id"])).body)
    assert one["contract"]["inputs"]["datasets"]["numbers"]["version"] == 1
    report = await jp_fetch("mlops-lab", "api", "handoffs", handoff["id"], "report")
    assert report.headers["Content-Type"].startswith("text/markdown")
    assert "is READY" in report.body.decode()
    for body, status, message in [
        ({}, 422, "notebook: is required"),
        ({"notebook": "double.ipynb", "color": "red"}, 422, "color: unknown field"),
        ({"notebook": "double.ipynb", "timeout": "soon"}, 422, "timeout: must be a number"),
        ({"notebook": "missing.ipynb"}, 400, "missing.ipynb does not exist"),
        ({"notebook": "double.ipynb", "kernel": "nope"}, 400, "'nope' is not installed"),
        ({"notebook": "double.ipynb", "kernel": "a b"}, 422, "kernel: 'a b' is not valid"),
        ({"notebook": "double.ipynb", "cell_timeout": 0}, 422, "cell_timeout: must be"),
        ({"notebook": "double.ipynb", "stage": "1bad"}, 422, "stage: '1bad' is not valid"),
        ({"notebook": "double.ipynb", "stage": "s" * 100_000}, 422, "at most 64 characters"),
        ({"notebook": "double.ipynb", "pipeline": "étape"}, 422, "pipeline: 'étape' is not"),
        ({"notebook": "double.ipynb", "stage": "x" * 65}, 422, "at most 64 characters"),
        ({"notebook": "dou\x00ble.ipynb"}, 422, "no control characters"),
        ({"notebook": "/etc/passwd"}, 422, "notebook: '/etc/passwd' is not valid"),
        ({"notebook": "double.ipynb", "timeout": True}, 422, "timeout: must be a number"),
        ({"notebook": "double.ipynb", "write_pipeline": "yes"}, 422, "true or false"),
        ({"notebook": "double.ipynb", "repeat": 0}, 422, "repeat: must be between 1 and 10"),
        ({"notebook": "double.ipynb", "repeat": 2.5}, 422, "repeat: must be an integer"),
    ]:
        with pytest.raises(HTTPClientError) as failed:
            await jp_fetch("mlops-lab", "api", "handoffs", method="POST", body=json.dumps(body))
        assert failed.value.code == status
        assert message in json.loads(failed.value.response.body)["error"]["message"]
    with pytest.raises(HTTPClientError) as missing:
        await jp_fetch("mlops-lab", "api", "handoffs", "ho0")
    assert missing.value.code == 404


COMMENTED = """# The team's pipelines: keep this comment.
name: api
pipelines:
  # the nightly job
  nightly:
    stages:
      - name: first   # trailing comment
        notebook: double.ipynb
"""


async def test_handoff_writes_the_pipeline_only_when_asked_keeping_comments(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    _workspace(jp_root_dir)
    (jp_root_dir / "mlops_lab.yaml").write_text(COMMENTED)
    body = {
        "notebook": "double.ipynb",
        "pipeline": "nightly",
        "stage": "second",
        "timeout": 120,
        "write_pipeline": True,
    }
    response = await jp_fetch("mlops-lab", "api", "handoffs", method="POST", body=json.dumps(body))
    handoff = json.loads(response.body)
    assert handoff["status"] == "ready" and handoff["pipeline_written"] is True
    text = (jp_root_dir / "mlops_lab.yaml").read_text()
    for comment in (
        "# The team's pipelines: keep this comment.",
        "# the nightly job",
        "# trailing comment",
    ):
        assert comment in text, text
    stages = yaml.safe_load(text)["pipelines"]["nightly"]["stages"]
    assert [s["name"] for s in stages] == ["first", "second"]
    assert stages[1]["notebook"] == "double.ipynb"
    assert stages[1]["inputs"] == {"datasets": ["numbers"]}


def test_a_bad_name_from_the_child_process_keeps_its_status(tmp_path: Path) -> None:
    """The check's child refuses a bad name: the parent relays a 400, not a 500."""
    _workspace(tmp_path)
    with pytest.raises(MlopsLabError) as info:
        check_in_subprocess(open_workspace(tmp_path), "double.ipynb", by="t", stage="1bad")
    assert info.value.http_status == 400
    assert info.value.to_dict()["type"] == "InvalidInputError"
    assert "The stage name '1bad' must be an identifier" in info.value.message


def test_handoff_cli_refuses_an_overlong_stage_name_and_stores_nothing(tmp_path: Path) -> None:
    _workspace(tmp_path)
    runner = CliRunner()
    base = ["--workspace", str(tmp_path), "handoff", "double.ipynb"]
    result = runner.invoke(cli, [*base, "--stage", "s" * 100_000])
    assert result.exit_code == 1 and "at most 64 characters" in result.stderr
    assert len(result.stderr) < 500
    listed = runner.invoke(cli, ["--workspace", str(tmp_path), "handoffs", "list", "--json"])
    assert json.loads(listed.stdout) == {"handoffs": []}


def test_handoff_cli_can_leave_the_pipeline_file_alone(tmp_path: Path) -> None:
    _workspace(tmp_path)
    before = (tmp_path / "mlops_lab.yaml").read_bytes()
    result = CliRunner().invoke(
        cli,
        ["--workspace", str(tmp_path), "handoff", "double.ipynb", "--no-write-pipeline", "--json"],
    )
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["status"] == "ready" and found["pipeline_written"] is False
    assert (tmp_path / "mlops_lab.yaml").read_bytes() == before

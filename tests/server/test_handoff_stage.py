"""A check never rewrites mlops_lab.yaml behind the user's back (issue #15, item 5).

A notebook that is already a stage is checked as that stage; any other ready
notebook's stage is previewed (`POST /handoffs/{id}/stage`) and written only on
confirmation, with the hash of the file previewed. Real server, real kernels.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from tornado.httpclient import HTTPClientError

from mlops_lab import init_workspace
from mlops_lab.handoff.stage_names import declared_stage_of
from mlops_lab.workspace import open_workspace
from tests.notebooks import GOOD, write_notebook
from tests.server.test_handoff_api import COMMENTED, _workspace


async def _post(jp_fetch: Any, *path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await jp_fetch("mlops-lab", "api", *path, method="POST", body=json.dumps(body))
    found: dict[str, Any] = json.loads(response.body)
    return found


async def _refused(jp_fetch: Any, *path: str, body: dict[str, Any]) -> tuple[int, str]:
    with pytest.raises(HTTPClientError) as failed:
        await _post(jp_fetch, *path, body=body)
    error = json.loads(failed.value.response.body)["error"]
    return failed.value.code, error["message"]


def test_declared_stage_of_finds_the_notebooks_stage(tmp_path: Path) -> None:
    init_workspace(tmp_path, name="api")
    (tmp_path / "mlops_lab.yaml").write_text(COMMENTED)
    write_notebook(tmp_path / "double.ipynb", "factor = 2.0", GOOD)
    ws = open_workspace(tmp_path)
    assert declared_stage_of(ws, "double.ipynb") == ("nightly", "first")
    assert declared_stage_of(ws, "./double.ipynb") == ("nightly", "first")
    assert declared_stage_of(ws, "double.ipynb", pipeline="other") is None
    assert declared_stage_of(ws, "other.ipynb") is None


async def test_a_declared_notebook_is_checked_as_its_stage(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    _workspace(jp_root_dir)
    (jp_root_dir / "mlops_lab.yaml").write_text(COMMENTED)
    before = (jp_root_dir / "mlops_lab.yaml").read_bytes()
    body = {"notebook": "double.ipynb", "timeout": 120, "repeat": 1}
    handoff = await _post(jp_fetch, "handoffs", body=body)
    # No second pipeline `handoff:`, no duplicate stage: the stage the file declares.
    assert (handoff["pipeline"], handoff["stage"]) == ("nightly", "first")
    assert handoff["status"] == "ready" and handoff["pipeline_written"] is False
    preview = await _post(jp_fetch, "handoffs", handoff["id"], "stage", body={})
    assert preview["declared"] is True and preview["written"] is False
    assert (jp_root_dir / "mlops_lab.yaml").read_bytes() == before


async def test_a_new_stage_is_previewed_then_written_only_on_confirmation(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    _workspace(jp_root_dir)
    config = jp_root_dir / "mlops_lab.yaml"
    before = config.read_text()
    body = {"notebook": "double.ipynb", "timeout": 120, "repeat": 1}
    handoff = await _post(jp_fetch, "handoffs", body=body)
    assert (handoff["pipeline"], handoff["stage"]) == ("handoff", "double")
    assert handoff["pipeline_written"] is False and config.read_text() == before

    preview = await _post(jp_fetch, "handoffs", handoff["id"], "stage", body={})
    assert preview["declared"] is False and preview["changed"] is True
    assert preview["written"] is False and config.read_text() == before
    assert preview["diff"].startswith("--- a/mlops_lab.yaml\n+++ b/mlops_lab.yaml\n")
    assert "+      - name: double\n" in preview["diff"]
    assert "notebook: double.ipynb" in preview["added"]
    assert "name: double" in preview["added"] and "handoff:" in preview["added"]

    # The file changed since the preview: refused, nothing written.
    stale = {"confirm": True, "config_hash": "0" * 64}
    code, message = await _refused(jp_fetch, "handoffs", handoff["id"], "stage", body=stale)
    assert code == 409 and "preview it again" in message and config.read_text() == before
    for wrong, expected in [
        ({"confirm": "yes"}, "true or false"),
        ({"confirm": True, "config_hash": "abc"}, "config_hash"),
        ({"color": "red"}, "color: unknown field"),
    ]:
        code, message = await _refused(jp_fetch, "handoffs", handoff["id"], "stage", body=wrong)
        assert code == 422 and expected in message, message

    confirm = {"confirm": True, "config_hash": preview["config_hash"]}
    written = await _post(jp_fetch, "handoffs", handoff["id"], "stage", body=confirm)
    assert written["written"] is True
    stages = yaml.safe_load(config.read_text())["pipelines"]["handoff"]["stages"]
    assert [(s["name"], s["notebook"]) for s in stages] == [("double", "double.ipynb")]
    again = await _post(jp_fetch, "handoffs", handoff["id"], "stage", body={})
    assert again["declared"] is True and again["changed"] is False and again["diff"] == ""

    # Only a ready handoff's stage is added.
    failing = await _post(
        jp_fetch, "handoffs", body={"notebook": "broken.ipynb", "timeout": 120, "repeat": 1}
    )
    assert failing["status"] == "failing"
    code, message = await _refused(jp_fetch, "handoffs", failing["id"], "stage", body={})
    assert code == 409 and "failing" in message
    code, _ = await _refused(jp_fetch, "handoffs", "ho0", "stage", body={})
    assert code == 404

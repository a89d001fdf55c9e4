from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from mlops_lab import init_workspace
from tests.notebooks import two_stage_workspace, write_notebook


async def _get(fetch: Any, *parts: str, **params: str) -> Any:
    response = await fetch("mlops-lab", "api", *parts, params=params)
    return json.loads(response.body)


async def _post(fetch: Any, *parts: str, body: Any) -> tuple[int, Any]:
    """POST ``body`` as JSON (None: an empty body)."""
    data = "" if body is None else json.dumps(body)
    try:
        response = await fetch(
            "mlops-lab", "api", *parts, method="POST", body=data, allow_nonstandard_methods=True
        )
    except HTTPClientError as exc:
        assert exc.response is not None
        return exc.code, json.loads(exc.response.body)
    return response.code, json.loads(response.body)


async def _until_done(fetch: Any, run_id: str, timeout: float = 120) -> dict[str, Any]:
    for _ in range(int(timeout / 0.25)):
        run = await _get(fetch, "runs", run_id)
        if run["status"] != "running":
            return run  # type: ignore[no-any-return]
        await asyncio.sleep(0.25)
    raise AssertionError(f"run {run_id} still running")


async def test_start_follow_compare_and_open_runs(jp_fetch: Any, jp_root_dir: Path) -> None:
    ws = two_stage_workspace(init_workspace(jp_root_dir, name="api"))
    pipelines = await _get(jp_fetch, "pipelines")
    assert [s["name"] for s in pipelines["pipelines"][0]["stages"]] == ["make", "total"]
    assert pipelines["pipelines"][0]["stages"][1]["needs"] == ["make"]

    code, started = await _post(jp_fetch, "runs", body={"pipeline": "demo"})
    assert code == 202
    first = await _until_done(jp_fetch, started["run_id"])
    assert first["status"] == "succeeded" and first["trigger"] == "api"
    assert [s["status"] for s in first["stages"]] == ["succeeded", "succeeded"]

    code, started = await _post(jp_fetch, "runs", body={"pipeline": "demo", "parameters": {"n": 4}})
    second = await _until_done(jp_fetch, started["run_id"])
    assert second["metrics"]["total"] == {"total": 12.0}

    listing = await _get(jp_fetch, "runs", limit="1")
    assert listing["total"] == 2 and [r["id"] for r in listing["runs"]] == [second["id"]]
    assert listing["runs"][0]["metrics"] == {"make": {"n": 4.0}, "total": {"total": 12.0}}
    assert (await _get(jp_fetch, "runs", status="failed"))["runs"] == []

    diff = await _get(jp_fetch, "runs", "compare", a=first["id"], b=second["id"])
    assert {"stage": "make", "name": "n", "a": 3, "b": 4} in diff["parameters"]
    total = next(m for m in diff["metrics"] if m["name"] == "total")
    assert (total["a"], total["b"], total["delta"]) == (6.0, 12.0, 6.0)
    assert (total["higher_is_better"], total["change"]) == (True, "better")

    # A handoff's clean run is left out when the Runs view asks (its default).
    ws.catalog.write("UPDATE runs SET kind = 'handoff' WHERE id = ?", [first["id"]])
    hidden = await _get(jp_fetch, "runs", exclude_kind="handoff")
    assert hidden["total"] == 1 and [r["id"] for r in hidden["runs"]] == [second["id"]]
    assert (await _get(jp_fetch, "runs"))["total"] == 2
    with pytest.raises(HTTPClientError) as refused:
        await _get(jp_fetch, "runs", exclude_kind="nope")
    assert refused.value.code == 400
    assert "Unknown run kind 'nope'" in json.loads(refused.value.response.body)["error"]["message"]

    executed = await jp_fetch(
        "mlops-lab", "api", "runs", second["id"], "stages", "make", "notebook"
    )
    assert executed.headers["Content-Type"] == "application/x-ipynb+json"
    notebook = json.loads(executed.body)
    assert notebook["metadata"]["papermill"]["parameters"] == {"n": 4}
    code, opened = await _post(jp_fetch, "runs", second["id"], "stages", "make", "open", body={})
    assert code == 200
    copy = jp_root_dir / opened["path"]
    assert (copy.is_file() and not os.access(copy, os.W_OK)) or os.geteuid() == 0
    assert json.loads(copy.read_text())["metadata"]["papermill"]["parameters"] == {"n": 4}
    # Marked as what it records: JupyterLab opens it read-only, titled after its notebook.
    mark = json.loads(copy.read_text())["metadata"]["mlops_lab"]["executed"]
    assert mark == {
        "run_id": second["id"],
        "stage": "make",
        "notebook": mark["notebook"],
        "status": "succeeded",
    }
    assert mark["notebook"].endswith(".ipynb") and not mark["notebook"].startswith("mlops-lab-")
    cells = json.loads(copy.read_text())["cells"]
    assert all(c["metadata"]["editable"] is False for c in cells)


async def test_a_failed_run_names_the_failing_cell(jp_fetch: Any, jp_root_dir: Path) -> None:
    ws = two_stage_workspace(init_workspace(jp_root_dir))
    write_notebook(ws.root / "total.ipynb", "factor = 2.0", "x = 1", "1 / 0")
    code, started = await _post(jp_fetch, "runs", body={"pipeline": "demo"})
    assert code == 202
    run = await _until_done(jp_fetch, started["run_id"])
    assert run["status"] == "failed"
    failed = run["stages"][1]
    assert failed["error_name"] == "ZeroDivisionError"
    _, opened = await _post(jp_fetch, "runs", run["id"], "stages", "total", "open", body={})
    cells = json.loads((jp_root_dir / opened["path"]).read_text())["cells"]
    assert "".join(cells[opened["cell"]]["source"]) == "1 / 0"


async def test_run_a_single_notebook(jp_fetch: Any, jp_root_dir: Path) -> None:
    ws = init_workspace(jp_root_dir)
    write_notebook(
        ws.root / "nb" / "explore.ipynb",
        None,
        "import mlops_lab\nmlops_lab.context().log_metric('rows', 10)",
    )
    code, started = await _post(jp_fetch, "runs", body={"notebook": "nb/explore.ipynb"})
    assert code == 202
    run = await _until_done(jp_fetch, started["run_id"])
    assert run["status"] == "succeeded"
    assert run["pipeline"] == "notebook:nb/explore.ipynb"
    assert run["notebook"] == "nb/explore.ipynb"
    assert run["metrics"] == {"explore": {"rows": 10.0}}
    # One code cell, and no parameters cell: papermill injects nothing.
    assert run["stages"][0]["cells_done"] == run["stages"][0]["cells_total"] == 1


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"pipeline": "demo", "colour": "red"}, 422, "colour: unknown field"),
        ({"pipeline": "demo", "parameters": [1]}, 422, "parameters: must be an object"),
        ({"pipeline": "demo", "force": "yes"}, 422, "force: must be true or false"),
        ({"pipeline": "nope"}, 404, "No pipeline 'nope'"),
        ({"pipeline": "demo", "parameters": {"n": "x"}}, 422, "expects int"),
        ({"pipeline": "demo", "only": "x", "from": "y"}, 400, "not both"),
        ({"pipeline": "demo", "only": "x"}, 422, "has no stage 'x'"),
        ({"notebook": "missing.ipynb"}, 400, "missing.ipynb does not exist"),
        ({"notebook": "nb/a\x00b.ipynb"}, 422, "notebook: 'nb/a\\x00b.ipynb' is not valid"),
        ({"notebook": "x" * 300 + ".ipynb"}, 422, "longer than 255 bytes"),
        ({"notebook": "x/" * 600}, 422, "at most 1024 are allowed"),
        ({"pipeline": "p" * 100_000}, 422, "pipeline: is 100000 characters long"),
        ({"pipeline": "demo", "force": 1}, 422, "force: must be true or false"),
        (None, 400, "The request body is required"),
    ],
)
async def test_bad_run_requests_are_refused_and_record_nothing(
    jp_fetch: Any, jp_root_dir: Path, body: dict[str, Any] | None, status: int, fragment: str
) -> None:
    ws = two_stage_workspace(init_workspace(jp_root_dir))
    code, answer = await _post(jp_fetch, "runs", body=body)
    assert code == status
    assert fragment in answer["error"]["message"]
    assert ws.catalog.read_value("SELECT count(*) FROM runs") == 0


async def test_unknown_runs_and_bad_queries(jp_fetch: Any, jp_root_dir: Path) -> None:
    init_workspace(jp_root_dir)
    for parts, params, status, fragment in [
        (("runs", "r-nope"), {}, 404, "No run 'r-nope'"),
        (("runs",), {"limit": "many"}, 400, "must be an integer"),
        (("runs",), {"status": "sleepy"}, 400, "Unknown run status"),
        (("runs", "compare"), {"a": "x"}, 400, "?a=RUN_ID&b=RUN_ID"),
    ]:
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("mlops-lab", "api", *parts, params=params)
        assert info.value.code == status
        assert info.value.response is not None
        assert fragment in json.loads(info.value.response.body)["error"]["message"]
    code, answer = await _post(jp_fetch, "runs", "r-nope", "cancel", body={})
    assert code == 404 and "No run 'r-nope'" in answer["error"]["message"]

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from tornado.httpclient import HTTPClientError
from tornado.web import RequestHandler

from mlops_lab import init_workspace, open_workspace
from mlops_lab.cli import cli
from mlops_lab.server.routes import API_PREFIX, ROUTES

pytest_plugins = ["pytest_jupyter.jupyter_server"]

SPEC = yaml.safe_load((Path(__file__).parents[1] / "mlops_lab/server/openapi.yaml").read_text())


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"mlops_lab": True}}}


async def _error(fetch: Any, *parts: str) -> tuple[int, dict[str, Any]]:
    with pytest.raises(HTTPClientError) as info:
        await fetch(*parts)
    response = info.value.response
    assert response is not None
    return info.value.code, json.loads(response.body)


async def test_status_matches_the_cli_json(jp_fetch: Any, jp_root_dir: Path) -> None:
    workspace = init_workspace(jp_root_dir, name="served")
    workspace.artifacts.put_bytes(b"one")
    workspace.artifacts.put_bytes(b"three")
    response = await jp_fetch("mlops-lab", "api", "status")
    assert response.code == 200
    body = json.loads(response.body)
    assert body["workspace"] == {"path": str(workspace.root), "name": "served"}
    assert body["counts"]["artifacts"] == 2
    assert body["artifacts_bytes"] == 8
    assert body["catalog"]["schema_version"] == workspace.catalog.supported_version

    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["--workspace", str(jp_root_dir), "status", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == body


async def test_status_outside_a_workspace_is_a_json_404(jp_fetch: Any) -> None:
    code, body = await _error(jp_fetch, "mlops-lab", "api", "status")
    assert code == 404
    assert body["error"]["type"] == "WorkspaceNotFoundError"
    assert "mlops-lab init" in body["error"]["message"]


async def test_status_of_a_newer_catalog_is_a_json_409(jp_fetch: Any, jp_root_dir: Path) -> None:
    workspace = init_workspace(jp_root_dir)
    with duckdb.connect(str(workspace.catalog_path)) as con:
        con.execute("INSERT INTO schema_version (version, description) VALUES (99, 'future')")
    code, body = await _error(jp_fetch, "mlops-lab", "api", "status")
    assert code == 409
    assert body["error"]["type"] == "SchemaVersionError"
    assert "schema version 99" in body["error"]["message"]


async def test_status_of_a_corrupt_catalog_is_a_json_500(jp_fetch: Any, jp_root_dir: Path) -> None:
    workspace = init_workspace(jp_root_dir)
    workspace.catalog_path.write_bytes(b"garbage" * 1000)
    code, body = await _error(jp_fetch, "mlops-lab", "api", "status")
    assert code == 500
    assert body["error"]["type"] == "NotACatalogError"
    assert open_workspace(jp_root_dir).catalog_path.read_bytes() == b"garbage" * 1000


async def test_mlops_lab_home_overrides_the_server_root(
    jp_fetch: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = init_workspace(tmp_path / "elsewhere", name="elsewhere")
    monkeypatch.setenv("MLOPS_LAB_HOME", str(elsewhere.root))
    body = json.loads((await jp_fetch("mlops-lab", "api", "status")).body)
    assert body["workspace"]["name"] == "elsewhere"


@pytest.mark.parametrize(
    ("path", "method"),
    [(path, method.upper()) for path, ops in SPEC["paths"].items() for method in ops],
)
async def test_every_route_refuses_unauthenticated_requests(
    jp_fetch: Any, jp_root_dir: Path, path: str, method: str
) -> None:
    init_workspace(jp_root_dir)
    parts = (API_PREFIX + path).strip("/").split("/")
    body = {"body": "{}"} if method == "POST" else {}
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*parts, method=method, headers={"Authorization": ""}, **body)
    assert info.value.code in (401, 403)


def test_every_route_is_in_the_openapi_spec_and_back() -> None:
    assert SPEC["servers"][0]["url"] == API_PREFIX
    assert set(SPEC["paths"]) == {path for path, _ in ROUTES}


def _implemented(handler: type) -> set[str]:
    return {
        method
        for method in ("get", "post", "put", "patch", "delete")
        if getattr(handler, method) is not getattr(RequestHandler, method)
    }


def test_spec_operations_and_handler_methods_match() -> None:
    for path, handler in ROUTES:
        assert set(SPEC["paths"][path]) == _implemented(handler), path


async def test_the_spec_is_served(jp_fetch: Any) -> None:
    response = await jp_fetch("mlops-lab", "api", "openapi.yaml")
    assert yaml.safe_load(response.body) == SPEC

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
from tests.paths import OPENAPI

SPEC = yaml.safe_load(OPENAPI.read_text())


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
    body = {"body": "{}"} if method in ("POST", "PUT") else {}
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


# --- Input limits at the edge (issue #12): 400/413 naming the field, never a 500 ---------

PAGED = [
    ("drift",),
    ("evaluations",),
    ("models",),
    ("models", "churn"),
    ("runs",),
    ("features", "views"),
]


async def _refused(fetch: Any, *parts: str, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(HTTPClientError) as info:
        await fetch("mlops-lab", "api", *parts, **kwargs)
    assert info.value.response is not None
    body = json.loads(info.value.response.body)
    fields = {"fields"} if info.value.code == 422 else set()  # a wrong body names its fields
    assert set(body["error"]) == {"type", "status", "message", *fields}, body
    assert body["error"]["status"] == info.value.code
    return info.value.code, body["error"]["message"]


@pytest.mark.parametrize("parts", PAGED, ids="/".join)
@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("offset", "-1", "between 0 and 2147483647"),
        ("offset", str(2**63), "between 0 and 2147483647"),
        ("limit", "-5", "between 1 and 1000"),
        ("limit", "0", "between 1 and 1000"),
        ("limit", "1001", "between 1 and 1000"),
        ("limit", str(2**64), "between 1 and 1000"),
        ("limit", "true", "must be an integer"),
    ],
)
async def test_paging_out_of_range_is_a_400_naming_the_parameter(
    jp_fetch: Any,
    jp_root_dir: Path,
    parts: tuple[str, ...],
    name: str,
    value: str,
    fragment: str,
) -> None:
    init_workspace(jp_root_dir)
    code, message = await _refused(jp_fetch, *parts, params={name: value})
    assert code == 400
    assert f"'{name}'" in message and fragment in message


async def test_paging_limits_match_the_spec() -> None:
    for path, ops in SPEC["paths"].items():
        for op in ops.values():
            for parameter in op.get("parameters", []):
                if "$ref" in parameter:
                    parameter = SPEC["components"]["parameters"][parameter["$ref"].split("/")[-1]]
                if parameter["name"] == "limit":
                    assert parameter["schema"]["maximum"] == 1000, path
                    assert parameter["schema"]["minimum"] == 1, path
                if parameter["name"] == "offset":
                    assert parameter["schema"]["maximum"] == 2**31 - 1, path


async def test_overlong_or_control_characters_in_path_and_query_are_400(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    init_workspace(jp_root_dir)
    code, message = await _refused(jp_fetch, "runs", "r" * 300)
    assert code == 400 and "'run_id' is 300 characters long; at most 256" in message
    code, message = await _refused(jp_fetch, "models", "a\x00b")
    assert code == 400 and "Path parameter 'name'" in message and "control character" in message
    code, message = await _refused(jp_fetch, "models", params={"q": "x" * 5000})
    assert code == 400 and "Query parameter 'q'" in message


async def test_bodies_too_big_too_deep_or_not_json_numbers_are_refused(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    init_workspace(jp_root_dir)
    post = {"method": "POST"}
    code, message = await _refused(jp_fetch, "runs", body="[" * 100_000 + "]" * 100_000, **post)
    assert code == 400 and "nested too deeply" in message
    deep = {
        "pipeline": "p",
        "parameters": {"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},
    }
    code, message = await _refused(jp_fetch, "runs", body=json.dumps(deep), **post)
    assert code == 400 and "at most 32 levels" in message
    big = json.dumps({"pipeline": "p", "parameters": {"x": "a" * (1024 * 1024)}})
    code, message = await _refused(jp_fetch, "runs", body=big, **post)
    assert code == 413 and "at most 1048576 bytes" in message
    code, message = await _refused(
        jp_fetch, "deployments", "d1", "split", body='{"split": NaN}', **post
    )
    assert code == 400 and "NaN" in message
    code, message = await _refused(
        jp_fetch, "deployments", "d1", "split", body='{"split": 1e400}', **post
    )
    assert code == 422 and "split: must be between 0 and 1, got Infinity" in message
    code, message = await _refused(
        jp_fetch,
        "models",
        "m",
        "aliases",
        body='{"alias": "a", "version": true, "reason": "r"}',
        **post,
    )
    assert code == 422 and "version: must be an integer, got a boolean" in message


async def test_unauthenticated_answers_are_documented_error_bodies(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    init_workspace(jp_root_dir)
    code, _ = await _refused(jp_fetch, "status", headers={"Authorization": ""})
    assert code == 403
    for path, ops in SPEC["paths"].items():
        for method, op in ops.items():
            assert op["responses"]["403"] == {"$ref": "#/components/responses/Forbidden"}, (
                method,
                path,
            )
            if method == "post":
                assert "413" in op["responses"], path

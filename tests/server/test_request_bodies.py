"""Request bodies are declared once, in openapi.yaml, and the server holds to them.

The cases are generated from the spec: every POST/PUT/PATCH operation is
sent a body with an unknown field and, for each of its fields, a value of the
wrong type; each answer is a 422 naming the field. A new route is covered as
soon as it is in the spec (and the route table must match the spec).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from mlops_lab.errors import RequestBodyError
from mlops_lab.handoff.contract import NAME_PATTERN
from mlops_lab.handoff.determinism import MAX_REPEAT
from mlops_lab.models import promote, register_model
from mlops_lab.request_bodies import BODY_METHODS, BodySchemas
from mlops_lab.server.handlers import body_schemas
from mlops_lab.serving.app import make_app
from mlops_lab.serving.lifecycle import bind, http_server
from mlops_lab.serving.limits import body_schemas as serving_body_schemas
from mlops_lab.serving.predictor import Predictor
from mlops_lab.workspace import Workspace, init_workspace
from tests.paths import OPENAPI, REPO

pytest_plugins = ["pytest_jupyter.jupyter_server"]

SPEC_PATH = OPENAPI
SPEC = yaml.safe_load(SPEC_PATH.read_text())
SCHEMAS = BodySchemas(SPEC)
METHODS = ("get", "post", "put", "patch", "delete")

BODY_OPERATIONS = [
    (method, path)
    for path, operations in SPEC["paths"].items()
    for method in operations
    if method in BODY_METHODS
]

# A value of another type than the schema's, for each JSON type.
WRONG = {
    "string": 12345,
    "integer": "seven",
    "number": "many",
    "boolean": "yes",
    "object": [1],
    "array": {"a": 1},
}


def _ids(operations: list[tuple[str, str]]) -> list[str]:
    return [f"{method.upper()} {path}" for method, path in operations]


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"mlops_lab": True}}}


def _parts(path: str) -> list[str]:
    """``/runs/{run_id}/cancel`` -> the URL parts, with ``x`` for each path parameter."""
    return [re.sub(r"^\{\w+\}$", "x", part) for part in path.strip("/").split("/")]


async def _wrong(fetch: Any, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(HTTPClientError) as info:
        await fetch("mlops-lab", "api", *_parts(path), method=method.upper(), body=json.dumps(body))
    assert info.value.response is not None
    error = json.loads(info.value.response.body)["error"]
    assert info.value.code == 422, error
    assert error["type"] == "RequestBodyError" and error["status"] == 422
    return error


def _type_of(schema: dict[str, Any]) -> str:
    for part in [schema, *schema.get("allOf", [])]:
        if "type" in part:
            return str(part["type"])
    raise AssertionError(f"a body field without a type: {schema}")


def test_every_operation_that_changes_something_declares_a_strict_body() -> None:
    assert BODY_OPERATIONS, "the spec has no POST operation?"
    for method, path in BODY_OPERATIONS:
        schema = SCHEMAS.schema(method, path)
        assert schema is not None, f"{method.upper()} {path} declares no requestBody"
        assert schema.get("type") == "object", (method, path)
        assert schema.get("additionalProperties") is False, (method, path)
        for field in schema.get("properties", {}).values():
            _type_of(field)  # every field has a type
        responses = SPEC["paths"][path][method]["responses"]
        assert responses["422"] == {"$ref": "#/components/responses/InvalidBody"}, path
    assert "fields" in SPEC["components"]["schemas"]["Error"]["properties"]["error"]["properties"]


def test_the_server_checks_bodies_against_this_spec() -> None:
    assert body_schemas().operations() == SCHEMAS.operations()
    assert set(SCHEMAS.operations()) == set(BODY_OPERATIONS)


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS, ids=_ids(BODY_OPERATIONS))
async def test_an_unknown_field_is_a_422_naming_it(
    jp_fetch: Any, jp_root_dir: Path, method: str, path: str
) -> None:
    error = await _wrong(jp_fetch, method, path, {"surely_not_a_field": 1})
    fields = {f["field"]: f["reason"] for f in error["fields"]}
    assert "unknown field" in fields["surely_not_a_field"]
    assert "surely_not_a_field: unknown field" in error["message"]


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS, ids=_ids(BODY_OPERATIONS))
async def test_a_field_of_the_wrong_type_is_a_422_naming_it(
    jp_fetch: Any, jp_root_dir: Path, method: str, path: str
) -> None:
    schema = SCHEMAS.schema(method, path)
    assert schema is not None
    for name, field in schema.get("properties", {}).items():
        wanted = _type_of(field)
        error = await _wrong(jp_fetch, method, path, {name: WRONG[wanted]})
        fields = {f["field"]: f["reason"] for f in error["fields"]}
        assert fields[name].startswith("must be "), (name, fields)


async def test_every_wrong_field_is_named_at_once(jp_fetch: Any, jp_root_dir: Path) -> None:
    error = await _wrong(
        jp_fetch,
        "post",
        "/handoffs",
        {"notebook": "/abs.ipynb", "repeat": 0, "timeout": True, "x": 1},
    )
    assert [f["field"] for f in error["fields"]] == ["notebook", "repeat", "timeout", "x"]
    assert error["fields"][1]["reason"] == "must be between 1 and 10, got 0."


def test_nested_fields_are_named_by_their_path() -> None:
    spec = {
        "paths": {
            "/t": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {
                                        "split": {
                                            "type": "object",
                                            "additionalProperties": False,
                                            "properties": {
                                                "challenger": {"type": "number", "maximum": 1}
                                            },
                                        },
                                        "items": {"type": "array", "items": {"type": "string"}},
                                    },
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    with pytest.raises(RequestBodyError) as info:
        BodySchemas(spec).check(
            "post", "/t", {"split": {"challenger": 2, "c": 1}, "items": ["a", 3]}
        )
    assert info.value.to_dict()["fields"] == [
        {"field": "items[1]", "reason": "must be a string, got an integer."},
        {"field": "split.c", "reason": "unknown field; expected challenger."},
        {"field": "split.challenger", "reason": "must be at most 1, got 2."},
    ]
    assert info.value.http_status == 422


def test_a_pattern_ends_at_the_end_of_the_string() -> None:
    """Python's ``$`` matches before a final newline; a name is refused with one."""
    wrong = SCHEMAS.errors("post", "/runs", {"pipeline": "demo\n"})
    assert [field for field, _ in wrong] == ["pipeline"]
    assert SCHEMAS.errors("post", "/runs", {"pipeline": "demo"}) == []


def test_the_spec_states_the_limits_the_services_hold() -> None:
    handoff = SCHEMAS.schema("post", "/handoffs")
    assert handoff is not None
    assert handoff["properties"]["repeat"]["maximum"] == MAX_REPEAT
    stage = handoff["properties"]["stage"]["pattern"]
    assert stage == f"^{NAME_PATTERN.pattern}$"


# --- The model server (`mlops-lab serve`): its own spec, the same rules ------------------

SERVING_SPEC = yaml.safe_load((REPO / "mlops_lab/serving/openapi.yaml").read_text())
SERVING = BodySchemas(SERVING_SPEC)
SERVING_BODIES = SERVING.operations()


@pytest.fixture(scope="module")
def model_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    from sklearn.linear_model import LogisticRegression

    workspace = init_workspace(tmp_path_factory.mktemp("bodies") / "ws", name="bodies")
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [1.0, 0.0, 1.0, 0.0]})
    model = LogisticRegression().fit(frame, [0, 0, 1, 1])
    version = register_model(workspace, "m", model, X_sample=frame)
    promote(workspace, "m", int(version.version or 0), alias="champion", reason="t", by="t")
    return workspace


@asynccontextmanager
async def _model_server(workspace: Workspace) -> AsyncIterator[str]:
    """A model server on this test's event loop: its base URL."""
    server = http_server(make_app(Predictor(workspace, "m@champion")))
    sockets = bind("127.0.0.1", 0)
    server.add_sockets(sockets)
    try:
        yield f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
    finally:
        server.stop()


async def _served_wrong(base: str, path: str, body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(HTTPClientError) as info:
        await AsyncHTTPClient().fetch(base + path, method="POST", body=json.dumps(body))
    assert info.value.response is not None
    error = json.loads(info.value.response.body)["error"]
    assert info.value.code == error["status"] == 422, error
    return {f["field"]: f["reason"] for f in error["fields"]}


def test_the_model_servers_routes_are_its_spec() -> None:
    routes = {
        rule.matcher.regex.pattern.rstrip("$") for rule in make_app(None).wildcard_router.rules
    }  # type: ignore[arg-type]
    assert routes == set(SERVING_SPEC["paths"])
    assert SERVING_BODIES == [("post", "/predict"), ("post", "/rollback"), ("post", "/rollout")]
    assert serving_body_schemas().operations() == SERVING_BODIES


@pytest.mark.parametrize(("method", "path"), SERVING_BODIES, ids=_ids(SERVING_BODIES))
async def test_the_model_server_refuses_unknown_fields_and_wrong_types(
    model_workspace: Workspace, method: str, path: str
) -> None:
    schema = SERVING.schema(method, path)
    assert schema is not None
    async with _model_server(model_workspace) as base:
        fields = await _served_wrong(base, path, {"surely_not_a_field": 1})
        assert "unknown field" in fields["surely_not_a_field"]
        for name, field in schema["properties"].items():
            fields = await _served_wrong(base, path, {name: WRONG[_type_of(field)]})
            assert fields[name].startswith("must be "), (name, fields)


# --- The TypeScript client's request types name the same fields ---------------------------

SRC = REPO / "labextension" / "src"
CLIENT_BODIES = [
    ("runs/types.ts", "IStartRunRequest", "/runs"),
    ("handoffs/types.ts", "ICheckRequest", "/handoffs"),
    ("handoffs/types.ts", "IStageChangeRequest", "/handoffs/{handoff_id}/stage"),
    ("models/types.ts", "IPromoteRequest", "/models/{name}/aliases"),
    ("models/types.ts", "IPredictRequest", "/models/{name}/predict"),
    ("deployments/types.ts", "ISplitRequest", "/deployments/{deployment_id}/split"),
    ("deployments/types.ts", "IStartRolloutRequest", "/deployments/{deployment_id}/rollouts"),
    ("evaluations/types.ts", "IReasonRequest", "/alerts/{alert_id}/acknowledge"),
    ("evaluations/types.ts", "IReasonRequest", "/alerts/{alert_id}/close"),
    ("evaluations/types.ts", "IReasonRequest", "/ab-tests/{test_id}/close"),
]


def _interface_fields(source: str, name: str) -> dict[str, bool]:
    """A light parse of ``export interface NAME { ... }``: field -> optional (``?``)."""
    found = re.search(rf"export interface {name} \{{\n(.*?)\n\}}", source, re.S)
    assert found is not None, f"no interface {name}"
    body = re.sub(r"/\*.*?\*/", "", found.group(1), flags=re.S)  # drop doc comments
    fields = re.findall(r"^\s*(\w+)(\??):", body, re.M)
    return {field: optional == "?" for field, optional in fields}


@pytest.mark.parametrize(
    ("file", "interface", "path"), CLIENT_BODIES, ids=[f"{i} {p}" for _, i, p in CLIENT_BODIES]
)
def test_the_clients_request_types_match_the_spec(file: str, interface: str, path: str) -> None:
    fields = _interface_fields((SRC / file).read_text(), interface)
    schema = SCHEMAS.schema("post", path)
    assert schema is not None
    assert set(fields) == set(schema["properties"]), interface
    # The client always sends what the server requires (it may send more than that).
    assert not [f for f in schema.get("required", []) if fields[f]], interface


def test_every_body_with_fields_has_a_client_type_or_none_is_needed() -> None:
    typed = {path for _, _, path in CLIENT_BODIES}
    with_fields = {p for m, p in BODY_OPERATIONS if (SCHEMAS.schema(m, p) or {}).get("properties")}
    # These one-field bodies are built inline by the client ({since}: features/api.ts;
    # {notebook}: handoffs/api.ts); the push routes are for apps and tests, the extension
    # never sends events; {project}: the Lifecycle view's form (lifecycle/api.ts) sends
    # the definition as one object. A new body with fields needs a request type above.
    assert with_fields - typed == {
        "/project",
        "/project/validate",
        "/features/views/{name}/consistency",
        "/handoffs/parameters",
        "/features/views/{name}/push",
        "/features/{name}/push",
    }

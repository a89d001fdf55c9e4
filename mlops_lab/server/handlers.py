"""REST handlers: parse the request, call one service, write JSON.

Request bodies are declared once, in ``openapi.yaml``: :meth:`BaseHandler.prepare`
checks the body of every operation that declares one against its schema
(:mod:`mlops_lab.request_bodies`) before any handler runs, and a handler reads
the checked fields from ``self.body``. :meth:`BaseHandler.in_workspace` opens
the workspace and runs one service call off the event loop.

Errors become HTTP in one place, :meth:`BaseHandler.write_error`:
an :class:`~mlops_lab.errors.MlopsLabError` answers with its ``http_status``
and ``{"error": {"type", "status", "message"}}`` (a wrong body, 422, adds
``fields``: each wrong field with the reason).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Callable
from functools import cache
from http.client import responses
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import tornado.web
import yaml
from jupyter_server.base.handlers import APIHandler

from mlops_lab.errors import MlopsLabError
from mlops_lab.request_bodies import BodySchemas
from mlops_lab.server.validation import check_body_size, check_value, read_body
from mlops_lab.status import workspace_status
from mlops_lab.workspace import ENV_HOME, Workspace, open_workspace

__all__ = [
    "BaseHandler",
    "OpenAPIHandler",
    "StatusHandler",
    "body_schemas",
    "user_name",
]

T = TypeVar("T")


class BaseHandler(APIHandler):
    """Shared behaviour of every mlops-lab route."""

    def initialize(self, route: str = "") -> None:
        self.route = route  # e.g. "/runs/{run_id}": names the path arguments in errors
        self.body: dict[str, Any] = {}  # the request body, checked against openapi.yaml

    async def prepare(self) -> None:  # type: ignore[override]
        """Authenticate (Jupyter's checks), then refuse oversized or malformed input (400/413)
        before any handler runs: the body's size, every path segment and query value; then
        the body against its schema in openapi.yaml (422 naming each wrong field)."""
        await super().prepare()
        if self.current_user is None:
            return  # @tornado.web.authenticated answers 403
        check_body_size(len(self.request.body or b""))
        names = re.findall(r"\{(\w+)\}", self.route)
        for index, value in enumerate(self.path_args):
            name = names[index] if index < len(names) else f"#{index + 1}"
            check_value(value, f"Path parameter {name!r}")
        for name, values in self.request.query_arguments.items():
            check_value(name, "A query parameter's name")
            for raw in values:
                check_value(self.decode_argument(raw, name), f"Query parameter {name!r}")
        method, schemas = self.request.method or "", body_schemas()
        if schemas.schema(method, self.route) is not None:
            data = read_body(
                self.request.body or b"", required=schemas.required(method, self.route)
            )
            self.body = schemas.check(method, self.route, data)

    @property
    def server_root(self) -> Path:
        return Path(self.settings["mlops_lab_root_dir"])

    def workspace(self) -> Workspace:
        """The workspace the server was started in (found anew on every request)."""
        return open_workspace_for_server(self.server_root)

    async def in_workspace(self, service: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``service(workspace, *args, **kwargs)`` in the server's workspace (opened anew for
        this call), off the event loop: catalog retries may sleep."""

        def run() -> T:
            return service(self.workspace(), *args, **kwargs)

        return await asyncio.to_thread(run)

    def write_json(self, payload: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload, default=str))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Every error answers with the ``Error`` body of openapi.yaml, whatever raised it."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, MlopsLabError):
            status_code, body = exc.http_status, exc.to_dict()
        else:
            message = responses.get(status_code, "Unknown HTTP error")
            if isinstance(exc, tornado.web.HTTPError) and exc.log_message:
                message = exc.log_message % exc.args if exc.args else exc.log_message
            elif status_code >= 500:
                message = "Unexpected server error; the Jupyter server's log has the details."
            body = {"type": "HTTPError", "status": status_code, "message": message}
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": body}))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, MlopsLabError) and value.http_status < 500:
            self.log.info("mlops-lab %s: %s", type(value).__name__, value.message)
            return
        super().log_exception(typ, value, tb)


def user_name(handler: BaseHandler) -> str:
    """Who is asking: the Jupyter user's name, or the server's OS user when the login is an
    anonymous token (whose username is a random hex id)."""
    import getpass
    import re

    user = handler.current_user
    name = getattr(user, "username", None) or getattr(user, "name", None)
    if not isinstance(name, str) or not name or re.fullmatch(r"[0-9a-f]{16,}", name):
        return getpass.getuser()
    return name


def open_workspace_for_server(root: Path) -> Workspace:
    """MLOPS_LAB_HOME if set, else the workspace holding the server's root folder."""
    return open_workspace(None if os.environ.get(ENV_HOME) else root)


class StatusHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        status = await self.in_workspace(workspace_status)
        self.write_json(status.to_dict())


class OpenAPIHandler(BaseHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        self.finish(openapi_text(), set_content_type="application/yaml")


def openapi_text() -> str:
    return files("mlops_lab.server").joinpath("openapi.yaml").read_text(encoding="utf-8")


@cache
def body_schemas() -> BodySchemas:
    """The request bodies of openapi.yaml, read once per process."""
    return BodySchemas(yaml.safe_load(openapi_text()))

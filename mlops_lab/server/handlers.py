"""REST handlers: parse the request, call one service, write JSON.

Errors become HTTP in one place, :meth:`BaseHandler.write_error`:
an :class:`~mlops_lab.errors.MlopsLabError` answers with its ``http_status``
and ``{"error": {"type", "status", "message"}}``.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import tornado.web
from jupyter_server.base.handlers import APIHandler

from mlops_lab.errors import InvalidInputError, MlopsLabError
from mlops_lab.status import workspace_status
from mlops_lab.workspace import ENV_HOME, Workspace, open_workspace

__all__ = [
    "BaseHandler",
    "OpenAPIHandler",
    "StatusHandler",
    "int_argument",
    "json_body",
    "user_name",
]

T = TypeVar("T")


class BaseHandler(APIHandler):
    """Shared behaviour of every mlops-lab route."""

    @property
    def server_root(self) -> Path:
        return Path(self.settings["mlops_lab_root_dir"])

    def workspace(self) -> Workspace:
        """The workspace the server was started in (found anew on every request)."""
        return open_workspace_for_server(self.server_root)

    async def call(self, service: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run a blocking service off the event loop (catalog retries may sleep)."""
        return await asyncio.to_thread(service, *args, **kwargs)

    def write_json(self, payload: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload, default=str))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, MlopsLabError):
            self.set_status(exc.http_status)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"error": exc.to_dict()}))
            return
        super().write_error(status_code, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, MlopsLabError) and value.http_status < 500:
            self.log.info("mlops-lab %s: %s", type(value).__name__, value.message)
            return
        super().log_exception(typ, value, tb)


def int_argument(handler: BaseHandler, name: str, default: int) -> int:
    """An integer query argument, or a 400 naming it."""
    raw = handler.get_query_argument(name, None)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInputError(
            f"Query parameter {name!r} must be an integer, got {raw!r}."
        ) from None


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


def json_body(handler: BaseHandler) -> dict[str, Any]:
    """The request's JSON object, or a 400 saying what is wrong with it."""
    try:
        body = json.loads(handler.request.body or b"{}")
    except ValueError as exc:
        raise InvalidInputError(f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise InvalidInputError("The request body must be a JSON object.")
    return body


def open_workspace_for_server(root: Path) -> Workspace:
    """MLOPS_LAB_HOME if set, else the workspace holding the server's root folder."""
    return open_workspace(None if os.environ.get(ENV_HOME) else root)


class StatusHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        workspace = await self.call(self.workspace)
        status = await self.call(workspace_status, workspace)
        self.write_json(status.to_dict())


class OpenAPIHandler(BaseHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        self.finish(openapi_text(), set_content_type="application/yaml")


def openapi_text() -> str:
    return files("mlops_lab.server").joinpath("openapi.yaml").read_text(encoding="utf-8")

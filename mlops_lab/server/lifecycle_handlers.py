"""REST handlers for the project definition and the lifecycle state (see openapi.yaml)."""

from __future__ import annotations

from typing import Any

import tornado.web

from mlops_lab.lifecycle import check_project, read_project, write_project
from mlops_lab.lifecycle.state import lifecycle_state
from mlops_lab.server.handlers import BaseHandler
from mlops_lab.workspace import Workspace

__all__ = ["LifecycleHandler", "ProjectHandler", "ProjectValidateHandler"]


def _save(workspace: Workspace, project: dict[str, Any]) -> dict[str, Any]:
    return write_project(workspace.root, project)


class ProjectHandler(BaseHandler):
    """``GET /project``: the definition; ``PUT /project``: replace it (comments kept)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        self.write_json(await self.in_workspace(read_project))

    @tornado.web.authenticated
    async def put(self) -> None:
        self.write_json(await self.in_workspace(_save, self.body["project"]))


class ProjectValidateHandler(BaseHandler):
    """``POST /project/validate``: every problem of a proposed definition, nothing written."""

    @tornado.web.authenticated
    async def post(self) -> None:
        self.write_json(check_project(self.body["project"]))


class LifecycleHandler(BaseHandler):
    """``GET /lifecycle``: the project, each step's state, the loops and the timeline."""

    @tornado.web.authenticated
    async def get(self) -> None:
        self.write_json(await self.in_workspace(lifecycle_state))

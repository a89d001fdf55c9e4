"""REST handlers for handoffs (see openapi.yaml)."""

from __future__ import annotations

import tornado.web

from mlops_lab.errors import InvalidInputError
from mlops_lab.handoff import get_handoff, handoff_report, list_handoffs
from mlops_lab.handoff.contract import check_in_subprocess
from mlops_lab.server.handlers import BaseHandler, json_body, user_name

__all__ = ["HandoffHandler", "HandoffReportHandler", "HandoffsHandler"]

_FIELDS = {"notebook", "pipeline", "stage", "timeout", "rel_tol"}


class HandoffsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        workspace = await self.call(self.workspace)
        self.write_json({"handoffs": await self.call(list_handoffs, workspace)})

    @tornado.web.authenticated
    async def post(self) -> None:
        body = json_body(self)
        unknown = sorted(set(body) - _FIELDS)
        if unknown:
            raise InvalidInputError(
                f"Unknown field(s) {', '.join(unknown)}; expected {', '.join(sorted(_FIELDS))}."
            )
        notebook = body.get("notebook")
        if not isinstance(notebook, str) or not notebook:
            raise InvalidInputError("'notebook' (a workspace-relative path) is required.")
        options = {}
        for name in ("pipeline", "stage"):
            if body.get(name) is not None:
                if not isinstance(body[name], str):
                    raise InvalidInputError(f"'{name}' must be a string.")
                options[name] = body[name]
        for name in ("timeout", "rel_tol"):
            if body.get(name) is not None:
                if isinstance(body[name], bool) or not isinstance(body[name], int | float):
                    raise InvalidInputError(f"'{name}' must be a number.")
                options[name] = float(body[name])
        by = user_name(self)
        workspace = await self.call(self.workspace)
        found = await self.call(check_in_subprocess, workspace, notebook, by=str(by), **options)
        self.write_json(found)


class HandoffHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, handoff_id: str) -> None:
        workspace = await self.call(self.workspace)
        self.write_json(await self.call(get_handoff, workspace, handoff_id))


class HandoffReportHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, handoff_id: str) -> None:
        workspace = await self.call(self.workspace)
        report = await self.call(handoff_report, workspace, handoff_id)
        self.finish(report, set_content_type="text/markdown; charset=utf-8")

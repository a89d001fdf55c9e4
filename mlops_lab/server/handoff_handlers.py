"""REST handlers for handoffs (see openapi.yaml)."""

from __future__ import annotations

import tornado.web

from mlops_lab.handoff import get_handoff, handoff_report, list_handoffs
from mlops_lab.handoff.add_parameters import add_parameters_cell
from mlops_lab.handoff.contract import check_in_subprocess
from mlops_lab.handoff.stage_change import stage_change
from mlops_lab.server.handlers import BaseHandler, user_name
from mlops_lab.server.validation import check_path_parts

__all__ = [
    "HandoffHandler",
    "HandoffParametersHandler",
    "HandoffReportHandler",
    "HandoffStageHandler",
    "HandoffsHandler",
]


class HandoffsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        self.write_json({"handoffs": await self.in_workspace(list_handoffs)})

    @tornado.web.authenticated
    async def post(self) -> None:
        options = dict(self.body)  # checked against openapi.yaml: names, types, ranges
        notebook = check_path_parts(options.pop("notebook"), "notebook")
        for number in ("timeout", "cell_timeout", "rel_tol"):
            if number in options:
                options[number] = float(options[number])
        # Only an explicit request changes mlops_lab.yaml (the stage of a ready notebook).
        options.setdefault("write_pipeline", False)
        by = user_name(self)
        found = await self.in_workspace(check_in_subprocess, notebook, by=str(by), **options)
        self.write_json(found)


class HandoffHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, handoff_id: str) -> None:
        self.write_json(await self.in_workspace(get_handoff, handoff_id))


class HandoffReportHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, handoff_id: str) -> None:
        report = await self.in_workspace(handoff_report, handoff_id)
        self.finish(report, set_content_type="text/markdown; charset=utf-8")


class HandoffParametersHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        """Add a parameters cell to a notebook that has none (the fix the check offers)."""
        notebook = check_path_parts(self.body["notebook"], "notebook")
        self.write_json(await self.in_workspace(add_parameters_cell, notebook))


class HandoffStageHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, handoff_id: str) -> None:
        """Preview the stage a ready handoff adds to mlops_lab.yaml, or write it (``confirm``)."""
        body = self.body
        found = await self.in_workspace(
            stage_change,
            handoff_id,
            confirm=bool(body.get("confirm", False)),
            config_hash=body.get("config_hash"),
        )
        self.write_json(found)

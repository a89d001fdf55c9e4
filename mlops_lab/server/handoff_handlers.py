"""REST handlers for handoffs (see openapi.yaml)."""

from __future__ import annotations

import tornado.web

from mlops_lab.handoff import get_handoff, handoff_report, list_handoffs
from mlops_lab.handoff.add_parameters import add_parameters_cell
from mlops_lab.handoff.contract import NAME_PATTERN, check_in_subprocess
from mlops_lab.handoff.determinism import MAX_REPEAT
from mlops_lab.server.handlers import BaseHandler, user_name
from mlops_lab.server.validation import KERNEL_NAME, KERNEL_RULE, Body

__all__ = ["HandoffHandler", "HandoffParametersHandler", "HandoffReportHandler", "HandoffsHandler"]

_FIELDS = {
    "notebook", "pipeline", "stage", "timeout", "cell_timeout", "kernel", "rel_tol", "repeat",
    "write_pipeline",
}  # fmt: skip
_NAME_RULE = "letters, digits and _, not starting with a digit, at most 64 characters"
_MAX_TIMEOUT = 24 * 3600.0


class HandoffsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        workspace = await self.call(self.workspace)
        self.write_json({"handoffs": await self.call(list_handoffs, workspace)})

    @tornado.web.authenticated
    async def post(self) -> None:
        body = Body(self, fields=_FIELDS)
        notebook = body.path("notebook", required=True)
        assert notebook is not None
        options: dict[str, object] = {}
        for name in ("pipeline", "stage"):
            value = body.text(name, pattern=NAME_PATTERN, rule=_NAME_RULE)
            if value is not None:
                options[name] = value
        timeout = body.number("timeout", minimum=1, maximum=_MAX_TIMEOUT)
        cell_timeout = body.number("cell_timeout", minimum=1, maximum=_MAX_TIMEOUT)
        kernel = body.text("kernel", pattern=KERNEL_NAME, rule=KERNEL_RULE)
        rel_tol = body.number("rel_tol", minimum=0, maximum=1)
        if timeout is not None:
            options["timeout"] = timeout
        if cell_timeout is not None:
            options["cell_timeout"] = cell_timeout
        if kernel is not None:
            options["kernel"] = kernel
        if rel_tol is not None:
            options["rel_tol"] = rel_tol
        repeat = body.integer("repeat", minimum=1, maximum=MAX_REPEAT)
        if repeat is not None:
            options["repeat"] = repeat
        # Only an explicit request changes mlops_lab.yaml (the stage of a ready notebook).
        options["write_pipeline"] = body.boolean("write_pipeline", default=False)
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


class HandoffParametersHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        """Add a parameters cell to a notebook that has none (the fix the check offers)."""
        notebook = Body(self, fields={"notebook"}).path("notebook", required=True)
        workspace = await self.call(self.workspace)
        self.write_json(await self.call(add_parameters_cell, workspace, notebook))

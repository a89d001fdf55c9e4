"""REST handlers for pipelines and runs (see openapi.yaml)."""

from __future__ import annotations

from pathlib import Path

import tornado.web

from mlops_lab.errors import InvalidInputError
from mlops_lab.pipelines.records import get_run, list_runs
from mlops_lab.pipelines.service import (
    compare_runs,
    executed_notebook,
    launch_run,
    open_executed_notebook,
    request_cancel,
)
from mlops_lab.pipelines.spec import load_pipelines
from mlops_lab.server.handlers import BaseHandler
from mlops_lab.server.validation import Body, page, query_text

__all__ = [
    "CancelRunHandler",
    "CompareRunsHandler",
    "ExecutedNotebookHandler",
    "OpenNotebookHandler",
    "PipelinesHandler",
    "RunHandler",
    "RunsHandler",
]

_START_FIELDS = {"pipeline", "notebook", "parameters", "force", "only", "from"}


def _workspace_relative(workspace_root: Path, server_root: Path, notebook: str) -> str:
    path = (server_root / notebook).resolve()
    if not path.is_relative_to(workspace_root):
        raise InvalidInputError(
            f"Notebook {notebook!r} is not an .ipynb file inside the workspace {workspace_root}."
        )
    return path.relative_to(workspace_root).as_posix()


class PipelinesHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        workspace = await self.call(self.workspace)
        found = await self.call(load_pipelines, workspace)
        self.write_json({"pipelines": [p.to_dict() for p in found.values()]})


class RunsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        limit, offset = page(self, default_limit=50)
        workspace = await self.call(self.workspace)
        runs, total = await self.call(
            list_runs,
            workspace.catalog,
            pipeline=query_text(self, "pipeline"),
            status=query_text(self, "status"),
            limit=limit,
            offset=offset,
        )
        self.write_json(
            {"runs": [r.to_dict() for r in runs], "total": total, "limit": limit, "offset": offset}
        )

    @tornado.web.authenticated
    async def post(self) -> None:
        body = Body(self, fields=_START_FIELDS)
        parameters = body.mapping("parameters") or {}
        pipeline, only, from_stage = body.text("pipeline"), body.text("only"), body.text("from")
        notebook, force = body.path("notebook"), body.boolean("force")
        workspace = await self.call(self.workspace)
        if notebook is not None:  # the panel sends paths relative to the server's root
            notebook = _workspace_relative(workspace.root, self.server_root, notebook)
        run_id = await self.call(
            launch_run,
            workspace,
            pipeline=pipeline,
            notebook=notebook,
            parameters=parameters,
            force=force,
            only=only,
            from_stage=from_stage,
        )
        self.write_json({"run_id": run_id}, status=202)


class CompareRunsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        a, b = query_text(self, "a"), query_text(self, "b")
        if not a or not b:
            raise InvalidInputError("Give the two runs to compare as ?a=RUN_ID&b=RUN_ID.")
        workspace = await self.call(self.workspace)
        self.write_json(await self.call(compare_runs, workspace, a, b))


class RunHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, run_id: str) -> None:
        workspace = await self.call(self.workspace)
        record = await self.call(get_run, workspace.catalog, run_id)
        self.write_json(record.to_dict())


class CancelRunHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, run_id: str) -> None:
        workspace = await self.call(self.workspace)
        status = await self.call(request_cancel, workspace, run_id)
        self.write_json({"run_id": run_id, "status": status}, status=202)


class ExecutedNotebookHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, run_id: str, stage: str) -> None:
        workspace = await self.call(self.workspace)
        data = await self.call(executed_notebook, workspace, run_id, stage)
        # APIHandler.finish would label it application/json: name the notebook media type.
        self.finish(data, set_content_type="application/x-ipynb+json")


class OpenNotebookHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, run_id: str, stage: str) -> None:
        workspace = await self.call(self.workspace)
        result = await self.call(open_executed_notebook, workspace, run_id, stage, self.server_root)
        self.write_json(result)

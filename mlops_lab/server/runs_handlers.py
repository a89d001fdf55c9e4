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
from mlops_lab.server.handlers import BaseHandler, int_argument, json_body

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
        limit = int_argument(self, "limit", 50)
        offset = int_argument(self, "offset", 0)
        workspace = await self.call(self.workspace)
        runs, total = await self.call(
            list_runs,
            workspace.catalog,
            pipeline=self.get_query_argument("pipeline", None),
            status=self.get_query_argument("status", None),
            limit=limit,
            offset=offset,
        )
        self.write_json(
            {"runs": [r.to_dict() for r in runs], "total": total, "limit": limit, "offset": offset}
        )

    @tornado.web.authenticated
    async def post(self) -> None:
        body = json_body(self)
        unknown = sorted(set(body) - _START_FIELDS)
        if unknown:
            expected = ", ".join(sorted(_START_FIELDS))
            raise InvalidInputError(f"Unknown field(s) {', '.join(unknown)}; expected {expected}.")
        parameters = body.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise InvalidInputError("'parameters' must be an object of name -> value.")
        for name in ("pipeline", "notebook", "only", "from"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise InvalidInputError(f"'{name}' must be a string.")
        if not isinstance(body.get("force", False), bool):
            raise InvalidInputError("'force' must be true or false.")
        workspace = await self.call(self.workspace)
        notebook = body.get("notebook")
        if notebook is not None:  # the panel sends paths relative to the server's root
            notebook = _workspace_relative(workspace.root, self.server_root, notebook)
        run_id = await self.call(
            launch_run,
            workspace,
            pipeline=body.get("pipeline"),
            notebook=notebook,
            parameters=parameters,
            force=body.get("force", False),
            only=body.get("only"),
            from_stage=body.get("from"),
        )
        self.write_json({"run_id": run_id}, status=202)


class CompareRunsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        a, b = self.get_query_argument("a", None), self.get_query_argument("b", None)
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
        self.set_header("Content-Type", "application/x-ipynb+json")
        self.finish(data)


class OpenNotebookHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, run_id: str, stage: str) -> None:
        workspace = await self.call(self.workspace)
        result = await self.call(open_executed_notebook, workspace, run_id, stage, self.server_root)
        self.write_json(result)

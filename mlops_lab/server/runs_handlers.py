"""REST handlers for pipelines and runs (see openapi.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tornado.web

from mlops_lab.errors import InvalidInputError
from mlops_lab.pipelines.compare import compare_many
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
from mlops_lab.server.validation import check_path_parts, page, query_text
from mlops_lab.workspace import Workspace

__all__ = [
    "CancelRunHandler",
    "CompareRunsHandler",
    "ExecutedNotebookHandler",
    "OpenNotebookHandler",
    "PipelinesHandler",
    "RunHandler",
    "RunsHandler",
]


def _workspace_relative(workspace_root: Path, server_root: Path, notebook: str) -> str:
    path = (server_root / notebook).resolve()
    if not path.is_relative_to(workspace_root):
        raise InvalidInputError(
            f"Notebook {notebook!r} is not an .ipynb file inside the workspace {workspace_root}."
        )
    return path.relative_to(workspace_root).as_posix()


def _launch(
    workspace: Workspace, server_root: Path, *, notebook: str | None, **options: Any
) -> str:
    """Start a run; ``notebook`` comes relative to the server's root (as the panel sends it)."""
    if notebook is not None:
        notebook = _workspace_relative(workspace.root, server_root, notebook)
    return launch_run(workspace, notebook=notebook, **options)


class PipelinesHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        found = await self.in_workspace(load_pipelines)
        self.write_json({"pipelines": [p.to_dict() for p in found.values()]})


class RunsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        limit, offset = page(self, default_limit=50)
        runs, total = await self.in_workspace(
            lambda workspace, **filters: list_runs(workspace.catalog, **filters),
            pipeline=query_text(self, "pipeline"),
            status=query_text(self, "status"),
            exclude_kind=query_text(self, "exclude_kind"),
            limit=limit,
            offset=offset,
        )
        self.write_json(
            {"runs": [r.to_dict() for r in runs], "total": total, "limit": limit, "offset": offset}
        )

    @tornado.web.authenticated
    async def post(self) -> None:
        body = self.body
        notebook = body.get("notebook")
        if notebook is not None:
            check_path_parts(notebook, "notebook")
        run_id = await self.in_workspace(
            _launch,
            self.server_root,
            pipeline=body.get("pipeline"),
            notebook=notebook,
            parameters=body.get("parameters", {}),
            force=body.get("force", False),
            only=body.get("only"),
            from_stage=body.get("from"),
        )
        self.write_json({"run_id": run_id}, status=202)


class CompareRunsHandler(BaseHandler):
    """Two runs as ``?a=&b=`` (what differs), or 2 to 50 as ``?runs=`` (side by side)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        a, b = query_text(self, "a"), query_text(self, "b")
        listed = self.get_query_arguments("runs")  # each value checked by prepare()
        if listed:
            if a is not None or b is not None:
                raise InvalidInputError(
                    "Give the runs to compare either as ?runs=RUN_ID,RUN_ID,... "
                    "or as ?a=RUN_ID&b=RUN_ID, not both."
                )
            ids = [part.strip() for value in listed for part in value.split(",")]
            if not all(ids):
                raise InvalidInputError(
                    f"An empty run id in ?runs={','.join(listed)!r}: "
                    "give them as ?runs=RUN_ID,RUN_ID,..."
                )
            self.write_json(await self.in_workspace(compare_many, ids))
            return
        if not a or not b:
            raise InvalidInputError(
                "Give the two runs to compare as ?a=RUN_ID&b=RUN_ID "
                "(or 2 or more as ?runs=RUN_ID,RUN_ID,...)."
            )
        self.write_json(await self.in_workspace(compare_runs, a, b))


class RunHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, run_id: str) -> None:
        record = await self.in_workspace(lambda workspace: get_run(workspace.catalog, run_id))
        self.write_json(record.to_dict())


class CancelRunHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, run_id: str) -> None:
        status = await self.in_workspace(request_cancel, run_id)
        self.write_json({"run_id": run_id, "status": status}, status=202)


class ExecutedNotebookHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, run_id: str, stage: str) -> None:
        data = await self.in_workspace(executed_notebook, run_id, stage)
        # APIHandler.finish would label it application/json: name the notebook media type.
        self.finish(data, set_content_type="application/x-ipynb+json")


class OpenNotebookHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, run_id: str, stage: str) -> None:
        result = await self.in_workspace(open_executed_notebook, run_id, stage, self.server_root)
        self.write_json(result)

"""REST handlers for deployments (model servers) and a quick prediction from the panel."""

from __future__ import annotations

import threading
from typing import Any

import tornado.web

from mlops_lab.errors import InvalidInputError
from mlops_lab.server.handlers import BaseHandler
from mlops_lab.server.validation import MAX_TEXT_LENGTH, Body, query_text
from mlops_lab.serving.deployments import get_deployment, list_deployments, set_split
from mlops_lab.workspace import Workspace

__all__ = [
    "DeploymentHandler",
    "DeploymentSplitHandler",
    "DeploymentsHandler",
    "ModelPredictHandler",
]


class DeploymentsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        include = query_text(self, "all", choices=("true", "false", "1", "0")) in ("1", "true")
        workspace = await self.call(self.workspace)
        found = await self.call(list_deployments, workspace, include_stopped=include)
        self.write_json({"deployments": found})


class DeploymentHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, deployment_id: str) -> None:
        workspace = await self.call(self.workspace)
        self.write_json(await self.call(get_deployment, workspace, deployment_id))


class DeploymentSplitHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, deployment_id: str) -> None:
        body = Body(self, fields={"split", "reason"})
        split = body.number("split", required=True, minimum=0, maximum=1)
        reason = body.text("reason", max_length=MAX_TEXT_LENGTH) or ""
        workspace = await self.call(self.workspace)
        change = await self.call(set_split, workspace, deployment_id, split, reason=reason)
        self.write_json(change)


_predictors: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


def _try_predict(workspace: Workspace, ref: str, entity: Any, features: Any) -> dict[str, Any]:
    from mlops_lab.serving.predictor import Predictor

    key = (str(workspace.root), ref)
    with _lock:
        predictor = _predictors.get(key)
        if predictor is None:
            predictor = _predictors[key] = Predictor(workspace, ref)
    predictor.refresh()
    return predictor.predict(entity or {}, features)


class ModelPredictHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        body = Body(self, fields={"ref", "entity", "features"})
        ref = body.text("ref") or f"{name}@champion"
        if not ref.startswith(name):
            raise InvalidInputError(f"'ref' must be a reference to model {name!r}.")
        entity, features = body.mapping("entity"), body.mapping("features")
        workspace = await self.call(self.workspace)
        answer = await self.call(_try_predict, workspace, ref, entity, features)
        self.write_json(answer)

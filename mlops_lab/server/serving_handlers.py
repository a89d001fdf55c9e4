"""REST handlers for deployments (model servers) and a quick prediction from the panel."""

from __future__ import annotations

import threading
from typing import Any

import tornado.web

from mlops_lab.errors import InvalidInputError
from mlops_lab.server.handlers import BaseHandler, json_body
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
        include = self.get_query_argument("all", "false") in ("1", "true")
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
        body = json_body(self)
        split = body.get("split")
        if isinstance(split, bool) or not isinstance(split, int | float) or not 0 <= split <= 1:
            raise InvalidInputError("'split' must be a number between 0 and 1.")
        reason = body.get("reason", "")
        if not isinstance(reason, str):
            raise InvalidInputError("'reason' must be a string.")
        workspace = await self.call(self.workspace)
        change = await self.call(set_split, workspace, deployment_id, float(split), reason=reason)
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
        body = json_body(self)
        unknown = sorted(set(body) - {"ref", "entity", "features"})
        if unknown:
            raise InvalidInputError(
                f"Unknown field(s) {', '.join(unknown)}; expected ref, entity, features."
            )
        ref = body.get("ref") or f"{name}@champion"
        if not isinstance(ref, str) or not ref.startswith(name):
            raise InvalidInputError(f"'ref' must be a reference to model {name!r}.")
        workspace = await self.call(self.workspace)
        answer = await self.call(
            _try_predict, workspace, ref, body.get("entity"), body.get("features")
        )
        self.write_json(answer)

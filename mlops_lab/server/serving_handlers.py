"""REST handlers for deployments (model servers) and a quick prediction from the panel."""

from __future__ import annotations

import tornado.web

from mlops_lab.errors import RequestBodyError
from mlops_lab.server.handlers import BaseHandler
from mlops_lab.server.validation import query_text
from mlops_lab.serving.deployments import (
    get_deployment,
    get_history,
    list_deployments,
    set_split,
)
from mlops_lab.serving.quick import QuickPredictors

__all__ = [
    "DeploymentHandler",
    "DeploymentHistoryHandler",
    "DeploymentSplitHandler",
    "DeploymentsHandler",
    "ModelPredictHandler",
]


class DeploymentsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        include = query_text(self, "all", choices=("true", "false", "1", "0")) in ("1", "true")
        found = await self.in_workspace(list_deployments, include_stopped=include)
        self.write_json({"deployments": found})


class DeploymentHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, deployment_id: str) -> None:
        self.write_json(await self.in_workspace(get_deployment, deployment_id))


class DeploymentHistoryHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, deployment_id: str) -> None:
        self.write_json(await self.in_workspace(get_history, deployment_id))


class DeploymentSplitHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, deployment_id: str) -> None:
        split, reason = float(self.body["split"]), self.body.get("reason", "")
        change = await self.in_workspace(set_split, deployment_id, split, reason=reason)
        self.write_json(change)


class ModelPredictHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        ref = self.body.get("ref", f"{name}@champion")
        if not ref.startswith(name):
            raise RequestBodyError([("ref", f"must be a reference to model {name!r}.")])
        predictors: QuickPredictors = self.settings["mlops_lab_quick_predictors"]
        entity, features = self.body.get("entity"), self.body.get("features")
        self.write_json(await self.in_workspace(predictors.predict, ref, entity, features))

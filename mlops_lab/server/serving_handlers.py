"""REST handlers for deployments (model servers) and a quick prediction from the panel."""

from __future__ import annotations

import tornado.web

from mlops_lab.errors import RequestBodyError
from mlops_lab.server.handlers import BaseHandler, user_name
from mlops_lab.server.validation import query_text
from mlops_lab.serving.deployments import (
    get_deployment,
    get_history,
    list_deployments,
    set_split,
)
from mlops_lab.serving.quick import QuickPredictors
from mlops_lab.serving.rollout_plan import control_rollout, parse_steps, start_in_background
from mlops_lab.serving.rollout_store import deployment_rollouts, get_rollout

__all__ = [
    "DeploymentHandler",
    "DeploymentHistoryHandler",
    "DeploymentRolloutsHandler",
    "DeploymentSplitHandler",
    "DeploymentsHandler",
    "ModelPredictHandler",
    "RolloutActionHandler",
    "RolloutHandler",
]

_BOUNDS = (
    "min_requests",
    "max_error_rate",
    "max_p99_ms",
    "max_p99_ratio",
    "max_prediction_psi",
    "max_holds",
)


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


class DeploymentRolloutsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, deployment_id: str) -> None:
        self.write_json(await self.in_workspace(deployment_rollouts, deployment_id))

    @tornado.web.authenticated
    async def post(self, deployment_id: str) -> None:
        body = self.body
        started = await self.in_workspace(
            start_in_background,
            deployment_id,
            to_alias=body.get("to", "challenger"),
            steps=parse_steps(body.get("steps", "5,25,50,100")),
            interval_s=float(body.get("interval_s", 60.0)),
            limits={k: body[k] for k in _BOUNDS if k in body},
        )
        self.write_json(started, status=202)


class RolloutHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, rollout_id: str) -> None:
        self.write_json(await self.in_workspace(get_rollout, rollout_id))


class RolloutActionHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, rollout_id: str, action: str) -> None:
        by = user_name(self)
        self.write_json(await self.in_workspace(control_rollout, rollout_id, action, by=by))

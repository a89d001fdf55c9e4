"""REST handlers for the model store (see openapi.yaml)."""

from __future__ import annotations

import tornado.web

from mlops_lab.models.aliases import promote
from mlops_lab.pages.models import list_models_page, model_detail, version_detail
from mlops_lab.server.handlers import BaseHandler, user_name
from mlops_lab.server.validation import MAX_TEXT_LENGTH, Body, page, path_int, query_text

__all__ = ["ModelAliasesHandler", "ModelHandler", "ModelVersionHandler", "ModelsHandler"]


class ModelsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        limit, offset = page(self, default_limit=50)
        query = query_text(self, "q")
        workspace = await self.call(self.workspace)
        found = await self.call(list_models_page, workspace, query=query, limit=limit,
                                offset=offset)  # fmt: skip
        self.write_json(found)


class ModelHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        limit, offset = page(self, default_limit=50)
        workspace = await self.call(self.workspace)
        detail = await self.call(model_detail, workspace, name, limit=limit, offset=offset)
        self.write_json(detail)


class ModelVersionHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str, version: str) -> None:
        number = path_int(version, "version")
        workspace = await self.call(self.workspace)
        self.write_json(await self.call(version_detail, workspace, name, number))


class ModelAliasesHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        body = Body(self, fields={"alias", "version", "reason"})
        alias = body.text("alias", required=True)
        version = body.integer("version", required=True, minimum=1)
        reason = body.text("reason", required=True, max_length=MAX_TEXT_LENGTH)
        by = user_name(self)
        workspace = await self.call(self.workspace)
        moved = await self.call(promote, workspace, name, version, alias=alias, reason=reason,
                                by=str(by))  # fmt: skip
        self.write_json(moved)

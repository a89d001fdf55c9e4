"""REST handlers for the model store (see openapi.yaml)."""

from __future__ import annotations

import tornado.web

from mlops_lab.errors import InvalidInputError
from mlops_lab.models.aliases import promote
from mlops_lab.models.browse import list_models_page, model_detail, version_detail
from mlops_lab.server.handlers import BaseHandler, int_argument, json_body, user_name

__all__ = ["ModelAliasesHandler", "ModelHandler", "ModelVersionHandler", "ModelsHandler"]


class ModelsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        workspace = await self.call(self.workspace)
        page = await self.call(
            list_models_page, workspace, query=self.get_query_argument("q", None),
            limit=int_argument(self, "limit", 50), offset=int_argument(self, "offset", 0),
        )  # fmt: skip
        self.write_json(page)


class ModelHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        workspace = await self.call(self.workspace)
        detail = await self.call(
            model_detail, workspace, name, limit=int_argument(self, "limit", 50),
            offset=int_argument(self, "offset", 0),
        )  # fmt: skip
        self.write_json(detail)


class ModelVersionHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str, version: str) -> None:
        if not version.isdigit():
            raise InvalidInputError(f"The version is a number, got {version!r}.")
        workspace = await self.call(self.workspace)
        self.write_json(await self.call(version_detail, workspace, name, int(version)))


class ModelAliasesHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        body = json_body(self)
        unknown = sorted(set(body) - {"alias", "version", "reason"})
        if unknown:
            raise InvalidInputError(f"Unknown field(s) {', '.join(unknown)}; "
                                    "expected alias, version, reason.")  # fmt: skip
        version = body.get("version")
        if isinstance(version, bool) or not isinstance(version, int):
            raise InvalidInputError("'version' must be an integer.")
        alias, reason = body.get("alias"), body.get("reason")
        if not isinstance(alias, str) or not isinstance(reason, str):
            raise InvalidInputError("'alias' and 'reason' must be strings.")
        by = user_name(self)
        workspace = await self.call(self.workspace)
        moved = await self.call(promote, workspace, name, version, alias=alias, reason=reason,
                                by=str(by))  # fmt: skip
        self.write_json(moved)

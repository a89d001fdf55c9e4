"""REST handlers for the model store (see openapi.yaml)."""

from __future__ import annotations

import tornado.web

from mlops_lab.datasets import dataset_version_detail
from mlops_lab.errors import InvalidInputError
from mlops_lab.models.aliases import promote
from mlops_lab.models.bundles import list_bundles
from mlops_lab.pages.model_compare import compare_versions, version_example
from mlops_lab.pages.models import list_models_page, model_detail, version_detail
from mlops_lab.server.handlers import BaseHandler, user_name
from mlops_lab.server.validation import page, path_int, query_text

__all__ = [
    "DatasetVersionHandler",
    "ModelAliasesHandler",
    "ModelBundlesHandler",
    "ModelCompareHandler",
    "ModelExampleHandler",
    "ModelHandler",
    "ModelVersionHandler",
    "ModelsHandler",
]


class ModelsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        limit, offset = page(self, default_limit=50)
        query = query_text(self, "q")
        found = await self.in_workspace(list_models_page, query=query, limit=limit, offset=offset)
        self.write_json(found)


class ModelHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        limit, offset = page(self, default_limit=50)
        detail = await self.in_workspace(model_detail, name, limit=limit, offset=offset)
        self.write_json(detail)


class ModelVersionHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str, version: str) -> None:
        number = path_int(version, "version")
        self.write_json(await self.in_workspace(version_detail, name, number))


class ModelAliasesHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        alias, version, reason = self.body["alias"], self.body["version"], self.body["reason"]
        by = user_name(self)
        moved = await self.in_workspace(
            promote, name, version, alias=alias, reason=reason, by=str(by)
        )
        self.write_json(moved)


class ModelBundlesHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str, version: str) -> None:
        number = path_int(version, "version")
        self.write_json({"bundles": await self.in_workspace(list_bundles, name, number)})


class ModelExampleHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str, version: str) -> None:
        number = path_int(version, "version")
        self.write_json(await self.in_workspace(version_example, name, number))


class ModelCompareHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        raw = query_text(self, "versions") or ""
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        if not parts or not all(p.isdigit() for p in parts):
            raise InvalidInputError(
                f"Give the versions to compare as ?versions=1,2 (numbers), got {raw!r}."
            )
        numbers = [path_int(p, "version") for p in parts]
        self.write_json(await self.in_workspace(compare_versions, name, numbers))


class DatasetVersionHandler(BaseHandler):
    """A dataset version (a model's training data): rows, columns, the run that made it."""

    @tornado.web.authenticated
    async def get(self, name: str, version: str) -> None:
        number = path_int(version, "version")
        self.write_json(await self.in_workspace(dataset_version_detail, name, number))

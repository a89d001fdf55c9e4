"""REST handlers for the feature store (see openapi.yaml)."""

from __future__ import annotations

from datetime import UTC, datetime

import tornado.web

from mlops_lab.errors import InvalidInputError
from mlops_lab.features.discovery import diff_versions, view_detail
from mlops_lab.features.queries import facets, get_view, list_views
from mlops_lab.server.handlers import BaseHandler
from mlops_lab.server.validation import Body, page, query_int, query_text
from mlops_lab.serving.consistency import check_consistency, consistency_reports

__all__ = [
    "FeatureConsistencyHandler",
    "FeatureViewDiffHandler",
    "FeatureViewHandler",
    "FeatureViewsHandler",
]


class FeatureViewsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        limit, offset = page(self, default_limit=50)
        workspace = await self.call(self.workspace)
        views, total = await self.call(
            list_views,
            workspace,
            query=query_text(self, "q"),
            tag=query_text(self, "tag"),
            owner=query_text(self, "owner"),
            limit=limit,
            offset=offset,
        )
        found = await self.call(facets, workspace)
        self.write_json(
            {"views": views, "total": total, "limit": limit, "offset": offset, "facets": found}
        )


class FeatureViewHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        version = self.get_query_argument("version", None)
        pinned = query_int(self, "version", 0, minimum=1) if version is not None else None
        workspace = await self.call(self.workspace)
        self.write_json(await self.call(view_detail, workspace, name, pinned))


class FeatureViewDiffHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        if self.get_query_argument("a", None) is None or self.get_query_argument("b", None) is None:
            raise InvalidInputError("Give the two versions to compare as ?a=1&b=2.")
        a, b = query_int(self, "a", 0, minimum=1), query_int(self, "b", 0, minimum=1)
        workspace = await self.call(self.workspace)
        self.write_json(await self.call(diff_versions, workspace, name, a, b))


class FeatureConsistencyHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        limit = query_int(self, "limit", 20, minimum=1, maximum=1000)
        workspace = await self.call(self.workspace)
        await self.call(get_view, workspace, name)  # 404 for an unknown view
        self.write_json({"reports": await self.call(consistency_reports, workspace, name,
                                                    limit=limit)})  # fmt: skip

    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        given = Body(self, fields={"since"}, required=False).text("since", max_length=64)
        since = None
        if given is not None:
            try:
                since = datetime.fromisoformat(given)
            except ValueError:
                raise InvalidInputError(f"'since' {given!r} is not an ISO time.") from None
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
        workspace = await self.call(self.workspace)
        self.write_json(await self.call(check_consistency, workspace, name, since=since))

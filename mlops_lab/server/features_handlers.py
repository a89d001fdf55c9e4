"""REST handlers for the feature store (see openapi.yaml)."""

from __future__ import annotations

from datetime import UTC, datetime

import tornado.web

from mlops_lab.errors import InvalidInputError, RequestBodyError
from mlops_lab.features.discovery import diff_versions, view_detail
from mlops_lab.features.queries import facets, get_view, list_views
from mlops_lab.features.streams import stream_status
from mlops_lab.server.handlers import BaseHandler
from mlops_lab.server.validation import page, query_int, query_text
from mlops_lab.serving.consistency import check_consistency, consistency_reports

__all__ = [
    "FeatureConsistencyHandler",
    "FeatureStreamsHandler",
    "FeatureViewDiffHandler",
    "FeatureViewHandler",
    "FeatureViewsHandler",
]


class FeatureViewsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        limit, offset = page(self, default_limit=50)
        views, total = await self.in_workspace(
            list_views,
            query=query_text(self, "q"),
            tag=query_text(self, "tag"),
            owner=query_text(self, "owner"),
            limit=limit,
            offset=offset,
        )
        found = await self.in_workspace(facets)
        self.write_json(
            {"views": views, "total": total, "limit": limit, "offset": offset, "facets": found}
        )


class FeatureStreamsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        self.write_json({"streams": await self.in_workspace(stream_status)})


class FeatureViewHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        version = self.get_query_argument("version", None)
        pinned = query_int(self, "version", 0, minimum=1) if version is not None else None
        self.write_json(await self.in_workspace(view_detail, name, pinned))


class FeatureViewDiffHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        if self.get_query_argument("a", None) is None or self.get_query_argument("b", None) is None:
            raise InvalidInputError("Give the two versions to compare as ?a=1&b=2.")
        a, b = query_int(self, "a", 0, minimum=1), query_int(self, "b", 0, minimum=1)
        self.write_json(await self.in_workspace(diff_versions, name, a, b))


class FeatureConsistencyHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        limit = query_int(self, "limit", 20, minimum=1, maximum=1000)
        await self.in_workspace(get_view, name)  # 404 for an unknown view
        reports = await self.in_workspace(consistency_reports, name, limit=limit)
        self.write_json({"reports": reports})

    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        given, since = self.body.get("since"), None
        if given is not None:
            try:
                since = datetime.fromisoformat(given)
            except ValueError:
                raise RequestBodyError([("since", f"{given!r} is not an ISO time.")]) from None
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
        self.write_json(await self.in_workspace(check_consistency, name, since=since))

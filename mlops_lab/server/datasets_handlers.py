"""REST handlers for datasets' data checks (see openapi.yaml)."""

from __future__ import annotations

import tornado.web

from mlops_lab.datasets import dataset_version_checks
from mlops_lab.server.handlers import BaseHandler
from mlops_lab.server.validation import path_int

__all__ = ["DatasetChecksHandler"]


class DatasetChecksHandler(BaseHandler):
    """A dataset version's data checks: each check's verdict, observed value and sample rows."""

    @tornado.web.authenticated
    async def get(self, name: str, version: str) -> None:
        number = path_int(version, "version")
        self.write_json(await self.in_workspace(dataset_version_checks, name, number))

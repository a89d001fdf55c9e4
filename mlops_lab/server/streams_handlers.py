"""REST handler for pushing events into a window view without a broker (see openapi.yaml)."""

from __future__ import annotations

from typing import Any

import tornado.web

from mlops_lab.server.handlers import BaseHandler

__all__ = ["MAX_PUSH_EVENTS", "FeaturePushHandler"]

MAX_PUSH_EVENTS = 10_000  # per request (and the body is at most 1 MiB)


def _push(workspace: Any, view: str, events: list[dict[str, Any]], id_column: str | None) -> Any:
    return workspace.features.push(view, events, id_column=id_column)


class FeaturePushHandler(BaseHandler):
    """``POST /features/views/{name}/push`` (and ``/features/{name}/push``): the events
    as a stream consumer writes them: online at once, offline as a part, once per id."""

    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        events = self.body["events"]
        result = await self.in_workspace(_push, name, events, self.body.get("id_column"))
        self.write_json(result)

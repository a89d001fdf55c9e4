"""The one route table of the mlops-lab REST API (documented in openapi.yaml)."""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join

from mlops_lab.server.handlers import OpenAPIHandler, StatusHandler

__all__ = ["API_PREFIX", "ROUTES", "setup_handlers"]

API_PREFIX = "/mlops-lab/api"

# Paths relative to API_PREFIX, as written in openapi.yaml.
ROUTES: list[tuple[str, type]] = [
    ("/status", StatusHandler),
    ("/openapi.yaml", OpenAPIHandler),
]


def setup_handlers(server_app: Any) -> None:
    web_app = server_app.web_app
    web_app.settings["mlops_lab_root_dir"] = str(server_app.root_dir)
    base_url = web_app.settings["base_url"]
    handlers = [(url_path_join(base_url, API_PREFIX + path), handler) for path, handler in ROUTES]
    web_app.add_handlers(".*$", handlers)

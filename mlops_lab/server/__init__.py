"""The Jupyter server extension: REST routes over the mlops-lab services."""

from mlops_lab.server.routes import API_PREFIX, ROUTES, setup_handlers

__all__ = ["API_PREFIX", "ROUTES", "setup_handlers"]

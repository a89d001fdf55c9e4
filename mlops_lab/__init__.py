"""mlops-lab: a notebook-centric MLOps workbench inside JupyterLab.

Open the workspace you are in with :func:`open_workspace`; its ``catalog``
and ``artifacts`` are the storage core every feature builds on.
"""

from typing import TYPE_CHECKING, Any

from mlops_lab._lazy import lazy_names

__all__ = [
    "Artifact",
    "ArtifactStore",
    "BlobLocation",
    "Catalog",
    "MlopsLabError",
    "RunContext",
    "Workspace",
    "WorkspaceStatus",
    "__version__",
    "ab_test",
    "check_drift",
    "compare",
    "context",
    "evaluate",
    "find_workspace",
    "init_workspace",
    "load_model",
    "open_workspace",
    "promote",
    "register_model",
    "workspace_status",
]


if TYPE_CHECKING:
    from mlops_lab._version import __version__
    from mlops_lab.artifacts import Artifact, ArtifactStore, BlobLocation
    from mlops_lab.catalog import Catalog
    from mlops_lab.errors import MlopsLabError
    from mlops_lab.evaluation import ab_test, check_drift, compare, evaluate
    from mlops_lab.models.tracking import load_model, promote, register_model
    from mlops_lab.run_context import RunContext, context
    from mlops_lab.status import WorkspaceStatus, workspace_status
    from mlops_lab.workspace import Workspace, find_workspace, init_workspace, open_workspace

# Where each public name lives. Nothing is imported until a name is first used, so
# importing one light submodule (the stage kernel's observer, mlops_lab.pipelines.observe)
# does not load DuckDB, pandas or scikit-learn.
_LAZY = {
    "__version__": "mlops_lab._version",
    "Artifact": "mlops_lab.artifacts",
    "ArtifactStore": "mlops_lab.artifacts",
    "BlobLocation": "mlops_lab.artifacts",
    "Catalog": "mlops_lab.catalog",
    "MlopsLabError": "mlops_lab.errors",
    "ab_test": "mlops_lab.evaluation",
    "check_drift": "mlops_lab.evaluation",
    "compare": "mlops_lab.evaluation",
    "evaluate": "mlops_lab.evaluation",
    "load_model": "mlops_lab.models.tracking",
    "promote": "mlops_lab.models.tracking",
    "register_model": "mlops_lab.models.tracking",
    "RunContext": "mlops_lab.run_context",
    "context": "mlops_lab.run_context",
    "WorkspaceStatus": "mlops_lab.status",
    "workspace_status": "mlops_lab.status",
    "Workspace": "mlops_lab.workspace",
    "find_workspace": "mlops_lab.workspace",
    "init_workspace": "mlops_lab.workspace",
    "open_workspace": "mlops_lab.workspace",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "mlops-lab"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "mlops_lab"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the REST routes with the Jupyter server."""
    from mlops_lab.server import setup_handlers

    setup_handlers(server_app)

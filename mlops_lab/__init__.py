"""mlops-lab: a notebook-centric MLOps workbench inside JupyterLab.

Open the workspace you are in with :func:`open_workspace`; its ``catalog``
and ``artifacts`` are the storage core every feature builds on.
"""

from functools import cached_property
from typing import TYPE_CHECKING, Any

from mlops_lab._version import __version__
from mlops_lab.artifacts import Artifact, ArtifactStore, BlobLocation
from mlops_lab.catalog import Catalog
from mlops_lab.errors import MlopsLabError
from mlops_lab.run_context import RunContext, context
from mlops_lab.status import WorkspaceStatus, workspace_status
from mlops_lab.workspace import Workspace, find_workspace, init_workspace, open_workspace

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
    from mlops_lab.evaluation import ab_test, check_drift, compare, evaluate
    from mlops_lab.features import FeatureStore
    from mlops_lab.models.tracking import load_model, promote, register_model

_LAZY = {
    "ab_test": "mlops_lab.evaluation",
    "check_drift": "mlops_lab.evaluation",
    "compare": "mlops_lab.evaluation",
    "evaluate": "mlops_lab.evaluation",
    "load_model": "mlops_lab.models.tracking",
    "promote": "mlops_lab.models.tracking",
    "register_model": "mlops_lab.models.tracking",
}


def __getattr__(name: str) -> Any:
    """The model and evaluation calls load scikit-learn and scipy: import them on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mlops_lab' has no attribute {name!r}")


def _feature_store(workspace: Workspace) -> "FeatureStore":
    """``workspace.features``: the workspace's feature store (loads pandas: on first use)."""
    from mlops_lab.features import FeatureStore

    return FeatureStore(workspace)


# Attached here, above every layer: the workspace sits below the feature store.
_features = cached_property(_feature_store)
_features.__set_name__(Workspace, "features")
setattr(Workspace, "features", _features)  # noqa: B010 (mypy knows it from Workspace)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "mlops-lab"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "mlops_lab"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the REST routes with the Jupyter server."""
    from mlops_lab.server import setup_handlers

    setup_handlers(server_app)

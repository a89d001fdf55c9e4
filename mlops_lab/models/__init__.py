"""The model store: safe formats, versions, aliases with history, signatures."""

from mlops_lab.models.aliases import alias_history, promote
from mlops_lab.models.registry import (
    LoadedModel,
    ModelVersion,
    get_model_version,
    list_models,
    load_model,
    register_model,
    register_versions,
)

__all__ = [
    "LoadedModel",
    "ModelVersion",
    "alias_history",
    "get_model_version",
    "list_models",
    "load_model",
    "promote",
    "register_model",
    "register_versions",
]

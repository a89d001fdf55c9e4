"""The model store: safe formats, versions, aliases with history, signatures."""

from mlops_lab.models.aliases import alias_history, promote
from mlops_lab.models.lookup import LoadedModel, get_model_version, list_models, load_model
from mlops_lab.models.registry import register_model, register_versions
from mlops_lab.models.version import ModelVersion

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

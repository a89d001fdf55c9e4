"""The model store: safe formats, versions, aliases with history, signatures."""

from mlops_lab.models.registry import (
    LoadedModel,
    ModelVersion,
    alias_history,
    get_model_version,
    list_models,
    load_model,
    promote,
    register_model,
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
]

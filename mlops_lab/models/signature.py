"""Model input signatures: column names and dtype kinds, checked before predicting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops_lab.errors import SignatureMismatchError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "check_frame",
    "infer_signature",
    "output_kind",
    "task_of",
]

_KINDS = {
    "b": "bool",
    "i": "int",
    "u": "int",
    "f": "float",
    "M": "datetime",
    "O": "object",
    "U": "str",
    "S": "bytes",
    "m": "timedelta",
    "c": "complex",
}
_COMPATIBLE = {"int": {"int", "bool"}, "float": {"float", "int", "bool"}, "bool": {"bool"}}


def _kind(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    if str(dtype) in ("string", "str", "category"):
        return "object"
    return _KINDS.get(kind, str(dtype))


def infer_signature(model: Any, sample: pd.DataFrame | None) -> dict[str, Any] | None:
    if sample is None:
        return None
    return {
        "inputs": [
            {"name": str(c), "kind": _kind(t), "dtype": str(t)} for c, t in sample.dtypes.items()
        ],
        "output": output_kind(model),
    }


def output_kind(model: Any) -> dict[str, Any]:
    """``{"kind": "classification", "classes": [...]}`` or ``{"kind": "regression"}``."""
    from sklearn.base import BaseEstimator, is_classifier, is_regressor

    if isinstance(model, BaseEstimator):
        classifier, regressor = is_classifier(model), is_regressor(model)
    else:
        # scikit-learn's checks need its tags, which another model (a trusted pickle)
        # lacks; such a model may still say what it is, the way scikit-learn once read it.
        kind = getattr(model, "_estimator_type", None)
        classifier, regressor = kind == "classifier", kind == "regressor"
    if classifier:
        classes = getattr(model, "classes_", None)
        listed = (
            [c.item() if hasattr(c, "item") else c for c in classes]
            if classes is not None
            else None
        )
        return {"kind": "classification", "classes": listed}
    if regressor:
        return {"kind": "regression"}
    return {"kind": "unknown"}


def task_of(signature: dict[str, Any] | None) -> str | None:
    """The task a stored signature records (older catalogs stored a phrase)."""
    if not signature:
        return None
    output = signature.get("output")
    if isinstance(output, dict):
        kind = output.get("kind")
        return kind if kind in ("classification", "regression") else None
    if output == "classes and probabilities":
        return "classification"
    return "regression" if output == "values" else None


def check_frame(signature: dict[str, Any] | None, frame: pd.DataFrame) -> None:
    """Raise naming every missing or mistyped column."""
    if signature is None:
        return
    problems = []
    for column in signature["inputs"]:
        name, kind = column["name"], column["kind"]
        if name not in frame.columns:
            problems.append(f"missing column {name!r} ({column['dtype']})")
            continue
        actual = _kind(frame[name].dtype)
        if actual != kind and actual not in _COMPATIBLE.get(kind, set()):
            problems.append(f"column {name!r} is {frame[name].dtype}, expected {column['dtype']}")
    if problems:
        raise SignatureMismatchError(problems)

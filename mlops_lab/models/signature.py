"""Model input signatures: column names and dtype kinds, checked before predicting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops_lab.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SignatureMismatchError", "check_frame", "infer_signature"]

_KINDS = {"b": "bool", "i": "int", "u": "int", "f": "float", "M": "datetime", "O": "object",
          "U": "str", "S": "bytes", "m": "timedelta", "c": "complex"}  # fmt: skip
_COMPATIBLE = {"int": {"int", "bool"}, "float": {"float", "int", "bool"}, "bool": {"bool"}}


class SignatureMismatchError(InvalidInputError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("The frame does not match the model's signature: " + "; ".join(problems))
        self.problems = problems


def _kind(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    if str(dtype) in ("string", "str", "category"):
        return "object"
    return _KINDS.get(kind, str(dtype))


def infer_signature(model: Any, sample: pd.DataFrame | None) -> dict[str, Any] | None:
    if sample is None:
        return None
    try:
        from sklearn.base import is_classifier

        output = "classes and probabilities" if is_classifier(model) else "values"
    except ImportError:  # pragma: no cover
        output = "values"
    return {
        "inputs": [{"name": str(c), "kind": _kind(t), "dtype": str(t)}
                   for c, t in sample.dtypes.items()],
        "output": output,
    }  # fmt: skip


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

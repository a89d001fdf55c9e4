"""How models are stored: skops for scikit-learn (safe), pickle only when trusted."""

from __future__ import annotations

import io
import pickle
from typing import Any

from mlops_lab.errors import InvalidInputError, UnsafeModelError

__all__ = ["SAFE_MODULES", "dump_model", "load_model_bytes"]

SKOPS = "sklearn-skops"
PICKLE = "pickle"
# Types skops may rebuild when loading, beyond its own defaults: only these libraries'.
SAFE_MODULES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


def dump_model(model: Any, *, trusted: bool) -> tuple[str, bytes]:
    """(flavor, bytes): skops for scikit-learn estimators; pickle only with ``trusted``."""
    from sklearn.base import BaseEstimator

    if isinstance(model, BaseEstimator):
        import skops.io as sio

        return SKOPS, sio.dumps(model)
    if not trusted:
        raise UnsafeModelError(
            f"No safe format for a {type(model).__module__}.{type(model).__qualname__}: only "
            "scikit-learn estimators and pipelines are stored safely (skops). If you trust "
            "everyone who can load this model, register it with trusted=True (stored with "
            "pickle, which runs code when loaded; recorded as trusted)."
        )
    buffer = io.BytesIO()
    pickle.dump(model, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    return PICKLE, buffer.getvalue()


def load_model_bytes(flavor: str, data: bytes, *, trusted: bool) -> Any:
    if flavor == SKOPS:
        import skops.io as sio

        wanted = sio.get_untrusted_types(data=data)
        unsafe = [t for t in wanted if not t.startswith(SAFE_MODULES)]
        if unsafe:
            raise UnsafeModelError(
                f"The stored model needs types outside scikit-learn, numpy and scipy: "
                f"{', '.join(unsafe)}. It was not loaded."
            )
        return sio.loads(data, trusted=wanted)
    if flavor == PICKLE:
        if not trusted:
            raise UnsafeModelError("This pickled model was not registered as trusted.")
        return pickle.loads(data)
    raise InvalidInputError(f"Unknown model flavor {flavor!r}.")

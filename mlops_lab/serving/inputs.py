"""What one model version needs as inputs, and the raw features a request gives, checked.

:func:`model_inputs` reads, once per version, which features the model takes
from feature views (served by the online store, with their TTLs and window
views) and its signature's columns; :func:`check_given` checks a request's
raw features against that signature before any work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlops_lab.errors import InvalidFieldError, InvalidInputError
from mlops_lab.features.online import EmbeddedOnlineStore, RedisOnlineStore
from mlops_lab.features.serving import OnlineFeatureReader
from mlops_lab.models.lookup import LoadedModel
from mlops_lab.workspace import Workspace

__all__ = ["ModelInputs", "check_given", "inputs_from_plan", "inputs_plan", "model_inputs"]


@dataclass(frozen=True, kw_only=True)
class ModelInputs:
    """How one model version gets its inputs: online features by view, and their TTLs."""

    reader: OnlineFeatureReader | None
    online: dict[str, list[str]]  # view -> features read from the online store
    ttl: dict[str, int | None]  # view -> seconds (plain views)
    windowed: frozenset[str]  # window views: values as of the request time, never stale
    columns: list[str]  # the signature's input columns, in order
    kinds: dict[str, str]  # column -> its signature kind (int, float, bool, object...)
    numeric: bool  # every input is a number (or bool): the numpy fast path applies


def model_inputs(workspace: Workspace, loaded: LoadedModel) -> ModelInputs:
    version = loaded.version
    rows = workspace.catalog.read(
        "SELECT view, feature FROM feature_consumers WHERE consumer_kind = 'model' "
        "AND consumer_id = ? ORDER BY view, feature",
        [f"{version.name}/{version.version}"],
    )
    online: dict[str, list[str]] = {}
    for view, feature in rows:
        online.setdefault(view, []).append(feature)
    reader = None
    ttl: dict[str, int | None] = {}
    windowed: set[str] = set()
    if online:
        reader = OnlineFeatureReader(
            workspace, [f"{v}:{f}" for v, fs in online.items() for f in fs]
        )
        for view in online:
            definition = workspace.features.get_feature_view(view).definition
            ttl[view] = definition.ttl_seconds
            if definition.windowed:
                windowed.add(view)
    return _inputs(reader, online, ttl, windowed, version.signature)


def _inputs(
    reader: OnlineFeatureReader | None,
    online: dict[str, list[str]],
    ttl: dict[str, int | None],
    windowed: set[str],
    signature: dict[str, Any] | None,
) -> ModelInputs:
    columns = (signature or {}).get("inputs", [])
    return ModelInputs(
        reader=reader,
        online=online,
        ttl=ttl,
        windowed=frozenset(windowed),
        columns=[c["name"] for c in columns],
        kinds={c["name"]: c["kind"] for c in columns},
        numeric=bool(columns) and all(c["kind"] in ("int", "float", "bool") for c in columns),
    )


def inputs_plan(inputs: ModelInputs) -> dict[str, Any]:
    """A model version's online inputs as JSON (a bundle's manifest keeps them):
    :func:`inputs_from_plan` serves from them without the catalog."""
    return {
        "features": inputs.online,
        "ttl": inputs.ttl,
        "windowed": sorted(inputs.windowed),
        "reader": inputs.reader.plan() if inputs.reader is not None else [],
    }


def inputs_from_plan(
    plan: dict[str, Any],
    signature: dict[str, Any] | None,
    store: EmbeddedOnlineStore | RedisOnlineStore | None,
) -> ModelInputs:
    """The inputs :func:`inputs_plan` described, read from ``store`` (None: the model
    reads no online feature)."""
    online = {str(v): [str(f) for f in fs] for v, fs in plan["features"].items()}
    reader = None
    if online:
        if store is None:
            raise InvalidInputError(
                f"This model reads online features ({', '.join(online)}): give an online store."
            )
        reader = OnlineFeatureReader.from_plan(plan["reader"], store)
    ttl = {str(v): None if t is None else int(t) for v, t in plan["ttl"].items()}
    return _inputs(reader, online, ttl, {str(v) for v in plan["windowed"]}, signature)


def check_given(inputs: ModelInputs, features: dict[str, Any]) -> dict[str, Any]:
    """Raw features against the signature, named, before any work: numbers for numeric
    columns (a boolean is not one), finite; an integral number for an integer column (JSON's
    400.0 is 400); booleans (or 0/1) for boolean columns. Returns them ready for the model."""
    checked = features
    for name, value in features.items():
        kind = inputs.kinds.get(name)
        if value is None or kind is None:
            continue
        if kind in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidFieldError(
                    f"features.{name}", f"expected a number ({kind}), got {type(value).__name__}."
                )
            try:
                finite = math.isfinite(value)
            except OverflowError:
                finite = False
            if not finite:
                raise InvalidFieldError(
                    f"features.{name}", f"expected a finite number ({kind}), got {value!r}."
                )
            if kind == "int" and isinstance(value, float):
                if not value.is_integer() or abs(value) >= 2**63:
                    raise InvalidFieldError(
                        f"features.{name}", f"expected an integer (64-bit), got {value!r}."
                    )
                if checked is features:
                    checked = dict(features)  # the caller's dict is left as it was
                checked[name] = int(value)
        elif kind == "bool" and not (
            isinstance(value, bool) or (isinstance(value, int) and value in (0, 1))
        ):
            raise InvalidFieldError(
                f"features.{name}", f"expected a boolean (or 0/1), got {value!r}."
            )
    return checked

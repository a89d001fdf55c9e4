"""What the model server accepts, checked at the edge before any work starts.

The bodies are declared in the model server's ``openapi.yaml`` (beside this
module, read once by :func:`body_schemas`). ``/rollout`` and ``/rollback`` are
checked against it as they are; a ``/predict`` body is checked here by hand,
on the hot path (a JSON Schema validator costs ~0.2 ms per instance), with
the field names read from the spec.

A request body is refused, naming the field where there is one, before a
model sees it or anything is logged:

- **413** the body is larger than ``max_body_bytes`` (checked on the
  ``Content-Length`` header, before the body is read), or ``instances``
  holds more than ``max_instances`` items;
- **400** the body is not strict JSON: a syntax error, or objects and lists
  nested deeper than ``max_depth``;
- **422** a field is wrong: ``NaN``, ``Infinity`` or a number beyond the
  float range (JSON has no such numbers; Python's parser accepts them), an
  integer beyond 64 bits where a key is expected, a string longer than
  ``max_string``, an unknown field, an entity key that is not a string or
  an integer, a feature that is not a scalar (booleans are not numbers:
  :class:`~mlops_lab.serving.predictor.Predictor` refuses ``true`` for a
  numeric feature).
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

from mlops_lab.errors import (
    InvalidFieldError,
    InvalidInputError,
    MalformedBodyError,
    PayloadTooLargeError,
)
from mlops_lab.request_bodies import BodySchemas, field_name, kind_of

__all__ = [
    "ServingLimits",
    "body_schemas",
    "check_entity",
    "check_features",
    "field_name",
    "parse_body",
    "predict_items",
]

_FLOAT_MAX = sys.float_info.max
_KEY_INT = 2**63  # entity keys are stored as 64-bit integers at most


@dataclass(frozen=True, kw_only=True)
class ServingLimits:
    """The model server's input limits (``mlops-lab serve`` options override the first two)."""

    max_body_bytes: int = 4 * 1024 * 1024
    max_instances: int = 1000
    max_depth: int = 32
    max_string: int = 4096

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_instances", "max_depth", "max_string"):
            if getattr(self, name) < 1:
                raise InvalidInputError(f"{name} must be at least 1, got {getattr(self, name)}.")


@cache
def body_schemas() -> BodySchemas:
    """The model server's request bodies (``mlops_lab/serving/openapi.yaml``), read once."""
    text = files("mlops_lab.serving").joinpath("openapi.yaml").read_text(encoding="utf-8")
    return BodySchemas(yaml.safe_load(text))


@cache
def _predict_fields() -> tuple[frozenset[str], frozenset[str]]:
    """The fields of a ``/predict`` body and of one of its instances, as the spec says."""
    schema = body_schemas().schema("post", "/predict")
    assert schema is not None, "the model server's openapi.yaml declares POST /predict"
    instance = schema["properties"]["instances"]["items"]["properties"]
    return frozenset(schema["properties"]), frozenset(instance)


def _walk(value: Any, path: tuple[str | int, ...], depth: int, limits: ServingLimits) -> None:
    """Depth, string lengths and finite numbers, everywhere in the body."""
    if isinstance(value, dict | list):
        if depth >= limits.max_depth:
            raise MalformedBodyError(
                f"The body is nested deeper than {limits.max_depth} levels (at "
                f"{field_name(path)}); a prediction request needs 4."
            )
        if isinstance(value, dict):
            for key, item in value.items():
                if len(key) > limits.max_string:
                    raise InvalidFieldError(
                        field_name(path),
                        f"a field name is {len(key)} characters long; the limit is "
                        f"{limits.max_string}.",
                    )
                _walk(item, (*path, key), depth + 1, limits)
        else:
            for index, item in enumerate(value):
                _walk(item, (*path, index), depth + 1, limits)
    elif isinstance(value, str):
        if len(value) > limits.max_string:
            raise InvalidFieldError(
                field_name(path),
                f"the string is {len(value)} characters long; the limit is {limits.max_string}.",
            )
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidFieldError(
                field_name(path),
                f"{value!r} is not a JSON number: NaN, Infinity and numbers beyond "
                "±1.8e308 are refused; send a finite number (or leave the field out).",
            )
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > _FLOAT_MAX:
        raise InvalidFieldError(field_name(path), "the integer is beyond ±1.8e308 (floats).")


def parse_body(raw: bytes, limits: ServingLimits, *, empty: Any = None) -> dict[str, Any]:
    """Strict JSON object from ``raw``: size, syntax, depth, strings and numbers checked."""
    if len(raw) > limits.max_body_bytes:
        raise PayloadTooLargeError(
            len(raw),
            limits.max_body_bytes,
            message=f"The body is {len(raw)} bytes; this server takes at most "
            f"{limits.max_body_bytes} (`mlops-lab serve --max-body-bytes`).",
        )
    if not raw.strip():
        return {} if empty is None else empty
    try:
        data = json.loads(raw)
    except RecursionError:
        raise MalformedBodyError(
            f"The body is nested too deeply; at most {limits.max_depth} levels are accepted."
        ) from None
    except ValueError as exc:  # includes UnicodeDecodeError
        raise MalformedBodyError(f"The body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise MalformedBodyError(f"The body must be a JSON object, got {kind_of(data)}.")
    _walk(data, (), 0, limits)
    return data


def check_entity(value: Any, path: tuple[str | int, ...] = ("entity",)) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidFieldError(
            field_name(path),
            'must be an object of join keys, e.g. {"customer_id": "c00001"}.',
        )
    for key, item in value.items():
        ok = isinstance(item, str) or (
            isinstance(item, int) and not isinstance(item, bool) and -_KEY_INT <= item < _KEY_INT
        )
        if not ok:
            raise InvalidFieldError(
                field_name((*path, key)),
                f"a join key is a string or a 64-bit integer, got {kind_of(item)}.",
            )
    return value


def check_features(
    value: Any, path: tuple[str | int, ...] = ("features",)
) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidFieldError(field_name(path), "must be an object of feature name -> value.")
    for key, item in value.items():
        if isinstance(item, dict | list):
            raise InvalidFieldError(
                field_name((*path, key)),
                f"a feature is a number, string or boolean, got {kind_of(item)}.",
            )
    return value


def _item(item: Any, path: tuple[str | int, ...]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    if not isinstance(item, dict):
        raise InvalidFieldError(
            field_name(path), "each instance is an object with 'entity' and/or 'features'."
        )
    fields = _predict_fields()[1]
    unknown = sorted(set(item) - fields)
    if unknown:
        raise InvalidFieldError(
            field_name((*path, unknown[0])),
            f"unknown field(s) {', '.join(unknown)}; expected {' and/or '.join(sorted(fields))}.",
        )
    if item.get("entity") is None and item.get("features") is None:
        raise InvalidFieldError(field_name(path), "give 'entity' (join keys) and/or 'features'.")
    return check_entity(item.get("entity"), (*path, "entity")), check_features(
        item.get("features"), (*path, "features")
    )


def predict_items(
    data: dict[str, Any], limits: ServingLimits
) -> tuple[list[tuple[dict[str, Any], dict[str, Any] | None]], bool]:
    """A ``/predict`` body as checked (entity, features) pairs, and whether it is a batch."""
    unknown = sorted(set(data) - _predict_fields()[0])
    if unknown:
        raise InvalidFieldError(
            unknown[0] if len(unknown[0]) <= 60 else unknown[0][:57] + "...",
            f"unknown field(s) {', '.join(u[:60] for u in unknown[:5])}; expected entity "
            "and features, or instances.",
        )
    if "instances" not in data:
        return [_item(data, ())], False
    if set(data) != {"instances"}:
        raise InvalidFieldError("instances", "give 'instances' or entity/features, not both.")
    instances = data["instances"]
    if not isinstance(instances, list) or not instances:
        raise InvalidFieldError("instances", "must be a non-empty list.")
    if len(instances) > limits.max_instances:
        raise PayloadTooLargeError(
            len(instances),
            limits.max_instances,
            message=f"instances: {len(instances)} given; this server predicts at most "
            f"{limits.max_instances} per request (`mlops-lab serve --max-instances`). Split the "
            "batch.",
        )
    return [_item(item, ("instances", i)) for i, item in enumerate(instances)], True

"""Request bodies checked against an OpenAPI 3.0 spec: the spec is the one declaration.

Both HTTP servers of mlops-lab describe their JSON request bodies once, in
their ``openapi.yaml`` (``mlops_lab/server/`` for the Jupyter server's REST
API, ``mlops_lab/serving/`` for a model server). :class:`BodySchemas` reads
such a spec once and checks a parsed body against the ``requestBody`` schema
of one operation (``POST /runs``) with ``openapi-schema-validator``
(JSON Schema as OpenAPI 3.0 reads it: ``nullable``, no boolean as a number).
Every wrong field is reported at once, as a
:class:`~mlops_lab.errors.RequestBodyError` (422) naming each one
(``split``, ``instances[2].features.tenure_days``) with the reason::

    schemas = BodySchemas(yaml.safe_load(spec_text))
    data = schemas.check("post", "/runs", {"pipeline": 1})  # raises RequestBodyError

Reading the bytes (size, strict JSON, nesting) stays with each server, which
knows its own limits; what fields a body has, of which types and ranges, is
only here, read from the spec.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend
from openapi_schema_validator import OAS30Validator

from mlops_lab.errors import RequestBodyError

__all__ = ["BODY_METHODS", "BodySchemas", "field_name", "kind_of"]

#: The HTTP methods whose operations take a request body.
BODY_METHODS = ("post", "put", "patch")

_TYPES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
}


def field_name(path: Iterable[str | int]) -> str:
    """``("instances", 2, "features", "x")`` -> ``instances[2].features.x``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            shown = part if len(part) <= 60 else part[:57] + "..."
            out += f".{shown}" if out else shown
    return out or "(body)"


def kind_of(value: Any) -> str:
    """What a JSON value is, in words: ``"a string"``, ``"a boolean"``, ``"null"``..."""
    if value is None:
        return "null"
    kinds = {
        bool: "a boolean",
        dict: "an object",
        list: "a list",
        str: "a string",
        int: "an integer",
        float: "a number",
    }
    return kinds.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """``pattern`` as ECMA-262 reads it: ``$`` is the end of the string (Python's ``$`` also
    matches before a final newline, which would let "name\\n" through "^[^\\x00-\\x1f]*$")."""
    if not isinstance(instance, str):
        return
    compiled = (
        pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern
    )
    if not re.search(compiled, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = extend(OAS30Validator, {"pattern": _pattern})


def _inline(node: Any, spec: dict[str, Any], depth: int = 0) -> Any:
    """``node`` with every local ``$ref`` replaced by what it points at (bodies do not
    recurse; a cycle would be a mistake in the spec, refused past 32 levels)."""
    if depth > 32:
        raise ValueError("The spec's $refs nest more than 32 levels (a cycle?).")
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _inline(target, spec, depth + 1)
        return {key: _inline(value, spec, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, spec, depth + 1) for item in node]
    return node


def _range(schema: dict[str, Any]) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}"


def _reasons(error: ValidationError) -> Iterator[tuple[str, str]]:
    """(field, reason) for one failed keyword, in words a caller can act on."""
    path = list(error.absolute_path)
    here = field_name(path)
    value, rule, schema = error.instance, error.validator_value, error.schema
    if error.validator == "additionalProperties" and isinstance(value, dict):
        known = sorted(schema.get("properties", {}))
        expected = f"expected {', '.join(known)}" if known else "this body takes no fields"
        for name in sorted(set(value) - set(known)):
            yield field_name([*path, str(name)]), f"unknown field; {expected}."
    elif error.validator == "required" and isinstance(value, dict):
        for name in rule:
            if name not in value:
                yield field_name([*path, name]), "is required."
    elif error.validator == "type":
        wanted = " or ".join(_TYPES.get(t, t) for t in ([rule] if isinstance(rule, str) else rule))
        yield here, f"must be {wanted}, got {kind_of(value)}."
    elif error.validator in ("minimum", "maximum"):
        yield here, f"must be {_range(schema)}, got {_shown(value)}."
    elif error.validator == "maxLength":
        yield here, f"is {len(value)} characters long; at most {rule} are allowed."
    elif error.validator == "minLength":
        yield here, "must not be empty." if rule == 1 else f"needs at least {rule} characters."
    elif error.validator == "pattern":
        what = schema.get("description") or f"it must match {rule}"
        yield here, f"{_shown(value)} is not valid: {what}"
    elif error.validator == "enum":
        yield here, f"must be one of {', '.join(map(str, rule))}, got {_shown(value)}."
    elif error.validator == "minItems":
        yield here, f"needs at least {rule} item(s)."
    else:
        yield here, error.message[:300]


class BodySchemas:
    """The ``requestBody`` schemas of one OpenAPI 3.0 spec, one validator per operation."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self._validators: dict[tuple[str, str], Any] = {}
        self._required: dict[tuple[str, str], bool] = {}
        self._schemas: dict[tuple[str, str], dict[str, Any]] = {}
        for path, operations in spec.get("paths", {}).items():
            for method, operation in operations.items():
                body = _inline(operation.get("requestBody"), spec)
                if not isinstance(body, dict):
                    continue
                schema = body["content"]["application/json"]["schema"]
                OAS30Validator.check_schema(schema)
                key = (method.lower(), path)
                self._schemas[key] = schema
                self._validators[key] = _Validator(schema)
                self._required[key] = bool(body.get("required", False))

    def operations(self) -> list[tuple[str, str]]:
        """``(method, path)`` of every operation that declares a body."""
        return sorted(self._validators)

    def schema(self, method: str, path: str) -> dict[str, Any] | None:
        """The body's schema ($refs inlined), None when the operation declares no body."""
        return self._schemas.get((method.lower(), path))

    def required(self, method: str, path: str) -> bool:
        return self._required.get((method.lower(), path), False)

    def errors(self, method: str, path: str, body: Any) -> list[tuple[str, str]]:
        """Every wrong field of ``body`` as (field, reason), sorted by field; [] if right."""
        validator = self._validators.get((method.lower(), path))
        if validator is None:
            return []
        found: dict[str, str] = {}
        for error in validator.iter_errors(body):
            for field, reason in _reasons(error):
                found.setdefault(field, reason)
        return sorted(found.items())

    def check(self, method: str, path: str, body: Any) -> Any:
        """``body`` if it matches the operation's schema, else a 422 naming each wrong field."""
        wrong = self.errors(method, path, body)
        if wrong:
            raise RequestBodyError(wrong)
        return body

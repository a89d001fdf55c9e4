"""Input limits at the edge of the REST API, checked in one place before any work starts.

Every handler reads its input through this module, so the limits below are
the same on every route and match ``openapi.yaml``:

* the body: at most :data:`MAX_BODY_BYTES` (413), a JSON object, nested at
  most :data:`MAX_DEPTH` deep, without ``NaN``/``Infinity`` (400); its
  fields are then checked against the operation's schema in openapi.yaml
  (422 naming each wrong field, see :mod:`mlops_lab.request_bodies`);
* path segments and query values: at most :data:`MAX_NAME_LENGTH`
  characters, no control characters (400 naming the parameter), checked by
  :meth:`BaseHandler.prepare <mlops_lab.server.handlers.BaseHandler.prepare>`;
* integers: ``true``/``false`` are not integers; ``limit`` is 1 to
  :data:`MAX_LIMIT`, ``offset`` 0 to :data:`MAX_OFFSET`;
* notebook paths (in bodies): relative, no control characters, at most
  1024 characters (their schema), each folder or file name at most 255
  bytes (:func:`check_path_parts`).

A mistake answers 400 (422 for a body's field) with a message naming the
field and the rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, Protocol

from mlops_lab.errors import InvalidInputError, PayloadTooLargeError, RequestBodyError

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_DEPTH",
    "MAX_INTEGER",
    "MAX_LIMIT",
    "MAX_NAME_LENGTH",
    "MAX_OFFSET",
    "check_body_size",
    "check_path_parts",
    "check_value",
    "page",
    "path_int",
    "query_int",
    "query_text",
    "read_body",
]

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_NAME_LENGTH = 256
MAX_LIMIT = 1000
MAX_OFFSET = 2**31 - 1
MAX_INTEGER = 2**31 - 1
_MAX_PATH_PART_BYTES = 255

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _Handler(Protocol):
    request: Any

    def get_query_argument(self, name: str, default: Any = ...) -> Any: ...


def _shown(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def check_value(value: str, what: str, *, max_length: int = MAX_NAME_LENGTH) -> str:
    """``value`` unless it is longer than ``max_length`` or holds a control character."""
    if len(value) > max_length:
        raise InvalidInputError(
            f"{what} is {len(value)} characters long; at most {max_length} are allowed."
        )
    if _CONTROL.search(value):
        raise InvalidInputError(f"{what} {_shown(value)} holds a control character.")
    return value


def check_body_size(size: int) -> None:
    if size > MAX_BODY_BYTES:
        raise PayloadTooLargeError(size, MAX_BODY_BYTES)


def query_text(handler: _Handler, name: str, *, choices: Iterable[str] | None = None) -> str | None:
    """A string query argument (length and characters checked), or None if absent."""
    raw = handler.get_query_argument(name, None)
    if raw is None:
        return None
    value = check_value(raw, f"Query parameter {name!r}")
    if choices is not None and value not in choices:
        raise InvalidInputError(
            f"Query parameter {name!r} is one of {', '.join(choices)}; got {_shown(value)}."
        )
    return value


def query_int(
    handler: _Handler, name: str, default: int, *, minimum: int = 0, maximum: int = MAX_INTEGER
) -> int:
    """An integer query argument within ``[minimum, maximum]``, or a 400 naming it."""
    raw = handler.get_query_argument(name, None)
    if raw is None:
        return default
    return _in_range(
        _parse_int(raw, f"Query parameter {name!r}"), f"Query parameter {name!r}", minimum, maximum
    )


def path_int(value: str, name: str, *, minimum: int = 1, maximum: int = MAX_INTEGER) -> int:
    """An integer path segment (a version), or a 400 naming it."""
    return _in_range(_parse_int(value, f"The {name}"), f"The {name}", minimum, maximum)


def page(handler: _Handler, *, default_limit: int) -> tuple[int, int]:
    """``(limit, offset)`` of a paginated listing."""
    limit = query_int(handler, "limit", default_limit, minimum=1, maximum=MAX_LIMIT)
    offset = query_int(handler, "offset", 0, minimum=0, maximum=MAX_OFFSET)
    return limit, offset


def _parse_int(raw: str, what: str) -> int:
    if not re.fullmatch(r"[+-]?\d{1,20}", raw.strip()):
        raise InvalidInputError(f"{what} must be an integer, got {_shown(raw)}.")
    return int(raw)


def _in_range(value: int, what: str, minimum: int, maximum: int) -> int:
    if not minimum <= value <= maximum:
        raise InvalidInputError(f"{what} must be between {minimum} and {maximum}, got {value}.")
    return value


def _reject_constant(name: str) -> Any:
    raise InvalidInputError(f"The request body holds {name}, which is not a JSON number.")


def _depth(value: Any) -> int:
    """How deeply ``value`` nests arrays and objects (iterative: no recursion limit)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def _parse(raw: bytes) -> Any:
    check_body_size(len(raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError("The request body is not UTF-8 text.") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidInputError(
            f"The request body is nested too deeply; at most {MAX_DEPTH} levels are allowed."
        ) from None
    except ValueError as exc:
        raise InvalidInputError(f"The request body is not valid JSON: {exc}.") from None
    if _depth(value) > MAX_DEPTH:
        raise InvalidInputError(
            f"The request body is nested too deeply; at most {MAX_DEPTH} levels are allowed."
        )
    return value


def read_body(raw: bytes, *, required: bool) -> dict[str, Any]:
    """The request's JSON object (its fields are checked against openapi.yaml afterwards):
    an empty body is ``{}`` unless ``required``; anything but a JSON object is a 400."""
    if not raw.strip():
        if required:
            raise InvalidInputError("The request body is required: a JSON object.")
        return {}
    value = _parse(raw)
    if not isinstance(value, dict):
        raise InvalidInputError("The request body must be a JSON object.")
    return value


def check_path_parts(value: str, field: str) -> str:
    """A relative path whose every folder or file name is at most 255 bytes (UTF-8): the
    one rule of a notebook path that its schema's pattern cannot say."""
    for part in re.split(r"[/\\]", value):
        if len(part.encode("utf-8")) > _MAX_PATH_PART_BYTES:
            raise RequestBodyError(
                [(field, f"has a folder or file name longer than {_MAX_PATH_PART_BYTES} bytes.")]
            )
    return value

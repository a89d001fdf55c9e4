"""Input limits at the edge of the REST API, checked in one place before any work starts.

Every handler reads its input through this module, so the limits below are
the same on every route and match ``openapi.yaml``:

* the body: at most :data:`MAX_BODY_BYTES` (413), a JSON object, nested at
  most :data:`MAX_DEPTH` deep, without ``NaN``/``Infinity`` (400);
* path segments and query values: at most :data:`MAX_NAME_LENGTH`
  characters, no control characters (400 naming the parameter), checked by
  :meth:`BaseHandler.prepare <mlops_lab.server.handlers.BaseHandler.prepare>`;
* integers: ``true``/``false`` are not integers; ``limit`` is 1 to
  :data:`MAX_LIMIT`, ``offset`` 0 to :data:`MAX_OFFSET`;
* notebook paths: at most :data:`MAX_PATH_LENGTH` characters, relative,
  no control characters, each folder or file name at most 255 bytes.

A mistake answers 400 with a message naming the field and the rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable
from typing import Any, Protocol

from mlops_lab.errors import InvalidInputError, PayloadTooLargeError

__all__ = [
    "KERNEL_NAME",
    "KERNEL_RULE",
    "MAX_BODY_BYTES",
    "MAX_DEPTH",
    "MAX_INTEGER",
    "MAX_LIMIT",
    "MAX_NAME_LENGTH",
    "MAX_OFFSET",
    "MAX_PATH_LENGTH",
    "MAX_TEXT_LENGTH",
    "Body",
    "check_body_size",
    "check_value",
    "page",
    "path_int",
    "query_int",
    "query_text",
]

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_NAME_LENGTH = 256
MAX_PATH_LENGTH = 1024
MAX_TEXT_LENGTH = 4096
MAX_LIMIT = 1000
MAX_OFFSET = 2**31 - 1
MAX_INTEGER = 2**31 - 1
#: A kernelspec name (`jupyter kernelspec list`): what jupyter_client accepts as a folder name.
KERNEL_NAME = re.compile(r"[A-Za-z0-9._-]{1,128}")
KERNEL_RULE = "a kernelspec name: letters, digits, '.', '_' and '-', at most 128 characters"
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
    return _in_range(_parse_int(raw, f"Query parameter {name!r}"), f"Query parameter {name!r}",
                     minimum, maximum)  # fmt: skip


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


class Body:
    """The request's JSON object, read field by field; each mistake is a 400 naming the field.

    ``fields`` are the names allowed (others are refused); ``required``: an
    empty body is refused instead of read as ``{}``.
    """

    def __init__(
        self, handler: _Handler, *, fields: Collection[str], required: bool = True
    ) -> None:
        raw = handler.request.body or b""
        if not raw.strip():
            if required:
                raise InvalidInputError(
                    "The request body is required: a JSON object with "
                    f"{', '.join(sorted(fields)) or 'no fields'}."
                )
            raw = b"{}"
        value = _parse(raw)
        if not isinstance(value, dict):
            raise InvalidInputError("The request body must be a JSON object.")
        unknown = sorted(set(value) - set(fields))
        if unknown:
            listed = ", ".join(_shown(str(n)) if len(str(n)) > 60 else str(n) for n in unknown[:5])
            raise InvalidInputError(
                f"Unknown field(s) {listed}; expected {', '.join(sorted(fields))}."
            )
        self.data: dict[str, Any] = value

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def _missing(self, name: str, required: bool, what: str) -> None:
        if required:
            raise InvalidInputError(f"{name!r} ({what}) is required.")

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        max_length: int = MAX_NAME_LENGTH,
        pattern: re.Pattern[str] | None = None,
        rule: str = "",
    ) -> str | None:
        """A string field; ``pattern`` (with ``rule`` saying it in words) if given."""
        value = self.data.get(name)
        if value is None:
            self._missing(name, required, "a string")
            return None
        if not isinstance(value, str):
            raise InvalidInputError(f"{name!r} must be a string.")
        check_value(value, repr(name), max_length=max_length)
        if required and not value:
            raise InvalidInputError(f"{name!r} must not be empty.")
        if pattern is not None and not pattern.fullmatch(value):
            raise InvalidInputError(f"{name!r} {_shown(value)} is not valid: {rule}.")
        return value

    def path(self, name: str, *, required: bool = False) -> str | None:
        """A relative file path (a notebook)."""
        value = self.text(name, required=required, max_length=MAX_PATH_LENGTH)
        if value is None:
            return None
        if value.startswith(("/", "\\")):
            raise InvalidInputError(f"{name!r} {_shown(value)} must be a relative path.")
        for part in re.split(r"[/\\]", value):
            if len(part.encode("utf-8")) > _MAX_PATH_PART_BYTES:
                raise InvalidInputError(
                    f"{name!r} has a folder or file name longer than {_MAX_PATH_PART_BYTES} bytes."
                )
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        minimum: int = 0,
        maximum: int = MAX_INTEGER,
    ) -> int | None:
        value = self.data.get(name)
        if value is None:
            self._missing(name, required, "an integer")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInputError(f"{name!r} must be an integer, got {json.dumps(value)[:40]}.")
        return _in_range(value, repr(name), minimum, maximum)

    def number(
        self, name: str, *, required: bool = False, minimum: float, maximum: float
    ) -> float | None:
        value = self.data.get(name)
        if value is None:
            self._missing(name, required, "a number")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInputError(f"{name!r} must be a number, got {json.dumps(value)[:40]}.")
        if not minimum <= value <= maximum:  # 1e400 reads as inf: out of range too
            raise InvalidInputError(
                f"{name!r} must be a number between {minimum:g} and {maximum:g}, got {value}."
            )
        return float(value)

    def boolean(self, name: str, *, default: bool = False) -> bool:
        value = self.data.get(name, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise InvalidInputError(f"{name!r} must be true or false.")
        return value

    def mapping(self, name: str) -> dict[str, Any] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise InvalidInputError(f"{name!r} must be an object of name -> value.")
        return value

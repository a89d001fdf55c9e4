"""Shared CLI plumbing: the ``--json`` flag, error rendering, number formatting."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from mlops_lab.errors import MlopsLabError

F = TypeVar("F", bound=Callable[..., Any])

_JSON_KEY = "mlops_lab.json"
_ARGS_KEY = "mlops_lab.args"


def _remember(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.meta[_JSON_KEY] = value
    return value


def _json_flag(*, expose: bool, help_text: str) -> Callable[[F], F]:
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        callback=_remember,
        expose_value=expose,
        is_eager=True,
        help=help_text,
    )


json_option = _json_flag(expose=True, help_text="Print machine-readable JSON instead of text.")
"""Add ``--json`` (passed as ``as_json``); the group's error handler answers errors in JSON too."""

json_errors_option = _json_flag(
    expose=False,
    help_text="Print errors as machine-readable JSON (the output itself is not JSON).",
)
"""``--json`` for a command whose output is not JSON (bytes, a server): errors only."""


def seconds_option(_ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """An option's callback reading a duration (``60``, ``"60s"``, ``"500ms"``, ``"5m"``)."""
    from mlops_lab.project import parse_duration_seconds

    if value is None:
        return None
    try:
        return parse_duration_seconds(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


def emit_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, default=str))


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            click.echo("  ".join("-" * w for w in widths))


class ErrorHandlingGroup(click.Group):
    """Turn :class:`MlopsLabError` into a clear message and exit code 1, in one place.

    Under ``--json`` (every command takes it), every error is one JSON object
    ``{"error": {"type", "status", "message"}}`` on standard output, a usage error
    (a missing argument, an unknown option) included, which keeps its exit code 2.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGS_KEY] = list(args)  # to see --json when parsing fails before it is read
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MlopsLabError as exc:
            _report(ctx, exc.to_dict())
        except OSError as exc:
            # The machine, not mlops-lab: a full disk, a read-only or vanished folder.
            detail = exc.strerror or str(exc)
            where = f" ({exc.filename})" if exc.filename else ""
            message = f"{detail}{where}. Nothing more was done."
            _report(ctx, {"type": type(exc).__name__, "status": 500, "message": message})
        except click.ClickException as exc:
            given = ctx.meta.get(_ARGS_KEY, [])
            if "--json" in given[: given.index("--") if "--" in given else None]:
                ctx.meta[_JSON_KEY] = True  # e.g. an unknown option stopped parsing first
            if not _wants_json(ctx):
                raise  # click prints it with the usage line
            error = {"type": type(exc).__name__, "status": 400, "message": exc.format_message()}
            _report(ctx, error, exit_code=exc.exit_code)


def _report(ctx: click.Context, error: dict[str, Any], *, exit_code: int = 1) -> None:
    if _wants_json(ctx):
        emit_json({"error": error})
    else:
        click.echo(f"Error: {error['message']}", err=True)
    sys.exit(exit_code)


def _wants_json(ctx: click.Context) -> bool:
    # ``meta`` is shared by the whole context chain, so a subcommand's flag is visible here.
    return bool(ctx.meta.get(_JSON_KEY))

"""``mlops-lab datasets``: check a dataset version against the checks mlops_lab.yaml declares."""

from __future__ import annotations

import json
from typing import Any

import click

from mlops_lab.cli._context import current_workspace
from mlops_lab.cli._output import emit_json, json_option, print_table
from mlops_lab.errors import InvalidInputError


@click.group()
def datasets() -> None:
    """Datasets: their versions' data checks."""


def _reference(text: str) -> tuple[str, int | None]:
    """``NAME`` or ``NAME@VERSION``."""
    name, _, version = text.partition("@")
    if not version:
        return name, None
    if not version.isdigit() or int(version) < 1:
        raise InvalidInputError(f"{text!r}: the version after '@' must be a number >= 1.")
    return name, int(version)


def _cell(value: Any, width: int = 40) -> str:
    text = "-" if value is None else value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= width else text[: width - 1] + "…"


@datasets.command()
@click.argument("dataset", metavar="NAME[@VERSION]")
@json_option
@click.pass_context
def check(ctx: click.Context, dataset: str, as_json: bool) -> None:
    """Evaluate a version's declared checks again (default: the latest version), store the
    result and print each check; exit 1 when one fails."""
    from mlops_lab.datasets import check_dataset

    name, version = _reference(dataset)
    result = check_dataset(current_workspace(ctx), name, version)
    if as_json:
        emit_json(result)
    else:
        _print(result)
    if result["failed"]:
        ctx.exit(1)


def _print(result: dict[str, Any]) -> None:
    click.echo(
        f"{result['dataset']}@{result['version']}: {result['passed']} passed, "
        f"{result['failed']} failed"
    )
    print_table(
        ["check", "result", "observed", "failing rows", "message"],
        [
            [
                c["name"],
                "pass" if c["passed"] else "FAIL",
                _cell(c["observed"]),
                "-" if c["failing_rows"] is None else c["failing_rows"],
                c["message"],
            ]
            for c in result["checks"]
        ],
    )
    for c in result["checks"]:
        if c["sample"]:
            click.echo(f"{c['name']}: sample of {c['failing_rows']} failing rows")
            for row in c["sample"]:
                click.echo(f"  row {row['row']}: {json.dumps(row['values'], default=str)}")

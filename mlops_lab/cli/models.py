"""``mlops-lab models``: list, show and promote model versions."""

from __future__ import annotations

import click

from mlops_lab.cli._context import current_workspace
from mlops_lab.cli._output import emit_json, json_option, print_table


@click.group()
def models() -> None:
    """Registered models, their versions and aliases."""


@models.command("list")
@json_option
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List models with their latest version and aliases."""
    from mlops_lab.models import list_models

    found = list_models(current_workspace(ctx))
    if as_json:
        emit_json({"models": found})
        return
    if not found:
        click.echo("No models.")
        return
    print_table(
        ["model", "latest", "versions", "aliases"],
        [
            [m["name"], m["latest"], m["versions"], ", ".join(m["aliases"] or []) or "-"]
            for m in found
        ],
    )


@models.command()
@click.argument("ref", metavar="NAME[/VERSION|@ALIAS]")
@json_option
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show a model version: format, signature, lineage and alias history."""
    from mlops_lab.models import alias_history, get_model_version

    workspace = current_workspace(ctx)
    version = get_model_version(workspace, ref)
    history = alias_history(workspace, version.name)
    if as_json:
        emit_json({**version.to_dict(), "alias_history": history})
        return
    aliases = ", ".join(version.aliases) or "-"
    click.echo(
        f"{version.name}/{version.version}  {version.flavor}"
        f"{' (trusted)' if version.trusted else ''}  aliases: {aliases}"
    )
    if version.signature:
        inputs = ", ".join(f"{c['name']}:{c['dtype']}" for c in version.signature["inputs"])
        output = version.signature["output"]
        click.echo(
            f"inputs: {inputs} -> {output.get('kind') if isinstance(output, dict) else output}"
        )
    click.echo(
        f"run {version.run_id or '-'}, stage {version.stage or '-'}, training data "
        f"{version.training_dataset or '-'}"
    )
    click.echo(
        f"notebook {version.notebook or '-'} ({(version.notebook_hash or '-')[:12]}), "
        f"feature views {', '.join(version.feature_views) or '-'}"
    )
    if version.parameters:
        click.echo("parameters: " + ", ".join(f"{k}={v}" for k, v in version.parameters.items()))
    for entry in history:
        moved = f"{entry['from_version'] or '-'} -> {entry['to_version']}"
        click.echo(
            f"{entry['changed_at']}  {entry['alias']}: {moved} by {entry['changed_by']}: "
            f"{entry['reason']}"
        )


@models.command()
@click.argument("name")
@click.argument("version", type=int)
@click.option("--alias", required=True, help="Alias to point at VERSION (e.g. champion).")
@click.option("--reason", required=True, help="Why; kept in the alias history.")
@json_option
@click.pass_context
def promote(
    ctx: click.Context, name: str, version: int, alias: str, reason: str, as_json: bool
) -> None:
    """Point an alias of model NAME at VERSION, recording who, when and why."""
    from mlops_lab.models import promote as move

    change = move(current_workspace(ctx), name, version, alias=alias, reason=reason)
    if as_json:
        emit_json(change)
    else:
        click.echo(f"{name}@{alias}: {change['from'] or '-'} -> {change['to']}")

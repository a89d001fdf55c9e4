"""``mlops-lab init`` and ``mlops-lab status``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mlops_lab.cli._context import current_workspace
from mlops_lab.cli._output import emit_json, human_size, json_option
from mlops_lab.status import workspace_status
from mlops_lab.workspace import CONFIG_FILE, Workspace, init_workspace, repair_catalog

_LABELS = {
    "datasets": "Datasets",
    "feature_views": "Feature views",
    "models": "Models",
    "evaluations": "Evaluations",
    "runs": "Runs",
    "artifacts": "Artifacts",
}


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="Workspace name (default: the folder's name).")
@click.option("--demo", is_flag=True, help="Add the churn demo pipeline and its notebooks.")
@click.option(
    "--repair",
    is_flag=True,
    help="Start a new catalog when it is missing or damaged (the old one is moved aside), "
    "keeping the stored artifacts.",
)
@json_option
@click.pass_context
def init(
    ctx: click.Context,
    directory: Path | None,
    name: str | None,
    demo: bool,
    repair: bool,
    as_json: bool,
) -> None:
    """Create a workspace in DIRECTORY (default: --workspace, else the current folder).

    Writes mlops_lab.yaml and the .mlops_lab/ state folder with its catalog.
    An existing mlops_lab.yaml is kept, so running it again is safe.
    """
    target = directory or ctx.obj or Path.cwd()
    existed = (target / CONFIG_FILE).is_file()
    repaired: dict[str, Any] | None = None
    if demo:
        from mlops_lab.demo import init_demo_workspace

        workspace = init_demo_workspace(target, name=name)
    elif repair and existed:
        workspace = Workspace(target)
        repaired = repair_catalog(workspace)
    else:
        workspace = init_workspace(target, name=name)
    version = workspace.catalog.schema_version()
    if as_json:
        emit_json(
            {
                "workspace": {"path": str(workspace.root), "name": workspace.name},
                "created": not existed,
                "schema_version": version,
                **({"repair": repaired} if repaired is not None else {}),
            }
        )
        return
    if repaired is not None:
        _echo_repair(workspace, repaired)
        return
    verb = "Already a workspace" if existed else "Created workspace"
    click.echo(f"{verb} {workspace.name!r} in {workspace.root}")
    click.echo(f"Catalog: {workspace.catalog_path} (schema v{version})")
    if demo:
        click.echo("Demo pipeline 'churn' added: run it with `mlops-lab run churn`.")
    click.echo("Next: `mlops-lab status`, or start JupyterLab here and open the MLOps panel.")


def _echo_repair(workspace: Workspace, repaired: dict[str, Any]) -> None:
    if not repaired["repaired"]:
        click.echo(f"The catalog {workspace.catalog_path} is healthy: nothing to repair.")
        return
    for aside in repaired["moved_aside"]:
        click.echo(f"Moved aside: {aside}")
    click.echo(
        f"New catalog: {workspace.catalog_path}, keeping {repaired['artifacts_kept']} stored "
        "artifact(s). Names and versions the old catalog held are not recoverable from the "
        "blobs: re-run the pipelines (`mlops-lab run ...`) to register them again."
    )


@click.command()
@click.option(
    "--lifecycle",
    is_flag=True,
    help="Where the project stands: its definition, each step, the loops and the timeline.",
)
@json_option
@click.pass_context
def status(ctx: click.Context, lifecycle: bool, as_json: bool) -> None:
    """Show the workspace, catalog schema version and what is registered."""
    if lifecycle:
        from mlops_lab.cli.lifecycle import show_lifecycle

        show_lifecycle(current_workspace(ctx), as_json=as_json)
        return
    result = workspace_status(current_workspace(ctx))
    if as_json:
        emit_json(result.to_dict())
        return
    click.echo(f"Workspace      {result.workspace_name} ({result.workspace_path})")
    click.echo(f"Catalog        {result.catalog_path} (schema v{result.schema_version})")
    for key, label in _LABELS.items():
        line = f"{label:<14} {result.counts[key]}"
        if key == "artifacts":
            line += f" ({human_size(result.artifacts_bytes)})"
        click.echo(line)

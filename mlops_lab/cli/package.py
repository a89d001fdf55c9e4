"""``mlops-lab package``: a model version as a deployable bundle (folder + archive)."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from mlops_lab.cli._context import current_workspace
from mlops_lab.cli._output import emit_json, human_size, json_option


@click.command()
@click.argument("ref", metavar="NAME@ALIAS|NAME/VERSION")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the bundle and its archive in (default: .mlops_lab/bundles).",
)
@json_option
@click.pass_context
def package(ctx: click.Context, ref: str, out: Path | None, as_json: bool) -> None:
    """Package REF (e.g. churn@champion) to serve without the workspace: the model in its
    safe format, signature, online feature definitions, a pinned requirements lock, a
    Dockerfile; stored as an artifact and recorded against the model version. Serve it
    with `python -m mlops_lab.serving BUNDLE`."""
    from mlops_lab.serving.bundle import build_bundle

    built = build_bundle(current_workspace(ctx), ref, out=out, by=getpass.getuser())
    if as_json:
        emit_json(built)
        return
    click.echo(f"Packaged {built['model']} v{built['version']} ({ref}) into {built['folder']}")
    click.echo(f"archive   {built['archive']} ({human_size(built['size'])})")
    click.echo(f"artifact  {built['artifact_hash']}")
    click.echo(f"manifest  {built['manifest_hash']} ({built['packages']} pinned packages)")
    click.echo(f"serve     {built['serve']}")
    click.echo(f"image     {built['docker_build']}")

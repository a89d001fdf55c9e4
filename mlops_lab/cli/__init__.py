"""The ``mlops-lab`` command line: thin commands over the same services as the API."""

from __future__ import annotations

import os
from pathlib import Path

import click

from mlops_lab._version import __version__
from mlops_lab.cli._output import ErrorHandlingGroup
from mlops_lab.cli.alerts import ab_tests, alerts
from mlops_lab.cli.artifacts import artifacts, gc
from mlops_lab.cli.datasets import datasets
from mlops_lab.cli.evaluations import drift, evaluations
from mlops_lab.cli.features import features
from mlops_lab.cli.handoff import handoff, handoffs
from mlops_lab.cli.ingest import ingest, streams
from mlops_lab.cli.models import models
from mlops_lab.cli.package import package
from mlops_lab.cli.rollout import rollout
from mlops_lab.cli.runs import ci, ct, pipelines, run, runs
from mlops_lab.cli.serve import monitor, serve
from mlops_lab.cli.slo import slo
from mlops_lab.cli.workspace import init, status
from mlops_lab.workspace import ENV_HOME

__all__ = ["cli", "main"]


@click.group(cls=ErrorHandlingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-w",
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    help="Workspace folder (default: MLOPS_LAB_HOME, else the nearest folder upwards "
    "holding mlops_lab.yaml).",
)
@click.version_option(__version__, prog_name="mlops-lab")
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None) -> None:
    """mlops-lab: features, models, evaluations and pipelines for notebooks.

    Start with `mlops-lab init` in a folder, then `mlops-lab status`.
    """
    ctx.obj = workspace
    if workspace is not None:
        # The services' mlops_lab.context() (evaluate, check_drift: the run their results
        # belong to) finds the same workspace, wherever the command runs from.
        previous = os.environ.get(ENV_HOME)
        os.environ[ENV_HOME] = str(workspace.resolve())
        ctx.call_on_close(lambda: _restore_home(previous))


def _restore_home(previous: str | None) -> None:
    if previous is None:
        os.environ.pop(ENV_HOME, None)
    else:
        os.environ[ENV_HOME] = previous


cli.add_command(init)
cli.add_command(status)
cli.add_command(artifacts)
cli.add_command(gc)
for _command in (
    run,
    runs,
    pipelines,
    ci,
    ct,
    datasets,
    features,
    models,
    evaluations,
    drift,
    alerts,
    ab_tests,
    handoff,
    handoffs,
    serve,
    package,
    monitor,
    slo,
    rollout,
    ingest,
    streams,
):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="mlops-lab")

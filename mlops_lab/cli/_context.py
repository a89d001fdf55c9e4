from __future__ import annotations

from pathlib import Path

import click

from mlops_lab.workspace import Workspace, open_workspace


def current_workspace(ctx: click.Context) -> Workspace:
    """The workspace named by ``--workspace``, else found from MLOPS_LAB_HOME or the cwd."""
    chosen: Path | None = ctx.find_root().obj
    return open_workspace(chosen)

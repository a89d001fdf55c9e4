"""``mlops-lab handoff``: check a notebook for handoff; ``mlops-lab handoffs``: the records."""

from __future__ import annotations

import click

from mlops_lab.cli._context import current_workspace
from mlops_lab.cli._output import emit_json, json_option, print_table

_MARK = {"pass": "pass", "warn": "WARN", "fail": "FAIL"}


@click.command()
@click.argument("notebook")
@click.option("--pipeline", help="Pipeline to add the stage to (default: handoff).")
@click.option("--stage", help="Stage name (default: the notebook's file name).")
@click.option(
    "--timeout",
    type=float,
    default=600.0,
    show_default=True,
    help="Seconds the whole clean run may take (all its cells, counted from the first one's "
    "start); its kernel is stopped then and the finding names the cell that was running.",
)
@click.option(
    "--cell-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds any one cell may take (default: no per-cell limit).",
)
@click.option(
    "--kernel",
    metavar="NAME",
    help="Run the clean run in this installed kernel (`jupyter kernelspec list`) instead of "
    "the notebook's own. Without it, a notebook whose kernel is missing or not installed "
    "runs in the workspace's Python kernel, and the report says so.",
)
@click.option(
    "--rel-tol",
    type=float,
    default=1e-6,
    show_default=True,
    help="Relative tolerance for float metrics and the numbers in outputs (integers must "
    "match exactly).",
)
@click.option(
    "--repeat",
    type=click.IntRange(1, 10),
    default=2,
    show_default=True,
    help="Clean runs in fresh kernels: 2 checks that two runs give the same outputs "
    "(determinism); 1 skips that check.",
)
@click.option(
    "--write-pipeline/--no-write-pipeline",
    default=True,
    show_default=True,
    help="Add a ready notebook's stage to mlops_lab.yaml (its comments are kept).",
)
@click.option(
    "--add-parameters",
    is_flag=True,
    help="Do not check: add a cell tagged 'parameters' (the first code cell's literal "
    "assignments, moved into it), then check again.",
)
@click.option("--by", hidden=True, help="Who asked (the Jupyter server passes its user).")
@json_option
@click.pass_context
def handoff(
    ctx: click.Context,
    notebook: str,
    pipeline: str | None,
    stage: str | None,
    timeout: float,
    cell_timeout: float | None,
    kernel: str | None,
    rel_tol: float,
    repeat: int,
    write_pipeline: bool,
    add_parameters: bool,
    by: str | None,
    as_json: bool,
) -> None:
    """Check NOTEBOOK for handoff: parameters, order, paths, inputs, a clean run, outputs,
    reproduced outputs and metrics, environment, determinism. Ready notebooks become a
    pipeline stage; exit 1 if failing."""
    from mlops_lab.handoff import check_notebook

    if add_parameters:
        from mlops_lab.handoff.add_parameters import add_parameters_cell

        done = add_parameters_cell(current_workspace(ctx), notebook)
        if as_json:
            emit_json(done)
        else:
            click.echo(done["message"])
        return
    found = check_notebook(
        current_workspace(ctx),
        notebook,
        pipeline=pipeline,
        stage=stage,
        timeout=timeout,
        cell_timeout=cell_timeout,
        kernel=kernel,
        rel_tol=rel_tol,
        repeat=repeat,
        by=by,
        write_pipeline=write_pipeline,
    )
    if as_json:
        emit_json(found)
    else:
        _print(found)
    if found["status"] == "failing":
        ctx.exit(1)


def _print(found: dict) -> None:  # type: ignore[type-arg]
    print_table(
        ["result", "check", "cell", "finding"],
        [
            [_MARK[f["status"]], f["check"], "-" if f["cell"] is None else f["cell"], f["message"]]
            for f in found["findings"]
        ],
    )
    contract = found["contract"]
    click.echo(
        f"\n{contract['notebook']}: {found['status'].upper()} (handoff {found['id']}); "
        f"stage {contract['stage']} of pipeline {contract['pipeline']}"
    )
    if found["status"] == "ready" and found.get("pipeline_written"):
        click.echo(f"Run it with: mlops-lab run {contract['pipeline']} --only {contract['stage']}")
    elif found["status"] == "ready":
        click.echo("mlops_lab.yaml was not changed (--no-write-pipeline).")


@click.group()
def handoffs() -> None:
    """Handed-off notebooks: their status (ready, failing, stale), contract and report."""


@handoffs.command("list")
@json_option
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """The latest handoff of each notebook."""
    from mlops_lab.handoff import list_handoffs

    found = list_handoffs(current_workspace(ctx))
    if as_json:
        emit_json({"handoffs": found})
        return
    if not found:
        click.echo("No handoffs. Check a notebook with `mlops-lab handoff NOTEBOOK`.")
        return
    print_table(
        ["id", "notebook", "status", "pass/warn/fail", "stage", "checked"],
        [
            [
                h["id"],
                h["notebook"],
                h["status"],
                "/".join(str(h["counts"][s]) for s in ("pass", "warn", "fail")),
                f"{h['pipeline']}.{h['stage']}",
                h["created_at"][:19],
            ]
            for h in found
        ],
    )


@handoffs.command()
@click.argument("handoff_id")
@click.option("--report", is_flag=True, help="Print the Markdown report.")
@json_option
@click.pass_context
def show(ctx: click.Context, handoff_id: str, report: bool, as_json: bool) -> None:
    """One handoff: its findings and contract (or its report)."""
    from mlops_lab.handoff import get_handoff, handoff_report

    workspace = current_workspace(ctx)
    if report:
        click.echo(handoff_report(workspace, handoff_id), nl=False)
        return
    found = get_handoff(workspace, handoff_id)
    if as_json:
        emit_json(found)
    else:
        _print(found)

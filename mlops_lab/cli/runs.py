"""``mlops-lab run``, ``ci``, ``ct``, ``runs ...`` and ``pipelines ...``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from mlops_lab.cli._context import current_workspace
from mlops_lab.cli._output import emit_json, json_errors_option, json_option, print_table
from mlops_lab.errors import MlopsLabError
from mlops_lab.pipelines.ci import error_reports, run_checks
from mlops_lab.pipelines.lint import LintReport, describe_findings
from mlops_lab.pipelines.parameters import parse_override
from mlops_lab.pipelines.progress import TerminalProgress
from mlops_lab.pipelines.reads import describe_reads
from mlops_lab.pipelines.records import RUN_STATUSES, RunRecord, get_run, list_runs
from mlops_lab.pipelines.run_options import RunOptions
from mlops_lab.pipelines.service import (
    executed_notebook,
    request_cancel,
    resolve_pipeline,
    run_pipeline,
)
from mlops_lab.pipelines.spec import load_pipelines
from mlops_lab.pipelines.verdict import strip_ansi

F = TypeVar("F", bound=Callable[..., Any])


def _overrides(values: tuple[str, ...]) -> dict[str, Any]:
    return dict(parse_override(v) for v in values)


def _run_options(func: Any) -> Any:
    options = [
        click.option(
            "-p",
            "--param",
            "params",
            multiple=True,
            metavar="NAME=VALUE",
            help="Override a notebook parameter (value parsed as YAML: 3, 0.5, true, "
            "[1, 2]). Repeatable.",
        ),
        click.option(
            "-j",
            "--jobs",
            type=click.IntRange(min=1),
            default=None,
            help="Stages run at once (default: number of cores).",
        ),
        click.option(
            "--executor",
            type=click.Choice(["local", "dask"]),
            default="local",
            show_default=True,
            help="Where stages run.",
        ),
        click.option(
            "--scheduler", metavar="ADDRESS", help="Dask scheduler address, with --executor dask."
        ),
        json_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _options(jobs: int | None, executor: str, scheduler: str | None, **extra: Any) -> RunOptions:
    stage_runner = None
    if executor == "dask":
        from mlops_lab.pipelines.dask_executor import dask_stage_runner

        stage_runner = dask_stage_runner(scheduler)
    elif scheduler:
        raise click.UsageError("--scheduler needs --executor dask.")
    kwargs: dict[str, Any] = {"stage_runner": stage_runner, **extra}
    if jobs is not None:
        kwargs["jobs"] = jobs
    return RunOptions(**kwargs)


def _finish(record: RunRecord, as_json: bool) -> None:
    if as_json:
        emit_json(record.to_dict())
    else:
        _print_run(record)
    if record.status != "succeeded":
        sys.exit(1)


@click.command()
@click.argument("pipeline", required=False)
@click.option("--notebook", help="Run one notebook (workspace-relative) as a one-stage pipeline.")
@click.option("--force", is_flag=True, help="Run every selected stage even if cached.")
@click.option("--only", "only", metavar="STAGE", help="Run just this stage (upstream from cache).")
@click.option("--from", "from_stage", metavar="STAGE", help="Run this stage and all downstream.")
@click.option(
    "--kernel",
    metavar="NAME",
    help="With --notebook: run it in this installed kernel (`jupyter kernelspec "
    "list`) instead of the notebook's own.",
)
@click.option("--run-id", hidden=True, help="Carry out a run recorded by the REST API.")
@_run_options
@click.pass_context
def run(
    ctx: click.Context,
    pipeline: str | None,
    notebook: str | None,
    force: bool,
    only: str | None,
    from_stage: str | None,
    kernel: str | None,
    run_id: str | None,
    params: tuple[str, ...],
    jobs: int | None,
    executor: str,
    scheduler: str | None,
    as_json: bool,
) -> None:
    """Run PIPELINE (the only one when there is one) with papermill, skipping cached stages.

    Exits 1 if a stage fails, printing the failing cell (the saved notebook's,
    from 1) and where to find the executed notebook. A notebook whose kernel is
    missing or not installed runs in the workspace's Python kernel (said in the
    run's record).
    """
    workspace = current_workspace(ctx)
    overrides = _overrides(params)
    spec = resolve_pipeline(
        workspace, pipeline=pipeline, notebook=notebook, overrides=overrides, kernel=kernel
    )
    options = _options(
        jobs,
        executor,
        scheduler,
        force=force,
        only=only,
        from_stage=from_stage,
        run_id=run_id,
        parameters=overrides,
    )
    with TerminalProgress(spec) as progress:
        record = run_pipeline(workspace, spec, options, on_event=None if as_json else progress)
    _finish(record, as_json)


_EXIT_CODES = """
Exit codes: 0 every check passed (or nothing had to run); 1 a check failed (a stage or
one of its `expect:` assertions failed, a lint finding with `ci.lint.fail: true`) or an
error stopped it first (said on standard error; the reports asked for hold that one error);
2 wrong usage.
"""


def _report_path(flag: str, help_text: str) -> Callable[[F], F]:
    return click.option(
        flag, type=click.Path(dir_okay=False, path_type=Path), metavar="PATH", help=help_text
    )


def _trigger_command(trigger: str, doc: str) -> click.Command:
    @click.command(name=trigger, help=doc + "\n" + _EXIT_CODES)
    @click.argument("pipeline", required=False)
    @_report_path("--junit", "Write every check (lint, stages, assertions) as JUnit XML.")
    @_report_path("--summary", "Write a Markdown summary of the checks (a PR comment).")
    @_run_options
    @click.pass_context
    def command(
        ctx: click.Context,
        pipeline: str | None,
        junit: Path | None,
        summary: Path | None,
        params: tuple[str, ...],
        jobs: int | None,
        executor: str,
        scheduler: str | None,
        as_json: bool,
    ) -> None:
        try:
            workspace = current_workspace(ctx)
            overrides = _overrides(params)
            spec = resolve_pipeline(workspace, pipeline=pipeline, overrides=overrides)
            options = _options(jobs, executor, scheduler, parameters=overrides)
            with TerminalProgress(spec) as progress:
                outcome = run_checks(
                    workspace, spec, trigger, options, on_event=None if as_json else progress
                )
        except MlopsLabError as exc:  # the CI server's test report shows it too
            _write_reports(junit, summary, *error_reports(f"mlops-lab {trigger}", exc.message))
            raise
        _write_reports(junit, summary, outcome.junit(), outcome.markdown())
        record = outcome.record
        from mlops_lab.serving.served_rows import new_training_data

        learned = None if record is None else new_training_data(workspace, record.id)
        if as_json:
            emit_json({**outcome.to_dict(), "new_data": learned})
            sys.exit(outcome.exit_code)
        _print_lint(outcome.lint)
        if record is None:
            click.echo(f"Nothing to run for {spec.name}: {outcome.decision['reason']}.")
        else:
            click.echo(f"{trigger} run of {spec.name}: {outcome.decision['reason']}")
        if learned:
            new = learned["new"]
            click.echo(
                f"trained on {learned['dataset']}@{learned['version']} ({learned['rows']} rows): "
                f"{new['rows']} new served request(s) with outcomes from {new['from']} to "
                f"{new['to']} ({learned['served']['dataset']}@{learned['served']['version']})"
            )
        if record is not None:
            _print_run(record)
        failed = [c for c in outcome.checks if c.failed]
        for path, kind in ((junit, "JUnit XML"), (summary, "Markdown summary")):
            if path is not None:
                click.echo(f"Wrote {kind} to {path}")
        if failed:
            click.echo(f"{len(failed)} check(s) failed:")
            for check in failed:
                click.echo(f"  {check.suite}: {check.name}: {check.message}")
        sys.exit(outcome.exit_code)

    return command


def _write_reports(junit: Path | None, summary: Path | None, xml: str, markdown: str) -> None:
    for path, text in ((junit, xml), (summary, markdown)):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def _print_lint(report: LintReport | None) -> None:
    if report is None:
        return
    rules = ",".join(report.select)
    if report.error is not None:
        click.echo(f"Lint (ruff {rules}): {report.error}")
        return
    files = len(report.files)
    if not report.findings:
        click.echo(f"Lint (ruff {rules}): {files} file(s), no findings")
        return
    effect = "" if report.fail else " (reported, not failing: ci.lint.fail is false)"
    click.echo(f"Lint (ruff {rules}): {len(report.findings)} finding(s) in {files} file(s){effect}")
    for line in describe_findings(report.findings):
        click.echo(f"  {line}")


ci = _trigger_command(
    "ci",
    "CI: lint the changed notebooks and modules with ruff (per cell), rerun the stages of "
    "PIPELINE whose notebook code changed since its last successful run and everything "
    "downstream of them, and check their `expect:` assertions.",
)
ct = _trigger_command(
    "ct",
    "CT: rerun PIPELINE when a declared input dataset has a new version or an open alert "
    "names it (the alerts are closed when the run succeeds).",
)


@click.group()
def runs() -> None:
    """Pipeline and interactive runs recorded in the catalog."""


@runs.command("list")
@click.option("--pipeline", help="Only runs of this pipeline.")
@click.option("--status", type=click.Choice(RUN_STATUSES), help="Only runs with this status.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(min=0))
@json_option
@click.pass_context
def list_(
    ctx: click.Context,
    pipeline: str | None,
    status: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """List runs, newest first."""
    found, total = list_runs(
        current_workspace(ctx).catalog, pipeline=pipeline, status=status, limit=limit, offset=offset
    )
    if as_json:
        emit_json({"runs": [r.to_dict() for r in found], "total": total})
        return
    if not found:
        click.echo("No runs.")
        return
    print_table(
        ["run", "pipeline", "status", "trigger", "started", "duration", "stages"],
        [
            [
                r.id,
                r.pipeline or r.notebook or "-",
                r.status,
                r.trigger,
                f"{r.started_at:%Y-%m-%d %H:%M:%S}",
                f"{r.duration_s:.1f} s" if r.duration_s is not None else "-",
                " ".join(f"{s.stage}:{s.status}" for s in r.stages),
            ]
            for r in found
        ],
    )
    if total > offset + len(found):
        click.echo(f"({total} runs; next page: --offset {offset + len(found)})")


@runs.command()
@click.argument("run_id")
@json_option
@click.pass_context
def show(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """Show one run with its stages, errors, outputs and metrics."""
    record = get_run(current_workspace(ctx).catalog, run_id)
    if as_json:
        emit_json(record.to_dict())
    else:
        _print_run(record)


@runs.command()
@click.argument("run_id")
@json_option
@click.pass_context
def cancel(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """Ask a running run to stop (its running stages' kernels are killed).

    A run whose runner is gone (killed) is marked cancelled at once.
    """
    status = request_cancel(current_workspace(ctx), run_id)
    if as_json:
        emit_json({"run_id": run_id, "status": status})
    elif status == "cancelled":
        click.echo(f"Run {run_id} cancelled (its runner had already stopped).")
    else:
        click.echo(f"Cancel requested for {run_id}.")


@runs.command()
@click.argument("run_id")
@click.argument("stage")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of standard output.",
)
@json_errors_option
@click.pass_context
def notebook(ctx: click.Context, run_id: str, stage: str, output: Path | None) -> None:
    """Write a stage run's executed notebook (with outputs and cell timings)."""
    data = executed_notebook(current_workspace(ctx), run_id, stage)
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        click.echo(f"Wrote {output}")


@click.group()
def pipelines() -> None:
    """Pipelines declared in mlops_lab.yaml."""


@pipelines.command("list")
@json_option
@click.pass_context
def pipelines_list(ctx: click.Context, as_json: bool) -> None:
    """Validate and list the pipelines with their stages in dependency order."""
    found = load_pipelines(current_workspace(ctx))
    if as_json:
        emit_json({"pipelines": [p.to_dict() for p in found.values()]})
        return
    if not found:
        click.echo("No pipelines in mlops_lab.yaml.")
    for spec in found.values():
        click.echo(f"{spec.name}: {spec.description}".rstrip(": "))
        for stage in spec.stages:
            needs = f"  (needs {', '.join(stage.needs)})" if stage.needs else ""
            click.echo(f"  {stage.name}: {stage.notebook}{needs}")


def _values(parameters: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in parameters.items())


def _print_run(record: RunRecord) -> None:
    """The whole report on standard output (progress and errors of the CLI itself go to
    standard error), so it survives a redirect."""
    duration = f" in {record.duration_s:.1f} s" if record.duration_s is not None else ""
    reason = f", {record.reason}" if record.reason else ""
    click.echo(
        f"Run {record.id} of {record.pipeline}: {record.status}{duration} "
        f"(trigger: {record.trigger}{reason})"
    )
    if record.parameters:
        click.echo(f"  parameters given: {_values(record.parameters)}")
    if record.git_commit:
        click.echo(f"  git {record.git_commit[:12]}{' (dirty)' if record.git_dirty else ''}")
    for stage in record.stages:
        extra = f" from {stage.cached_from}" if stage.cached_from else ""
        took = f" {stage.duration_s:.1f} s" if stage.duration_s else ""
        status = stage.status.replace("_", " ")
        click.echo(f"  {stage.stage:<20} {status}{extra}{took}")
        if stage.parameters and stage.status != "not_selected":
            click.echo(f"      parameters: {_values(stage.parameters)}")
        execution = stage.execution or {}
        if execution.get("note"):
            click.echo(f"      note: {execution['note']}")
        limits = [
            f"{label} {execution[key]:g} s"
            for key, label in (("timeout", "whole stage"), ("cell_timeout", "per cell"))
            if execution.get(key)
        ]
        if limits:
            click.echo(f"      time limits: {', '.join(limits)}")
        metrics = record.metrics.get(stage.stage)
        if metrics:
            click.echo("      " + ", ".join(f"{k}={v:g}" for k, v in metrics.items()))
        if stage.reads and stage.reads.get("rerun_because"):
            click.echo(f"      ran again: {stage.reads['rerun_because']}")
        for line in describe_reads(stage.reads):
            click.echo(f"      {line}")
        for check in stage.checks or []:
            if check.get("kind") == "assertion":
                click.echo(f"      expect {check['name']}: {check['status']} ({check['message']})")
        if stage.status == "failed":
            cell = f" in cell {stage.error_cell}" if stage.error_cell is not None else ""
            click.echo(f"      {stage.error_name}{cell}: {strip_ansi(stage.error_value)}")
            if stage.executed_notebook:
                click.echo(
                    f"      executed notebook: mlops-lab runs notebook {record.id} {stage.stage} "
                    f"-o {stage.stage}.executed.ipynb"
                )
    if record.error:
        click.echo(f"  runner error: {strip_ansi(record.error)}")

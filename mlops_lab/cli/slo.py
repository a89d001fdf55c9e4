"""``mlops-lab slo``: model servers' p99 and error rate against the project's serving SLO."""

from __future__ import annotations

import json
from typing import Any

import click

from mlops_lab.cli._context import current_workspace
from mlops_lab.cli._output import emit_json, json_option, seconds_option


def _line(result: dict[str, Any]) -> str:
    who = f"{result['ref'] or result['url']} ({result['deployment_id'] or result['url']})"
    if "verdicts" not in result:
        return f"{who}: {result['status']}: {result.get('error', '')}"
    total = result["stats"]["all"]
    parts = [f"{total['requests']} requests in {result['covered_s']:g}s"]
    for verdict in result["verdicts"]:
        value = verdict["value"]
        if verdict["metric"] == "p99_ms":
            shown = "-" if value is None else f"{value:.1f} ms"
            parts.append(f"p99 {shown} (<= {verdict['bound']:g}): {verdict['verdict']}")
        else:
            shown = "-" if value is None else f"{value:.2%}"
            parts.append(f"5xx {shown} (<= {verdict['bound']:.2%}): {verdict['verdict']}")
    alerts = f"; alert {', '.join(result['alerts'])}" if result["alerts"] else ""
    return f"{result['checked_at']} {who}: " + "; ".join(parts) + alerts


@click.command()
@click.option("--url", help="The model server's base URL (default: every running deployment).")
@click.option("--deployment", "deployment", metavar="ID", help="A recorded deployment's id.")
@click.option(
    "--window",
    callback=seconds_option,
    help="The sliding window, e.g. 60s or 5m (default: the project's serving window, 60s).",
)
@click.option(
    "--every",
    callback=seconds_option,
    default="10s",
    show_default=True,
    help="Time between checks (with --once: between its two scrapes, when it needs two).",
)
@click.option("--p99-ms", type=click.FloatRange(min=0), help="Overrides project.serving.p99_ms.")
@click.option(
    "--error-rate",
    type=click.FloatRange(min=0, max=1),
    help="Overrides project.serving.error_rate (the 5xx share of requests).",
)
@click.option(
    "--min-requests",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Fewer requests in the window judge nothing (not enough traffic).",
)
@click.option("--once", is_flag=True, help="Judge one window and exit (1 on a breach).")
@json_option
@click.pass_context
def slo(
    ctx: click.Context,
    url: str | None,
    deployment: str | None,
    window: float | None,
    every: float,
    p99_ms: float | None,
    error_rate: float | None,
    min_requests: int,
    once: bool,
    as_json: bool,
) -> None:
    """Check model servers' /metrics against the serving SLO (project: serving: in
    mlops_lab.yaml): p99 latency and 5xx rate over a sliding window, one line per check
    until Ctrl-C. A breach opens (then updates) an alert of kind slo naming the rule;
    `mlops-lab ct` does not retrain on it."""
    from mlops_lab.serving.slo_watch import SloChecker, slo_bounds, slo_targets

    workspace = current_workspace(ctx)
    bounds = slo_bounds(workspace, p99_ms=p99_ms, error_rate=error_rate, window_s=window)
    checker = SloChecker(
        workspace,
        slo_targets(workspace, url=url, deployment=deployment),
        bounds,
        min_requests=min_requests,
    )

    def report(result: dict[str, Any]) -> None:
        if as_json and not once:
            click.echo(json.dumps(result, default=str))  # one JSON line per check
        elif not as_json:
            click.echo(_line(result))

    try:
        results = checker.run(every_s=every, once=once, report=report)
    except KeyboardInterrupt:
        return
    if as_json:
        emit_json({"checks": results})
    if any(r["status"] == "breach" for r in results):
        ctx.exit(1)

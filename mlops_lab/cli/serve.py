"""``mlops-lab serve``: a model alias over HTTP, with an optional canary challenger."""

from __future__ import annotations

import logging

import click

from mlops_lab.cli._context import current_workspace
from mlops_lab.cli._output import emit_json, json_errors_option, json_option

_MAX_REF = 256


@click.command()
@click.argument("ref", metavar="NAME@ALIAS")
@click.option("--challenger", metavar="NAME@ALIAS", help="A second version to route traffic to.")
@click.option(
    "--split",
    type=float,
    default=0.0,
    show_default=True,
    help="The challenger's share of traffic (sticky by entity).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option(
    "--poll",
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds between checks for an alias move.",
)
@click.option("--no-log", is_flag=True, help="Do not log predictions.")
@click.option(
    "--max-instances",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Most instances in one /predict batch (more: 413).",
)
@click.option(
    "--max-body-bytes",
    type=click.IntRange(min=1024),
    default=4 * 1024 * 1024,
    show_default=True,
    help="Largest request body (more: 413, refused before it is read).",
)
@click.option(
    "--drain-seconds",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="On SIGTERM, how long to answer the requests in flight before exiting.",
)
@json_errors_option
@click.pass_context
def serve(
    ctx: click.Context,
    ref: str,
    challenger: str | None,
    split: float,
    host: str,
    port: int,
    poll: float,
    no_log: bool,
    max_instances: int,
    max_body_bytes: int,
    drain_seconds: float,
) -> None:
    """Serve REF (e.g. churn@champion): POST /predict, GET /health, /metadata, /metrics;
    POST /rollout {"split": 0.5} and /rollback change the canary without a restart."""
    from mlops_lab.errors import InvalidInputError
    from mlops_lab.serving.lifecycle import serve_deployment
    from mlops_lab.serving.limits import ServingLimits
    from mlops_lab.serving.predictor import Predictor

    for option, value in (("REF", ref), ("--challenger", challenger or "")):
        if len(value) > _MAX_REF:
            raise InvalidInputError(
                f"{option} is {len(value)} characters long: a model reference is 'name', "
                f"'name/3' or 'name@alias', at most {_MAX_REF} characters."
            )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    # Per-request access lines would cost latency at hundreds of requests a second; errors
    # are still logged (and counted in /metrics).
    logging.getLogger("tornado.access").setLevel(logging.WARNING)

    def started(predictor: Predictor) -> None:
        versions = ", ".join(f"{n} {s.ref} -> v{s.version}" for n, s in predictor.slots.items())
        click.echo(f"Serving {versions} on http://{host}:{port} (split {split:g})", err=True)

    served = serve_deployment(
        current_workspace(ctx),
        ref,
        challenger=challenger,
        split=split,
        host=host,
        port=port,
        poll=poll,
        limits=ServingLimits(max_instances=max_instances, max_body_bytes=max_body_bytes),
        drain_seconds=drain_seconds,
        log_predictions=not no_log,
        started=started,
    )
    counts = served.counts
    if counts:
        click.echo(
            f"Stopped. Predictions logged: {counts['written']} of {counts['appended']} "
            f"({counts['files']} files in {served.log_folder}).",
            err=True,
        )


@click.command()
@click.argument("ref", metavar="NAME@ALIAS")
@click.option(
    "--since-hours",
    type=float,
    default=24.0,
    show_default=True,
    help="Use the predictions logged in this window.",
)
@click.option("--outcomes", help="Dataset of labels that arrived (entity keys + label).")
@click.option("--label", help="The label column of --outcomes.")
@click.option(
    "--min-auc",
    type=float,
    default=None,
    help="Open an alert when the live ROC AUC falls below this (default: the project "
    "definition's objective and guardrails judge the live model; without one, 0.7).",
)
@click.option("--pipeline", help="Pipeline to retrain (default: the one that trained REF).")
@click.option(
    "--max-drifted-share",
    type=float,
    default=None,
    help="Alert when more of the columns drifted (default: the project's drift setting, else 0.2).",
)
@json_option
@click.pass_context
def monitor(
    ctx: click.Context,
    ref: str,
    since_hours: float,
    outcomes: str | None,
    label: str | None,
    min_auc: float | None,
    pipeline: str | None,
    max_drifted_share: float | None,
    as_json: bool,
) -> None:
    """Drift of served features and predictions against REF's training data, and live
    metrics where outcomes arrived; opens an alert that `mlops-lab ct` acts on."""
    from mlops_lab.serving.monitor import monitor as check

    result = check(
        current_workspace(ctx),
        ref,
        since_hours=since_hours,
        outcomes=outcomes,
        label=label,
        thresholds=None if min_auc is None else {"roc_auc": {"min": min_auc}},
        pipeline=pipeline,
        max_drifted_share=max_drifted_share,
    )
    if as_json:
        emit_json(result)
        return
    drift = result["drift"]
    click.echo(
        f"{result['model']}: {result['predictions']} predictions; drift {drift['verdict']}"
        f" ({', '.join(drift['drifted']) or 'no column'}); report {drift['id']}"
    )
    if result["evaluation"]:
        metrics = result["evaluation"]["metrics"]
        click.echo(
            f"live metrics on {result['evaluation']['rows']} rows with outcomes: "
            + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if v is not None)
        )
    for view, consistent in result.get("consistency", {}).items():
        click.echo(
            f"consistency of {view}: {consistent['rows_checked']} served rows, "
            f"{consistent['mismatches']} mismatch(es) ({consistent['verdict']})"
        )
    alert = drift["alert_id"]
    click.echo(
        f"alert {alert} opened for pipeline {result['pipeline']}: run `mlops-lab ct`"
        if alert
        else "no alert opened"
    )

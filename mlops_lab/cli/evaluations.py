"""``mlops-lab evaluations`` and ``drift``: what the evaluation store holds (alerts and A/B
tests: :mod:`mlops_lab.cli.alerts`)."""

from __future__ import annotations

import click

from mlops_lab.cli._context import current_workspace
from mlops_lab.cli._output import emit_json, json_option, print_table

SHOWN = ("accuracy", "roc_auc", "f1", "log_loss", "r2", "rmse", "mae")


@click.group()
def evaluations() -> None:
    """Metrics per model version and dataset version."""


@evaluations.command("list")
@click.option("--model", help="Only this model's evaluations.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--offset", type=int, default=0, show_default=True)
@json_option
@click.pass_context
def list_evaluations_(
    ctx: click.Context, model: str | None, limit: int, offset: int, as_json: bool
) -> None:
    """List evaluations, newest model versions first."""
    from mlops_lab.evaluation import list_evaluations

    found, total = list_evaluations(current_workspace(ctx), model=model, limit=limit, offset=offset)
    if as_json:
        emit_json({"evaluations": found, "total": total})
        return
    if not found:
        click.echo("No evaluations.")
        return
    names = [n for n in SHOWN if any(n in e["metrics"] for e in found)]
    print_table(
        ["id", "model", "dataset", *names],
        [
            [
                e["id"],
                f"{e['model']}/{e['version']}",
                f"{e['dataset']}@{e['dataset_version']}",
                *(_number(e["metrics"].get(n)) for n in names),
            ]
            for e in found
        ],
    )


def _number(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "-"


@click.group()
def drift() -> None:
    """Drift reports between a reference and a current dataset."""


@drift.command("list")
@click.option("--limit", type=int, default=20, show_default=True)
@json_option
@click.pass_context
def list_drift(ctx: click.Context, limit: int, as_json: bool) -> None:
    """List drift reports, newest first."""
    from mlops_lab.evaluation import list_drift_reports

    reports, total = list_drift_reports(current_workspace(ctx), limit=limit)
    if as_json:
        emit_json({"reports": reports, "total": total})
        return
    if not reports:
        click.echo("No drift reports.")
        return
    print_table(
        ["id", "current", "reference", "verdict", "drifted", "alert"],
        [
            [
                r["id"],
                r["current"],
                r["reference"],
                r["verdict"],
                f"{r['counts']['features_drifted']}/{r['counts']['features']}"
                + (" +prediction" if r["counts"]["prediction_drifted"] else ""),
                r["alert_id"] or "-",
            ]
            for r in reports
        ],
    )


@drift.command("show")
@click.argument("report_id")
@json_option
@click.pass_context
def show_drift(ctx: click.Context, report_id: str, as_json: bool) -> None:
    """Every column of a drift report: test, adjusted p-value, effect size, PSI, verdict."""
    from mlops_lab.evaluation import get_drift_report

    report = get_drift_report(current_workspace(ctx), report_id)
    if as_json:
        emit_json(report)
        return
    click.echo(f"{report['current']} vs {report['reference']}: {report['verdict']}")
    print_table(
        ["column", "drifted", "test", "p (BH)", "effect", "size", "PSI"],
        [
            [
                c["column"],
                "yes" if c["drifted"] else "",
                c["test"],
                f"{c['p_adjusted']:.3g}",
                c["effect"],
                _number(c["effect_size"]),
                f"{c['psi']:.3f}",
            ]
            for c in sorted(report["columns"], key=lambda c: not c["drifted"])
        ],
    )

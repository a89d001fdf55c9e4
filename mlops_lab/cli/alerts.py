"""``mlops-lab alerts`` and ``ab-tests``: list them, acknowledge or close them with a reason."""

from __future__ import annotations

from typing import Any

import click

from mlops_lab.cli._context import current_workspace
from mlops_lab.cli._output import emit_json, json_option, print_table

_REASON = click.option("--reason", required=True, help="Why: kept with the alert for others.")
_BY = click.option("--by", help="Who acts (default: your user name).")


@click.group()
def alerts() -> None:
    """Alerts asking a pipeline to retrain (``mlops-lab ct`` acts on active ones), and
    serving SLO breaches (kind slo: shown, not retrained)."""


@alerts.command("list")
@click.option(
    "--status",
    type=click.Choice(["open", "acknowledged", "active", "closed", "all"]),
    default="open",
    show_default=True,
    help="active: open or acknowledged.",
)
@json_option
@click.pass_context
def list_alerts_(ctx: click.Context, status: str, as_json: bool) -> None:
    """List alerts, newest first."""
    from mlops_lab.evaluation import list_alerts

    found = list_alerts(current_workspace(ctx), status=None if status == "all" else status)
    if as_json:
        emit_json({"alerts": found})
        return
    if not found:
        click.echo(f"No {'' if status == 'all' else status + ' '}alerts.")
        return
    print_table(
        ["id", "pipeline", "kind", "status", "seen", "last seen", "message"],
        [
            [
                a["id"],
                a["pipeline"],
                a["kind"],
                a["status"],
                f"{a['occurrences']}x",
                a["last_seen_at"][:19],
                a["message"],
            ]
            for a in found
        ],
    )


def _show_alert(alert: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(alert)
        return
    by, reason = (
        (alert["closed_by"], alert["close_reason"])
        if alert["status"] == "closed"
        else (alert["acknowledged_by"], alert["acknowledge_reason"])
    )
    click.echo(f"Alert {alert['id']} {alert['status']} by {by}: {reason}")


@alerts.command("ack")
@click.argument("alert_id")
@_REASON
@_BY
@json_option
@click.pass_context
def ack(ctx: click.Context, alert_id: str, reason: str, by: str | None, as_json: bool) -> None:
    """Acknowledge an open alert (seen; it stays active until closed or retrained)."""
    from mlops_lab.evaluation import acknowledge_alert

    _show_alert(acknowledge_alert(current_workspace(ctx), alert_id, reason=reason, by=by), as_json)


@alerts.command("close")
@click.argument("alert_id")
@_REASON
@_BY
@json_option
@click.pass_context
def close(ctx: click.Context, alert_id: str, reason: str, by: str | None, as_json: bool) -> None:
    """Close an open or acknowledged alert (``mlops-lab ct`` no longer acts on it)."""
    from mlops_lab.evaluation import close_alert

    _show_alert(close_alert(current_workspace(ctx), alert_id, reason=reason, by=by), as_json)


@click.group("ab-tests")
def ab_tests() -> None:
    """A/B tests of outcomes by variant (one per data version and question)."""


@ab_tests.command("list")
@click.option(
    "--status", type=click.Choice(["active", "closed", "all"]), default="all", show_default=True
)
@json_option
@click.pass_context
def list_ab_tests_(ctx: click.Context, status: str, as_json: bool) -> None:
    """List A/B tests, newest first."""
    from mlops_lab.evaluation import list_ab_tests

    found = list_ab_tests(current_workspace(ctx), status=None if status == "all" else status)
    if as_json:
        emit_json({"tests": found})
        return
    if not found:
        click.echo("No A/B tests.")
        return
    print_table(
        ["id", "name", "dataset", "status", "created"],
        [
            [
                t["id"],
                t["name"],
                "{dataset}@{dataset_version}".format(**t),
                t["status"],
                t["created_at"][:19],
            ]
            for t in found
        ],
    )


@ab_tests.command("close")
@click.argument("test_id")
@_REASON
@_BY
@json_option
@click.pass_context
def close_test(
    ctx: click.Context, test_id: str, reason: str, by: str | None, as_json: bool
) -> None:
    """Close (archive) an A/B test; it stays listed as closed."""
    from mlops_lab.evaluation import close_ab_test

    test = close_ab_test(current_workspace(ctx), test_id, reason=reason, by=by)
    if as_json:
        emit_json(test)
        return
    click.echo(f"A/B test {test['id']} closed by {test['closed_by']}: {test['close_reason']}")

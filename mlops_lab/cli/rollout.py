"""``mlops-lab rollout``: move a running server's traffic to a challenger step by step,
judging each step; ``status``, ``pause``, ``resume`` and ``abort`` act on a rollout."""

from __future__ import annotations

import json
from typing import Any

import click

from mlops_lab.cli._context import current_workspace
from mlops_lab.cli._output import emit_json, json_option, print_table, seconds_option


class _RolloutGroup(click.Group):
    """``mlops-lab rollout churn --to challenger`` is ``mlops-lab rollout start churn ...``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["start", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_RolloutGroup)
def rollout() -> None:
    """Progressive rollout: `mlops-lab rollout MODEL --to challenger` moves a running
    server's split step by step (5, 25, 50, 100%), judges each step's traffic (error
    rate and p99 against the champion, prediction drift, the A/B test on outcomes) and
    continues, holds or rolls back; at the end the champion alias moves."""


def _rate(value: Any) -> str:
    return "-" if value is None else f"{value:.2%}"


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _numbers(analysis: dict[str, Any]) -> str:
    parts = []
    for name, numbers in analysis["variants"].items():
        if numbers:
            parts.append(
                f"{name} {numbers['requests']} req, 5xx {_rate(numbers['error_rate'])}, "
                f"p99 {_ms(numbers['p99_ms'])}"
            )
    drift = analysis["drift"]
    if drift.get("status") == "measured":
        parts.append(f"prediction PSI {drift['psi']:.3f} (KS {drift['ks_statistic']:.2f})")
    else:
        parts.append(f"drift: {drift.get('status')}")
    ab = analysis["ab"]
    if ab.get("status") == "measured":
        parts.append(
            f"A/B {ab['outcome']} {ab['difference']:+.3f} [{ab['ci_low']:.3f}, {ab['ci_high']:.3f}]"
        )
    else:
        parts.append(f"A/B: {ab.get('status')}")
    return "; ".join(parts)


def decision_line(decision: dict[str, Any], steps: int) -> str:
    """One decision as a line (and its numbers on a second one)."""
    head = (
        f"step {decision['step_index'] + 1}/{steps} ({decision['split']:.0%}): "
        f"{decision['decision']}: {decision['reason']}"
    )
    analysis = decision.get("analysis")
    return head if not analysis else f"{head}\n    {_numbers(analysis)}"


@rollout.command("start")
@click.argument("model")
@click.option(
    "--to",
    "to_alias",
    required=True,
    metavar="ALIAS",
    help="The alias to roll out, e.g. challenger.",
)
@click.option(
    "--deployment",
    metavar="ID",
    help="The deployment (default: the running one serving MODEL@ALIAS as challenger).",
)
@click.option("--url", help="The model server's base URL (a recorded deployment).")
@click.option(
    "--steps",
    default="5,25,50,100",
    show_default=True,
    help="The challenger's share at each step, in percent, ending at 100.",
)
@click.option(
    "--interval",
    callback=seconds_option,
    default="60s",
    show_default=True,
    help="How long each step's traffic is watched before it is judged.",
)
@click.option(
    "--min-requests",
    type=click.IntRange(min=1),
    help="Challenger requests a step needs to be judged (fewer: hold). Default 20.",
)
@click.option(
    "--max-error-rate",
    type=click.FloatRange(min=0, max=1),
    help="The challenger's highest 5xx rate (default: project.serving.error_rate, else 0.01).",
)
@click.option(
    "--max-p99-ms",
    type=click.FloatRange(min=0),
    help="The challenger's highest p99 (default: project.serving.p99_ms, else none).",
)
@click.option(
    "--max-p99-ratio",
    type=click.FloatRange(min=1),
    help="The challenger's highest p99 as a multiple of the champion's (default 1.5).",
)
@click.option(
    "--max-prediction-psi",
    type=click.FloatRange(min=0),
    help="Roll back when the PSI of the variants' predictions exceeds this "
    "(default: reported only).",
)
@click.option(
    "--max-holds",
    type=click.IntRange(min=0),
    help="Holds in a row (not enough traffic) before rolling back (default 3).",
)
@click.option(
    "--outcomes",
    metavar="DATASET",
    help="Outcomes that arrive (entity keys or request_id + label): the A/B test.",
)
@click.option("--label", help="The label column of --outcomes.")
@json_option
@click.pass_context
def start(
    ctx: click.Context,
    model: str,
    to_alias: str,
    deployment: str | None,
    url: str | None,
    steps: str,
    interval: float,
    min_requests: int | None,
    max_error_rate: float | None,
    max_p99_ms: float | None,
    max_p99_ratio: float | None,
    max_prediction_psi: float | None,
    max_holds: int | None,
    outcomes: str | None,
    label: str | None,
    as_json: bool,
) -> None:
    """Roll MODEL@ALIAS out on its running server, one line per decision; exits 1 unless
    the rollout completed (the alias moved)."""
    from mlops_lab.serving.rollout_analysis import RolloutBounds
    from mlops_lab.serving.rollout_plan import parse_steps, plan_rollout

    workspace = current_workspace(ctx)
    bounds = RolloutBounds.resolve(
        workspace.config.project,
        min_requests=min_requests,
        max_error_rate=max_error_rate,
        max_p99_ms=max_p99_ms,
        max_p99_ratio=max_p99_ratio,
        max_prediction_psi=max_prediction_psi,
        max_holds=max_holds,
    )
    shares = parse_steps(steps)
    rollout_id = plan_rollout(
        workspace,
        model,
        to_alias=to_alias,
        deployment=deployment,
        url=url,
        steps=shares,
        interval_s=interval,
        bounds=bounds,
        outcomes=outcomes,
        label=label,
    )
    _drive(ctx, rollout_id, as_json)


@rollout.command("drive", hidden=True)
@click.argument("rollout_id", metavar="ID")
@json_option
@click.pass_context
def drive(ctx: click.Context, rollout_id: str, as_json: bool) -> None:
    """Run a rollout already recorded (the Deployments view starts one this way)."""
    _drive(ctx, rollout_id, as_json)


def _drive(ctx: click.Context, rollout_id: str, as_json: bool) -> None:
    from mlops_lab.serving.rollout import RolloutController

    workspace = current_workspace(ctx)
    controller = RolloutController(
        workspace,
        rollout_id,
        report=lambda d: click.echo(
            json.dumps(d, default=str) if as_json else decision_line(d, len(controller.steps))
        ),
    )
    if not as_json:
        found = controller.rollout
        click.echo(
            f"rollout {rollout_id}: {found['model']} v{found['from_version']} -> "
            f"v{found['to_version']} on {found['deployment_id']} ({found['url']}), steps "
            + ", ".join(f"{s:.0%}" for s in controller.steps)
            + f", {found['interval_s']:g}s each"
        )
    ended = controller.run()
    if as_json:
        emit_json({k: v for k, v in ended.items() if k != "decisions"})
    else:
        click.echo(f"rollout {rollout_id}: {ended['state'].replace('_', ' ')}: {ended['reason']}")
    if ended["state"] != "completed":
        ctx.exit(1)


@rollout.command("status")
@click.argument("rollout_id", metavar="[ID]", required=False)
@click.option("--deployment", metavar="ID", help="Only this deployment's rollouts.")
@json_option
@click.pass_context
def status(
    ctx: click.Context, rollout_id: str | None, deployment: str | None, as_json: bool
) -> None:
    """One rollout with every decision and its numbers, or the latest rollouts."""
    from mlops_lab.serving.rollout_store import get_rollout, list_rollouts

    workspace = current_workspace(ctx)
    if rollout_id is None:
        found = list_rollouts(workspace, deployment_id=deployment)
        if as_json:
            emit_json({"rollouts": found})
            return
        print_table(
            ("id", "model", "versions", "deployment", "state", "split", "started"),
            [
                (
                    r["id"],
                    r["model"],
                    f"v{r['from_version']} -> v{r['to_version']}",
                    r["deployment_id"],
                    r["state"],
                    f"{r['split']:.0%}",
                    r["started_at"],
                )
                for r in found
            ],
        )
        return
    one = get_rollout(workspace, rollout_id)
    if as_json:
        emit_json(one)
        return
    alive = (
        ""
        if one["controller_alive"] or one["state"] not in ("running", "paused")
        else (" (its controller is gone: `mlops-lab rollout abort` rolls it back)")
    )
    click.echo(
        f"rollout {one['id']}: {one['model']}@{one['alias']} v{one['from_version']} -> "
        f"v{one['to_version']} ({one['model']}@{one['to_alias']}) on {one['deployment_id']}: "
        f"{one['state']} at {one['split']:.0%}{alive}"
    )
    for decision in one["decisions"]:
        click.echo(f"  {decision['decided_at']} " + decision_line(decision, len(one["steps"])))


def _act(action: str) -> click.Command:
    @click.command(action, help=f"Ask rollout ID's controller to {action} (within a second).")
    @click.argument("rollout_id", metavar="ID")
    @json_option
    @click.pass_context
    def act(ctx: click.Context, rollout_id: str, as_json: bool) -> None:
        from mlops_lab.serving.rollout_plan import control_rollout

        done = control_rollout(current_workspace(ctx), rollout_id, action)
        if as_json:
            emit_json(done)
        else:
            click.echo(
                f"rollout {rollout_id}: {action} requested by {done['by']} ({done['state']})"
            )

    return act


for _action in ("pause", "resume", "abort"):
    rollout.add_command(_act(_action))

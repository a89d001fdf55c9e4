"""Rollouts before and around their controller: the steps parsed, what would roll out
where checked and recorded (:func:`plan_rollout`), a rollout driven in a process of its
own (:func:`start_in_background`), and pause / resume / abort asked of its controller
(:func:`control_rollout`). The controller itself: :mod:`mlops_lab.serving.rollout`."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from typing import Any

from mlops_lab.errors import ConflictError, InvalidInputError, MlopsLabError, NotFoundError
from mlops_lab.models.lookup import get_model_version
from mlops_lab.serving.deployments import get_deployment, set_split
from mlops_lab.serving.rollout_analysis import RolloutBounds
from mlops_lab.serving.rollout_store import (
    controller_alive,
    create_rollout,
    get_rollout,
    record_decision,
    request_control,
    update_rollout,
)
from mlops_lab.workspace import Workspace

__all__ = [
    "DEFAULT_STEPS",
    "control_rollout",
    "parse_steps",
    "plan_rollout",
    "start_in_background",
]

DEFAULT_STEPS = (0.05, 0.25, 0.5, 1.0)


def parse_steps(steps: str | list[float]) -> list[float]:
    """``"5,25,50,100"`` or ``[5, 25, 50, 100]`` (percent) as shares, increasing and ending
    at 100%."""
    text = steps if isinstance(steps, str) else ",".join(map(str, steps))
    try:
        percents = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InvalidInputError(
            f"Steps are percentages separated by commas, e.g. 5,25,50,100; got {text!r}."
        ) from None
    if not percents or any(not 0 < p <= 100 for p in percents):
        raise InvalidInputError(f"Each step is a percentage in (0, 100]; got {text!r}.")
    if any(b <= a for a, b in itertools.pairwise(percents)) or percents[-1] != 100:
        raise InvalidInputError(
            f"Steps increase and end at 100 (the challenger takes all traffic before it "
            f"becomes the champion); got {text!r}."
        )
    return [p / 100 for p in percents]


def _deployment_for(
    workspace: Workspace, challenger: str, deployment: str | None, url: str | None
) -> dict[str, Any]:
    if deployment and url:
        raise InvalidInputError("Give --deployment or --url, not both.")
    if deployment:
        found = get_deployment(workspace, deployment)
    else:
        where, params = "status = 'running' AND challenger = ?", [challenger]
        if url:
            where, params = "status = 'running' AND url = ?", [url.rstrip("/")]
        ids = [
            r[0]
            for r in workspace.catalog.read(
                f"SELECT id FROM deployments WHERE {where} ORDER BY started_at DESC", params
            )
        ]
        if not ids:
            raise NotFoundError(
                f"No running deployment {'at ' + url if url else 'serves ' + challenger}: "
                f"start one with `mlops-lab serve NAME@champion --challenger {challenger}`."
            )
        if len(ids) > 1:
            raise InvalidInputError(
                f"{len(ids)} running deployments serve {challenger} ({', '.join(ids)}): "
                "say which with --deployment."
            )
        found = get_deployment(workspace, ids[0])
    if not found["alive"]:
        raise ConflictError(f"Deployment {found['id']} does not answer: {found.get('error')}.")
    if found["challenger"] != challenger:
        raise InvalidInputError(
            f"Deployment {found['id']} serves challenger {found['challenger'] or 'none'}, not "
            f"{challenger}: start it with `--challenger {challenger}`."
        )
    return found


def plan_rollout(
    workspace: Workspace,
    model: str,
    *,
    to_alias: str,
    deployment: str | None = None,
    url: str | None = None,
    steps: list[float] | None = None,
    interval_s: float = 60.0,
    bounds: RolloutBounds | None = None,
    outcomes: str | None = None,
    label: str | None = None,
) -> str:
    """Check what would roll out where, and record the rollout; returns its id."""
    if interval_s <= 0:
        raise InvalidInputError(f"The interval is a positive duration, got {interval_s!r}.")
    if bool(outcomes) != bool(label):
        raise InvalidInputError("The A/B test on outcomes needs both --outcomes and --label.")
    challenger = f"{model}@{to_alias}"
    found = _deployment_for(workspace, challenger, deployment, url)
    name, _, alias = str(found["ref"]).partition("@")
    if name != model or not alias:
        raise InvalidInputError(
            f"Deployment {found['id']} serves {found['ref']}: a rollout moves the alias its "
            f"champion follows, so serve {model}@champion (an alias, not a version)."
        )
    to_version = int(get_model_version(workspace, challenger).version or 0)
    from_version = int(get_model_version(workspace, found["ref"]).version or 0)
    if to_version == from_version:
        raise ConflictError(
            f"{challenger} and {found['ref']} are both version {to_version}: nothing to roll out."
        )
    chosen = bounds or RolloutBounds.resolve(workspace.config.project)
    return create_rollout(
        workspace,
        model=model,
        alias=alias,
        to_alias=to_alias,
        from_version=from_version,
        to_version=to_version,
        deployment_id=found["id"],
        url=found["url"],
        steps=steps or list(DEFAULT_STEPS),
        interval_s=interval_s,
        bounds=chosen.to_dict(),
        outcomes={"dataset": outcomes, "label": label} if outcomes and label else None,
    )


def control_rollout(
    workspace: Workspace, rollout_id: str, action: str, *, by: str | None = None
) -> dict[str, Any]:
    """Ask the rollout's controller to pause, resume or abort. An abort whose controller
    is gone rolls back here (split 0) and says so."""
    found = get_rollout(workspace, rollout_id)
    requested = request_control(workspace, rollout_id, action, by=by)
    if action != "abort" or controller_alive(found["host"], found["pid"]):
        return requested
    reason = f"aborted by {requested['by']} (its controller was gone)"
    try:
        set_split(workspace, found["deployment_id"], 0.0, reason=f"rollout {rollout_id}: abort")
        split = 0.0
    except MlopsLabError as exc:
        split, reason = float(found["split"]), f"{reason}; the split could not be set: {exc}"
    record_decision(
        workspace,
        rollout_id,
        step_index=int(found["step_index"]),
        split=split,
        decision="abort",
        reason=reason,
    )
    update_rollout(workspace, rollout_id, state="aborted", split=split, reason=reason, control=None)
    return {**requested, "state": "aborted"}


def start_in_background(
    workspace: Workspace,
    deployment_id: str,
    *,
    to_alias: str,
    steps: list[float] | None = None,
    interval_s: float = 60.0,
    limits: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Record a rollout of the deployment's challenger and drive it in a process of its
    own (``mlops-lab rollout drive ID``, its output in ``.mlops_lab/rollouts/ID.log``):
    it outlives the request, and the Jupyter server stays responsive."""
    found = get_deployment(workspace, deployment_id)
    model = str(found["ref"]).partition("@")[0]
    rollout_id = plan_rollout(
        workspace,
        model,
        to_alias=to_alias,
        deployment=deployment_id,
        steps=steps,
        interval_s=interval_s,
        bounds=RolloutBounds.resolve(workspace.config.project, **(limits or {})),
    )
    folder = workspace.state_dir / "rollouts"
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / f"{rollout_id}.log"
    command = [sys.executable, "-m", "mlops_lab", "--workspace", str(workspace.root)]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [*command, "rollout", "drive", rollout_id],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # not stopped with the Jupyter server's process group
        )
    update_rollout(workspace, rollout_id, pid=process.pid)
    threading.Thread(target=process.wait, daemon=True).start()  # reaped when it ends
    return {"rollout_id": rollout_id, "pid": process.pid, "log": str(log_path)}

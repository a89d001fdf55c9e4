"""Rollouts in the catalog: their state, their decisions, and requests to pause, resume or
abort them.

The controller (:mod:`mlops_lab.serving.rollout`) is the only writer of a rollout's
state and decisions. Anyone else (``mlops-lab rollout pause|resume|abort``, the
Deployments view) writes a *request* in ``control``; the controller polls for it
(reading the catalog only when its write counter moved) and acts within a fraction
of a second. A rollout whose controller is gone (its process ended on this host)
reads as ``controller_alive: false``; aborting it then rolls back directly.

States: ``running``, ``paused``, then one of ``completed`` (the alias moved),
``rolled_back`` (a step's analysis rolled it back), ``aborted`` (by a person) or
``failed`` (the controller stopped on an error; the split was set back to 0 when the
server answered).
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import socket
from typing import Any

from mlops_lab.catalog import iso_utc
from mlops_lab.errors import ConflictError, InvalidInputError, NotFoundError
from mlops_lab.workspace import Workspace

__all__ = [
    "ACTIONS",
    "FINISHED",
    "controller_alive",
    "create_rollout",
    "deployment_rollouts",
    "get_rollout",
    "list_rollouts",
    "record_decision",
    "request_control",
    "take_control",
    "update_rollout",
]

ACTIONS = ("pause", "resume", "abort")
FINISHED = ("completed", "rolled_back", "aborted", "failed")
_COLUMNS = (
    "id, model, alias, to_alias, from_version, to_version, deployment_id, url, steps, "
    "interval_s, bounds, outcomes, state, step_index, split, holds, control, control_by, "
    f"reason, host, pid, started_by, {iso_utc('started_at', 'started_at')}, "
    f"{iso_utc('updated_at', 'updated_at')}, {iso_utc('ended_at', 'ended_at')}"
)
_DECISION_COLUMNS = (
    "seq, step_index, split, decision, reason, analysis, "
    f"{iso_utc('window_start', 'window_start')}, {iso_utc('window_end', 'window_end')}, "
    f"{iso_utc('decided_at', 'decided_at')}"
)
_JSON = ("steps", "bounds", "outcomes")


def create_rollout(
    workspace: Workspace,
    *,
    model: str,
    alias: str,
    to_alias: str,
    from_version: int | None,
    to_version: int,
    deployment_id: str,
    url: str,
    steps: list[float],
    interval_s: float,
    bounds: dict[str, Any],
    outcomes: dict[str, str] | None,
) -> str:
    """Record a rollout about to run, refusing a second one on the same deployment."""
    rollout_id = f"ro{secrets.token_hex(5)}"

    def work(con: Any) -> None:
        for other, state, host, pid in con.execute(
            "SELECT id, state, host, pid FROM rollouts WHERE deployment_id = ? "
            "AND state IN ('running', 'paused')",
            [deployment_id],
        ).fetchall():
            if controller_alive(host, pid):
                raise ConflictError(
                    f"Rollout {other} is {state} on deployment {deployment_id}: abort it "
                    f"first (`mlops-lab rollout abort {other}`)."
                )
            con.execute(
                "UPDATE rollouts SET state = 'failed', reason = 'its controller went away', "
                "ended_at = now(), updated_at = now() WHERE id = ?",
                [other],
            )
        con.execute(
            "INSERT INTO rollouts (id, model, alias, to_alias, from_version, to_version, "
            "deployment_id, url, steps, interval_s, bounds, outcomes, host, pid, started_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                rollout_id,
                model,
                alias,
                to_alias,
                from_version,
                to_version,
                deployment_id,
                url,
                json.dumps(steps),
                interval_s,
                json.dumps(bounds),
                json.dumps(outcomes) if outcomes else None,
                socket.gethostname(),
                os.getpid(),
                getpass.getuser(),
            ],
        )

    workspace.catalog.transaction(work)
    return rollout_id


def update_rollout(workspace: Workspace, rollout_id: str, **values: Any) -> None:
    """Set columns of the rollout (the controller's own state); ``ended_at`` is set
    when the state becomes a finished one."""
    allowed = {"state", "step_index", "split", "holds", "reason", "control", "control_by", "pid"}
    unknown = set(values) - allowed
    if unknown:
        raise InvalidInputError(f"Not a rollout column: {', '.join(sorted(unknown))}.")
    sets = [f"{name} = ?" for name in values] + ["updated_at = now()"]
    if values.get("state") in FINISHED:
        sets.append("ended_at = now()")
    workspace.catalog.write(
        f"UPDATE rollouts SET {', '.join(sets)} WHERE id = ?", [*values.values(), rollout_id]
    )


def record_decision(
    workspace: Workspace,
    rollout_id: str,
    *,
    step_index: int,
    split: float,
    decision: str,
    reason: str,
    analysis: dict[str, Any] | None = None,
    window: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Append a decision (numbered in order) and return it as :func:`get_rollout` shows it."""

    def work(con: Any) -> int:
        row = con.execute(
            "SELECT coalesce(max(seq), 0) + 1 FROM rollout_decisions WHERE rollout_id = ?",
            [rollout_id],
        ).fetchone()
        seq = int(row[0])
        con.execute(
            "INSERT INTO rollout_decisions (rollout_id, seq, step_index, split, decision, "
            "reason, analysis, window_start, window_end) VALUES (?, ?, ?, ?, ?, ?, ?, "
            "to_timestamp(?), to_timestamp(?))",
            [
                rollout_id,
                seq,
                step_index,
                split,
                decision,
                reason,
                json.dumps(analysis, default=str) if analysis is not None else None,
                window[0] if window else None,
                window[1] if window else None,
            ],
        )
        return seq

    seq = workspace.catalog.transaction(work)
    return {
        "seq": seq,
        "step_index": step_index,
        "split": split,
        "decision": decision,
        "reason": reason,
        "analysis": analysis,
    }


def controller_alive(host: str, pid: int) -> bool:
    """Whether the controller process may still run (always True on another host)."""
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for name in _JSON:
        if row.get(name) is not None:
            row[name] = json.loads(row[name])
    active = row["state"] in ("running", "paused")
    row["controller_alive"] = active and controller_alive(row["host"], row["pid"])
    return row


def get_rollout(workspace: Workspace, rollout_id: str) -> dict[str, Any]:
    """The rollout with every decision, oldest first."""
    rows = workspace.catalog.read_dicts(
        f"SELECT {_COLUMNS} FROM rollouts WHERE id = ?", [rollout_id]
    )
    if not rows:
        raise NotFoundError(
            f"No rollout {rollout_id!r}. `mlops-lab rollout status` lists the recent ones."
        )
    decisions = workspace.catalog.read_dicts(
        f"SELECT {_DECISION_COLUMNS} FROM rollout_decisions WHERE rollout_id = ? ORDER BY seq",
        [rollout_id],
    )
    for decision in decisions:
        if decision["analysis"] is not None:
            decision["analysis"] = json.loads(decision["analysis"])
    return {**_decode(rows[0]), "decisions": decisions}


def list_rollouts(
    workspace: Workspace, *, deployment_id: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """The latest rollouts (of one deployment), newest first, without their decisions."""
    where, params = ("WHERE deployment_id = ?", [deployment_id]) if deployment_id else ("", [])
    rows = workspace.catalog.read_dicts(
        f"SELECT {_COLUMNS} FROM rollouts {where} ORDER BY started_at DESC LIMIT ?",
        [*params, limit],
    )
    return [_decode(row) for row in rows]


def deployment_rollouts(workspace: Workspace, deployment_id: str) -> dict[str, Any]:
    """A deployment's latest rollouts, and the newest one in full (``current``, with its
    decisions; None when it never had one): what the Deployments view shows."""
    found = list_rollouts(workspace, deployment_id=deployment_id, limit=10)
    current = get_rollout(workspace, found[0]["id"]) if found else None
    return {"deployment_id": deployment_id, "rollouts": found, "current": current}


def request_control(
    workspace: Workspace, rollout_id: str, action: str, *, by: str | None = None
) -> dict[str, Any]:
    """Ask the rollout's controller to ``pause``, ``resume`` or ``abort``; the request is
    refused when it cannot apply (a finished rollout, pausing a paused one)."""
    if action not in ACTIONS:
        raise InvalidInputError(f"A rollout action is one of {', '.join(ACTIONS)}, got {action!r}.")
    found = get_rollout(workspace, rollout_id)
    state = found["state"]
    if state in FINISHED:
        raise ConflictError(
            f"Rollout {rollout_id} is {state.replace('_', ' ')}: nothing to {action}."
        )
    if (action, state) in (("pause", "paused"), ("resume", "running")):
        raise ConflictError(f"Rollout {rollout_id} is already {state}.")
    who = by or getpass.getuser()
    update_rollout(workspace, rollout_id, control=action, control_by=who)
    return {
        "id": rollout_id,
        "requested": action,
        "by": who,
        "state": state,
        "controller_alive": found["controller_alive"],
    }


def take_control(workspace: Workspace, rollout_id: str) -> tuple[str, str] | None:
    """The pending request (action, by), cleared as it is read; None without one."""

    def work(con: Any) -> tuple[str, str] | None:
        row = con.execute(
            "SELECT control, control_by FROM rollouts WHERE id = ?", [rollout_id]
        ).fetchone()
        if not row or row[0] is None:
            return None
        con.execute("UPDATE rollouts SET control = NULL WHERE id = ?", [rollout_id])
        return str(row[0]), str(row[1] or "")

    return workspace.catalog.transaction(work)

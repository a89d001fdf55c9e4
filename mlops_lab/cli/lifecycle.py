"""``mlops-lab status --lifecycle``: the project and where it stands, in the terminal."""

from __future__ import annotations

from typing import Any

import click

from mlops_lab.cli._output import emit_json
from mlops_lab.lifecycle.state import lifecycle_state
from mlops_lab.workspace import Workspace

__all__ = ["show_lifecycle"]

_MARK = {"ok": "ok  ", "warn": "WARN", "bad": "BAD ", "idle": "-   "}


def _project_lines(project: dict[str, Any]) -> list[str]:
    if not project.get("defined"):
        return [
            "Project        not defined: add a project: section to mlops_lab.yaml "
            "(problem, objective, guardrails, serving, drift, owners)"
        ]
    objective = project["objective"]
    bounds = ", ".join(f"{k} {objective[k]}" for k in ("min", "max") if k in objective)
    lines = [
        f"Project        {project['problem']}",
        f"               {project['task']}"
        + (f" of {project['label']}" if project.get("label") else "")
        + (f" per {project['entity']}" if project.get("entity") else ""),
        f"Objective      {objective['metric']} ({bounds})",
    ]
    for rule in project.get("guardrails") or []:
        where = f" in every {rule['slice']}" if rule.get("slice") else ""
        bound = ", ".join(f"{k} {rule[k]}" for k in ("min", "max") if k in rule)
        lines.append(f"Guardrail      {rule['metric']} ({bound}){where}")
    gate = project.get("gate") or {}
    lines.append("Gate           " + ", ".join(f"{k} {v}" for k, v in gate.items()))
    if project.get("serving"):
        lines.append(
            "Serving SLO    " + ", ".join(f"{k} {v}" for k, v in project["serving"].items())
        )
    if project.get("owners"):
        lines.append(
            "Owners         " + ", ".join(f"{k}: {v}" for k, v in project["owners"].items())
        )
    return lines


def show_lifecycle(workspace: Workspace, *, as_json: bool) -> None:
    state = lifecycle_state(workspace)
    if as_json:
        emit_json(state)
        return
    for line in _project_lines(state["project"]):
        click.echo(line)
    for check in state["checks"]:
        met = {True: "met", False: "BROKEN", None: "not judged"}[check["met"]]
        value = f"{check['value']:.4g}" if check["value"] is not None else "-"
        worst = (
            f" (worst {check['slice']}={check['worst_slice']})" if check.get("worst_slice") else ""
        )
        click.echo(f"  {met:<10} {check['rule']}: {check['text']} = {value}{worst}")
    for step in state["steps"]:
        click.echo("")
        click.echo(f"[{_MARK[step['status']]}] {step['title']}: {step['summary']}")
        for item in step["items"]:
            click.echo(f"       {_MARK[item['status']]} {item['label']}  {item['detail']}")
    click.echo("")
    click.echo("Loops")
    for loop in state["loops"]:
        last = f", last {loop['last_at'][:19].replace('T', ' ')} UTC" if loop["last_at"] else ""
        click.echo(
            f"  {loop['from']:>7} -> {loop['to']:<7} {loop['label']}: "
            f"fired {loop['fired']} time(s){last}"
        )
    click.echo("")
    click.echo("Timeline (newest first)")
    for event in state["timeline"][:15]:
        click.echo(f"  {event['at'][:19].replace('T', ' ')}  {event['activity']}  {event['title']}")

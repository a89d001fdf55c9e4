"""Deployments: the model servers this workspace started, and what they report live.

``mlops-lab serve`` records itself when it starts listening and marks itself
stopped (with its prediction-log counts) when it shuts down. The Jupyter
server's Deployments view reads these rows and asks each running server for
``/metadata`` and ``/metrics`` (loopback HTTP, short timeouts), forwards
split changes to its ``/rollout``, and passes on its ``/metrics/history``
(the traffic per 10-second bucket over the last hour, kept by the model
server itself: :mod:`mlops_lab.serving.history`).

A deployment's ``error_rate`` is its 5xx rate (the server's failures); the
4xx rate (``client_error_rate``: requests the server rightly refused) is
reported beside it and judges nothing.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import urllib.error
import urllib.request
from typing import Any

from mlops_lab.catalog import iso_utc
from mlops_lab.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ServerUnreachableError,
)
from mlops_lab.serving.history import BUCKETS, error_counts, latency_quantile_ms
from mlops_lab.workspace import Workspace

__all__ = [
    "fetch_server",
    "get_deployment",
    "get_history",
    "list_deployments",
    "record_start",
    "record_stop",
    "set_split",
    "summarize_metrics",
]

_COLUMNS = (
    "id, ref, challenger, split, url, host, pid, log_folder, status, "
    f"{iso_utc('started_at', 'started_at')}, {iso_utc('stopped_at', 'stopped_at')}, counts"
)


def record_start(
    workspace: Workspace,
    *,
    ref: str,
    challenger: str | None,
    split: float,
    url: str,
    log_folder: str | None,
) -> str:
    deployment_id = f"dp{secrets.token_hex(5)}"
    workspace.catalog.write(
        "INSERT INTO deployments (id, ref, challenger, split, url, host, pid, log_folder) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [deployment_id, ref, challenger, split, url, socket.gethostname(), os.getpid(), log_folder],
    )
    return deployment_id


def record_stop(workspace: Workspace, deployment_id: str, counts: dict[str, int]) -> None:
    workspace.catalog.write(
        "UPDATE deployments SET status = 'stopped', stopped_at = now(), counts = ? WHERE id = ?",
        [json.dumps(counts), deployment_id],
    )


def fetch_server(url: str, *, body: dict[str, Any] | None = None, timeout: float = 1.0) -> Any:
    """GET a model server's route (POST ``body`` when given): JSON decoded, text as is. Its
    error answer becomes an InvalidInputError with its message; no answer, a
    ServerUnreachableError."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method="POST" if data else "GET",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode()
        try:
            message = json.loads(detail)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = detail[:500]
        raise InvalidInputError(message) from None
    except OSError as exc:
        raise ServerUnreachableError(f"The model server at {url} does not answer: {exc}.") from exc
    return json.loads(text) if text.startswith(("{", "[")) else text


def summarize_metrics(text: str) -> dict[str, Any]:
    """Requests by variant and status, errors by class (4xx, 5xx) and their rates, and
    latency quantiles from the Prometheus histogram."""
    requests: dict[str, dict[str, int]] = {}
    cumulative: dict[str, dict[float, int]] = {}
    for line in text.splitlines():
        found = re.match(r'mlops_lab_requests_total\{variant="(\w+)",status="(\d+)"\} (\d+)', line)
        if found:
            requests.setdefault(found[1], {})[found[2]] = int(found[3])
            continue
        found = re.match(
            r'mlops_lab_request_seconds_bucket\{variant="(\w+)",le="([^"]+)"\} (\d+)', line
        )
        if found and found[2] != "+Inf":
            cumulative.setdefault(found[1], {})[float(found[2])] = int(found[3])
    latency = {}
    for variant, counts in cumulative.items():
        total = sum(requests.get(variant, {}).values())
        ordered = [counts.get(bound, 0) for bound in BUCKETS]
        latency[variant] = {
            f"p{int(q * 100)}_ms": latency_quantile_ms(ordered, total, q) for q in (0.5, 0.99)
        }
    return {
        "requests": requests,
        "errors": {variant: error_counts(statuses) for variant, statuses in requests.items()},
        "latency": latency,
    }


def _live(row: dict[str, Any]) -> dict[str, Any]:
    if row["status"] != "running":
        return {"alive": False}
    try:
        metadata = fetch_server(row["url"] + "/metadata")
        metrics = summarize_metrics(fetch_server(row["url"] + "/metrics"))
    except (ServerUnreachableError, InvalidInputError) as exc:
        return {"alive": False, "error": str(exc)}
    return {"alive": True, "metadata": metadata, "metrics": metrics}


def list_deployments(
    workspace: Workspace, *, include_stopped: bool = False
) -> list[dict[str, Any]]:
    where = "" if include_stopped else "WHERE status = 'running'"
    rows = workspace.catalog.read_dicts(
        f"SELECT {_COLUMNS} FROM deployments {where} ORDER BY started_at DESC LIMIT 50"
    )
    return [
        {**row, "counts": json.loads(row["counts"]) if row["counts"] else None, **_live(row)}
        for row in rows
    ]


def _row(workspace: Workspace, deployment_id: str) -> dict[str, Any]:
    rows = workspace.catalog.read_dicts(
        f"SELECT {_COLUMNS} FROM deployments WHERE id = ?", [deployment_id]
    )
    if not rows:
        raise NotFoundError(f"No deployment {deployment_id!r}.")
    return rows[0]


def get_deployment(workspace: Workspace, deployment_id: str) -> dict[str, Any]:
    row = _row(workspace, deployment_id)
    return {**row, "counts": json.loads(row["counts"]) if row["counts"] else None, **_live(row)}


def set_split(
    workspace: Workspace, deployment_id: str, split: float, *, reason: str
) -> dict[str, Any]:
    found = get_deployment(workspace, deployment_id)
    if not found["alive"]:
        raise ConflictError(f"Deployment {deployment_id} is not running.")
    if split == 0:
        change = fetch_server(found["url"] + "/rollback", body={"reason": reason or "rollback"})
    else:
        change = fetch_server(found["url"] + "/rollout", body={"split": split, "reason": reason})
    workspace.catalog.write("UPDATE deployments SET split = ? WHERE id = ?", [split, deployment_id])
    return dict(change)


def get_history(workspace: Workspace, deployment_id: str) -> dict[str, Any]:
    """A running deployment's traffic per bucket (its ``/metrics/history``)."""
    found = _row(workspace, deployment_id)
    if found["status"] != "running":
        raise ConflictError(
            f"Deployment {deployment_id} is stopped: its history went with its process."
        )
    try:
        history = fetch_server(found["url"] + "/metrics/history")
    except InvalidInputError:  # an older server, without the route
        raise ServerUnreachableError(
            f"The model server at {found['url']} keeps no history: restart it with this "
            "version of mlops-lab."
        ) from None
    return {"deployment_id": deployment_id, **history}

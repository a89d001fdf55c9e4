"""Alerts in the catalog: raised once per rule, then updated; acknowledged or closed by someone.

An alert asks a pipeline to retrain (``mlops-lab ct`` acts on active ones),
except the kinds in :data:`NOT_RETRAINED`: a serving SLO breach (``slo``: the
server is slow or failing) is not answered by a new model, so it is shown and
closed by a person, never by a run.
Its ``dedup_key`` names the rule that raised it: the kind, the pipeline and
the subject (a model, a dataset, a feature view, a metric). While an alert with
that key is *active* (``open`` or ``acknowledged``), raising it again updates
that row (``occurrences``, ``last_seen_at``, the latest message and numbers)
instead of opening another. Once it is ``closed`` (by a person, or by the run
that retrained), the next occurrence opens a new alert.

Statuses: ``open`` -> ``acknowledged`` (seen; still active, still retrains)
-> ``closed``. Who and why are kept for both steps.

Used by the evaluation store (drift, metrics), the feature store's
consistency check and the pipelines (``ct``), hence this low layer.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import duckdb

from mlops_lab.catalog import iso_utc
from mlops_lab.errors import ConflictError, InvalidInputError, NotFoundError

__all__ = [
    "ACTIVE",
    "ALERT_COLUMNS",
    "NOT_RETRAINED",
    "alert_key",
    "alert_row",
    "check_reason",
    "raise_alert",
    "set_alert_state",
]

ACTIVE = ("open", "acknowledged")
# Kinds of alert a retrain does not answer (mlops_lab.serving.slo_watch: latency, 5xx).
NOT_RETRAINED = ("slo",)
_ACTIONS = {"acknowledge": "acknowledged", "close": "closed"}
MAX_REASON = 4096


def alert_key(kind: str, pipeline: str, *subject: Any) -> str:
    """The rule an alert stands for: same key, same alert while it is active."""
    return json.dumps([kind, pipeline, *[str(s) for s in subject]])


def raise_alert(
    con: duckdb.DuckDBPyConnection,
    *,
    pipeline: str,
    kind: str,
    message: str,
    data: dict[str, Any],
    key: str | None = None,
) -> str:
    """Open an alert, or update the active one with the same ``key``; its id either way."""
    key = key or alert_key(kind, pipeline)
    placeholders = ", ".join("?" for _ in ACTIVE)
    found = con.execute(
        f"SELECT id FROM alerts WHERE dedup_key = ? AND status IN ({placeholders}) "
        "ORDER BY created_at DESC LIMIT 1",
        [key, *ACTIVE],
    ).fetchall()
    payload = json.dumps(data, default=str)
    if found:
        alert_id = str(found[0][0])
        con.execute(
            "UPDATE alerts SET occurrences = coalesce(occurrences, 1) + 1, "
            "last_seen_at = current_timestamp, message = ?, data = ? WHERE id = ?",
            [message, payload, alert_id],
        )
        return alert_id
    alert_id = f"a{secrets.token_hex(6)}"
    con.execute(
        "INSERT INTO alerts (id, pipeline, kind, message, data, dedup_key, occurrences, "
        "last_seen_at) VALUES (?, ?, ?, ?, ?, ?, 1, current_timestamp)",
        [alert_id, pipeline, kind, message, payload, key],
    )
    return alert_id


def check_reason(reason: str, by: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInputError("Say why (a reason): it is kept with the alert for others.")
    if len(reason) > MAX_REASON:
        raise InvalidInputError(f"The reason is longer than {MAX_REASON} characters.")
    if not (by or "").strip():
        raise InvalidInputError("Say who acts (by).")
    return reason


def set_alert_state(
    con: duckdb.DuckDBPyConnection, alert_id: str, *, action: str, reason: str, by: str
) -> None:
    """``acknowledge`` (an open alert) or ``close`` (an open or acknowledged one)."""
    if action not in _ACTIONS:
        raise InvalidInputError(f"Unknown action {action!r}: use acknowledge or close.")
    reason = check_reason(reason, by)
    rows = con.execute("SELECT status FROM alerts WHERE id = ?", [alert_id]).fetchall()
    if not rows:
        raise NotFoundError(f"No alert {alert_id!r}. List them with `mlops-lab alerts list`.")
    status = rows[0][0]
    if status == "closed":
        raise ConflictError(f"Alert {alert_id} is already closed.")
    if action == "acknowledge":
        if status == "acknowledged":
            raise ConflictError(f"Alert {alert_id} is already acknowledged.")
        con.execute(
            "UPDATE alerts SET status = 'acknowledged', acknowledged_at = current_timestamp, "
            "acknowledged_by = ?, acknowledge_reason = ? WHERE id = ?",
            [by, reason, alert_id],
        )
    else:
        con.execute(
            "UPDATE alerts SET status = 'closed', closed_at = current_timestamp, "
            "closed_by = ?, close_reason = ? WHERE id = ?",
            [by, reason, alert_id],
        )


def alert_row(con: duckdb.DuckDBPyConnection, alert_id: str) -> dict[str, Any]:
    """One alert as listed (see :data:`ALERT_COLUMNS`)."""
    cursor = con.execute(f"SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?", [alert_id])
    names = [d[0] for d in cursor.description or ()]
    rows = cursor.fetchall()
    if not rows:
        raise NotFoundError(f"No alert {alert_id!r}. List them with `mlops-lab alerts list`.")
    row = dict(zip(names, rows[0], strict=True))
    if isinstance(row.get("data"), str):
        row["data"] = json.loads(row["data"])
    return row


ALERT_COLUMNS = ", ".join(
    [
        "id, pipeline, kind, message, status, data",
        iso_utc("created_at", "created_at"),
        "coalesce(occurrences, 1) AS occurrences",
        iso_utc("coalesce(last_seen_at, created_at)", "last_seen_at"),
        iso_utc("acknowledged_at", "acknowledged_at"),
        "acknowledged_by, acknowledge_reason",
        iso_utc("closed_at", "closed_at"),
        "closed_by, close_reason, closed_by_run",
    ]
)

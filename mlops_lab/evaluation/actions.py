"""What a person does with an alert or an A/B test: acknowledge it, close it, with a reason.

Who and why are recorded in the catalog with the row (see :mod:`mlops_lab.alerts`
for the alert's statuses). An A/B test is ``active`` until closed (archived).
"""

from __future__ import annotations

import getpass
from typing import Any

import duckdb

from mlops_lab.alerts import alert_row, check_reason, set_alert_state
from mlops_lab.errors import ConflictError, NotFoundError
from mlops_lab.evaluation.store import get_ab_test
from mlops_lab.workspace import Workspace

__all__ = ["acknowledge_alert", "close_ab_test", "close_alert", "get_alert"]


def get_alert(workspace: Workspace, alert_id: str) -> dict[str, Any]:
    return workspace.catalog.transaction(lambda con: alert_row(con, alert_id), write=False)


def _act(
    workspace: Workspace, alert_id: str, action: str, reason: str, by: str | None
) -> dict[str, Any]:
    who = by or getpass.getuser()

    def work(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        set_alert_state(con, alert_id, action=action, reason=reason, by=who)
        return alert_row(con, alert_id)

    return workspace.catalog.transaction(work)


def acknowledge_alert(
    workspace: Workspace, alert_id: str, *, reason: str, by: str | None = None
) -> dict[str, Any]:
    """Mark an open alert as seen (it stays active: ``ct`` still retrains on it)."""
    return _act(workspace, alert_id, "acknowledge", reason, by)


def close_alert(
    workspace: Workspace, alert_id: str, *, reason: str, by: str | None = None
) -> dict[str, Any]:
    """Close an open or acknowledged alert: ``ct`` no longer acts on it."""
    return _act(workspace, alert_id, "close", reason, by)


def close_ab_test(
    workspace: Workspace, test_id: str, *, reason: str, by: str | None = None
) -> dict[str, Any]:
    """Close (archive) an A/B test: kept, listed as closed, with who and why."""
    who = by or getpass.getuser()
    reason = check_reason(reason, who)

    def work(con: duckdb.DuckDBPyConnection) -> None:
        rows = con.execute(
            "SELECT coalesce(status, 'active') FROM ab_tests WHERE id = ?", [test_id]
        ).fetchall()
        if not rows:
            raise NotFoundError(f"No A/B test {test_id!r}. List them with GET /ab-tests.")
        if rows[0][0] == "closed":
            raise ConflictError(f"A/B test {test_id} is already closed.")
        con.execute(
            "UPDATE ab_tests SET status = 'closed', closed_at = current_timestamp, "
            "closed_by = ?, close_reason = ? WHERE id = ?",
            [who, reason, test_id],
        )

    workspace.catalog.transaction(work)
    return get_ab_test(workspace, test_id)

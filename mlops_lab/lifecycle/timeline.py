"""The lifecycle's loops back (how often each fired, when last) and its event timeline.

The loops, each read from what the catalog records:

- ``retrain`` (monitor -> train): CT runs started because of open alerts (``mlops-lab ct``
  records "open alert(s): ..." as the run's reason, and the run closes those alerts);
  ``learned`` says what the newest one trained on that was new (the served requests with
  outcomes appended to its training frame, see :func:`new_training_data`);
- ``new_data`` (data -> train): CT runs started by new versions of their input datasets
  and no alert;
- ``gate_held`` (train -> data): gate decisions that kept the champion (the challenger was
  no better, or broke the objective or a guardrail): back to data and features;
- ``objective_missed`` (monitor -> define): alerts raised because the live model broke the
  project's objective or a guardrail: the project's goal or its data needs rethinking;
- ``rolled_back`` (deploy -> train): progressive rollouts that rolled back on their own
  (the challenger broke a bound on live traffic): the model goes back to training.

The timeline joins runs (CI when ``mlops-lab ci`` started them, CT otherwise), gate
decisions (CT), alias moves, deployments and rollouts with each of their decisions (CD),
drift checks and alerts opened and closed
(CM), newest first.
"""

from __future__ import annotations

from typing import Any

from mlops_lab.catalog import iso_utc
from mlops_lab.serving.served_rows import new_training_data
from mlops_lab.workspace import Workspace

__all__ = ["LOOPS", "loops", "timeline"]

MAX_EVENTS = 50

# id, from, to, label
LOOPS: tuple[tuple[str, str, str, str], ...] = (
    ("retrain", "monitor", "train", "Alert -> retrain (CT)"),
    ("new_data", "data", "train", "New data -> rerun (CT)"),
    ("gate_held", "train", "data", "Gate held -> more data or features"),
    ("objective_missed", "monitor", "define", "Live model misses the project's rules"),
    ("rolled_back", "deploy", "train", "Rollout rolled back -> back to training"),
)

_ALERT_CT = "reason LIKE 'open alert%' OR id IN (SELECT closed_by_run FROM alerts)"
_QUERIES = {
    "retrain": (
        f"SELECT id, {iso_utc('started_at', 'at')} FROM runs WHERE trigger = 'ct' "
        f"AND ({_ALERT_CT}) ORDER BY started_at DESC",
        "run",
    ),
    "new_data": (
        f"SELECT id, {iso_utc('started_at', 'at')} FROM runs WHERE trigger = 'ct' "
        f"AND NOT ({_ALERT_CT}) ORDER BY started_at DESC",
        "run",
    ),
    "gate_held": (
        f"SELECT id, {iso_utc('created_at', 'at')} FROM comparisons WHERE decision <> 'promote' "
        "ORDER BY created_at DESC",
        "comparison",
    ),
    "objective_missed": (
        f"SELECT id, {iso_utc('created_at', 'at')} FROM alerts "
        "WHERE kind IN ('objective', 'guardrail') ORDER BY created_at DESC",
        "alert",
    ),
    "rolled_back": (
        f"SELECT deployment_id AS id, {iso_utc('ended_at', 'at')} FROM rollouts "
        "WHERE state = 'rolled_back' ORDER BY ended_at DESC",
        "deployment",
    ),
}


def loops(workspace: Workspace) -> list[dict[str, Any]]:
    out = []
    for loop_id, source, target, label in LOOPS:
        sql, kind = _QUERIES[loop_id]
        rows = workspace.catalog.read_dicts(sql)
        loop: dict[str, Any] = {
            "id": loop_id,
            "from": source,
            "to": target,
            "label": label,
            "fired": len(rows),
            "last_at": rows[0]["at"] if rows else None,
            "link": {"kind": kind, "id": rows[0]["id"]} if rows else None,
        }
        if kind == "run" and rows:  # what the newest retraining learnt that was new
            loop["learned"] = new_training_data(workspace, rows[0]["id"])
        out.append(loop)
    return out


_EVENTS = f"""
SELECT * FROM (
  SELECT {iso_utc("started_at", "event_at")},
         CASE WHEN trigger = 'ci' THEN 'CI' ELSE 'CT' END AS activity, 'run' AS kind,
         'run ' || coalesce(pipeline, kind) || ' (' || trigger || '): ' || status AS title,
         reason AS detail, 'run' AS link_kind, id AS link_id, NULL AS link_version
  FROM runs WHERE kind = 'pipeline'
  UNION ALL
  SELECT {iso_utc("created_at", "event_at")}, 'CT', 'gate',
         'gate ' || model || '/' || candidate || ' vs /' || baseline || ': ' || decision,
         reason, 'comparison', id, NULL
  FROM comparisons
  UNION ALL
  SELECT {iso_utc("changed_at", "event_at")}, 'CD', 'promotion',
         name || '@' || alias || ' -> version ' || to_version
           || coalesce(' (was ' || from_version || ')', ''),
         reason || ' · by ' || changed_by, 'model', name, to_version
  FROM alias_history
  UNION ALL
  SELECT {iso_utc("started_at", "event_at")}, 'CD', 'deployment',
         'serving ' || ref || coalesce(' + ' || challenger || ' at '
           || CAST(round(split * 100) AS INTEGER) || '%', ''),
         url, 'deployment', id, NULL
  FROM deployments
  UNION ALL
  SELECT {iso_utc("stopped_at", "event_at")}, 'CD', 'deployment',
         'stopped ' || ref, url, 'deployment', id, NULL
  FROM deployments WHERE stopped_at IS NOT NULL
  UNION ALL
  SELECT {iso_utc("started_at", "event_at")}, 'CD', 'rollout',
         'rollout ' || model || '@' || alias || ' -> ' || to_alias || ' (version '
           || to_version || ') in steps ' || array_to_string(
             list_transform(CAST(steps AS DOUBLE[]), lambda s: CAST(round(s * 100) AS INTEGER)),
             ', ') || '%',
         url, 'deployment', deployment_id, NULL
  FROM rollouts
  UNION ALL
  SELECT {iso_utc("d.decided_at", "event_at")}, 'CD', 'rollout_decision',
         'rollout ' || r.model || '@' || r.alias || CASE
           WHEN d.decision IN ('continue', 'hold', 'rollback')
           THEN ' at ' || CAST(round(d.split * 100) AS INTEGER) || '%' ELSE '' END
           || ': ' || d.decision,
         d.reason, 'deployment', r.deployment_id, NULL
  FROM rollout_decisions d JOIN rollouts r ON r.id = d.rollout_id
  UNION ALL
  SELECT {iso_utc("created_at", "event_at")}, 'CM', 'drift',
         'drift check ' || current || ' vs ' || reference || ': ' || verdict,
         CAST(round(drifted_share * 100) AS INTEGER) || '% of columns drifted', 'drift', id, NULL
  FROM drift_reports
  UNION ALL
  SELECT {iso_utc("created_at", "event_at")}, 'CM', 'alert_opened', kind || ' alert opened',
         message, 'alert', id, NULL
  FROM alerts
  UNION ALL
  SELECT {iso_utc("closed_at", "event_at")}, 'CM', 'alert_closed', kind || ' alert closed',
         coalesce(close_reason, '') || coalesce(' · by ' || closed_by, ''), 'alert', id, NULL
  FROM alerts WHERE closed_at IS NOT NULL
) ORDER BY event_at DESC LIMIT {MAX_EVENTS}
"""


def timeline(workspace: Workspace) -> list[dict[str, Any]]:
    """CI/CD/CT/CM events, newest first (at most ``MAX_EVENTS``)."""
    events = []
    for row in workspace.catalog.read_dicts(_EVENTS):
        link: dict[str, Any] = {"kind": row["link_kind"], "id": row["link_id"]}
        if row["link_version"] is not None:
            link["version"] = row["link_version"]
        events.append(
            {
                "at": row["event_at"],
                "activity": row["activity"],
                "kind": row["kind"],
                "title": row["title"],
                "detail": row["detail"] or "",
                "link": link,
            }
        )
    return events

"""Where the project stands in the ML lifecycle, read from the catalog in one pass.

:func:`lifecycle_state` is what ``mlops-lab status --lifecycle`` prints and
``GET /mlops-lab/api/lifecycle`` answers: the project definition, the state of each step
after *define* (data, train, deploy and monitor), the champion's checks against the
objective and guardrails, the loops back (how often each fired and when last), and a
timeline of CI/CD/CT/CM events, newest first, each linking to its item.

Statuses: ``ok``, ``warn`` (needs a look), ``bad`` (a rule of the project is broken),
``idle`` (nothing there yet).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from mlops_lab.catalog import iso_utc
from mlops_lab.datachecks import summaries
from mlops_lab.errors import ArtifactCorruptError, ArtifactNotFoundError
from mlops_lab.features.streams import stream_status
from mlops_lab.lifecycle.definition import read_project
from mlops_lab.lifecycle.timeline import LOOPS, loops, timeline
from mlops_lab.project import rule_checks
from mlops_lab.serving.slo_watch import latest_slo_checks
from mlops_lab.workspace import Workspace

__all__ = ["LOOPS", "lifecycle_state"]

MAX_ITEMS = 8


def _age(at: str | None, now: datetime) -> str:
    if not at:
        return ""
    seconds = (now - datetime.fromisoformat(at)).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return "just now"


def _worst(statuses: list[str]) -> str:
    for status in ("bad", "warn", "ok"):
        if status in statuses:
            return status
    return "idle"


def _data_step(workspace: Workspace, now: datetime) -> dict[str, Any]:
    rows = workspace.catalog.read_dicts(
        "SELECT name, version, row_count, run_id, "
        f"{iso_utc('created_at', 'created_at')} FROM dataset_versions d "
        "WHERE version = (SELECT max(version) FROM dataset_versions e WHERE e.name = d.name) "
        "ORDER BY created_at DESC"
    )
    shown = rows[:MAX_ITEMS]
    checked = summaries(workspace.catalog, [(r["name"], r["version"]) for r in shown])
    items = []
    for r in shown:
        checks = checked.get((r["name"], r["version"]))
        items.append(
            {
                "label": f"{r['name']}@{r['version']}",
                "detail": f"{r['row_count']:,} rows · {_age(r['created_at'], now)}"
                + _checks_text(checks),
                "status": "bad" if checks and checks["failed"] else "ok",
                "at": r["created_at"],
                "link": {"kind": "dataset", "id": r["name"], "version": r["version"]},
            }
        )
    for stream in stream_status(workspace):
        running = stream["consumers_running"]
        status = "warn" if stream["last_error"] or not running else "ok"
        fresh = stream["freshness_ms"]
        detail = (
            f"{stream['applied']:,} events · {running} consumer(s) · "
            f"{stream['rate']:.0f}/s · lag {stream['lag'] if stream['lag'] is not None else '-'}"
            + (f" · fresh {fresh:.0f} ms" if fresh is not None else "")
            + (f" · {stream['dead_letters']} dead letters" if stream["dead_letters"] else "")
        )
        items.append(
            {
                "label": f"stream {stream['view']}",
                "detail": detail + (f" · {stream['last_error']}" if stream["last_error"] else ""),
                "status": status,
                "at": stream["last_event_at"],
                "link": {"kind": "feature_view", "id": stream["view"]},
            }
        )
    newest = rows[0] if rows else None
    summary = (
        f"{len(rows)} dataset(s); newest {newest['name']}@{newest['version']} "
        f"{_age(newest['created_at'], now)}"
        if newest
        else "no dataset yet"
    )
    return {
        "id": "data",
        "title": "Collect and prepare data",
        "status": _worst([i["status"] for i in items]),
        "summary": summary,
        "items": items,
    }


def _checks_text(checks: dict[str, Any] | None) -> str:
    """A version's declared data checks, as the data step says them."""
    if checks is None:
        return ""
    total = checks["passed"] + checks["failed"]
    if not checks["failed"]:
        return f" · {total} data check(s) pass"
    return f" · {checks['failed']} of {total} data check(s) fail: " + ", ".join(checks["failing"])


def _evaluation_checks(workspace: Workspace, name: str, version: int) -> list[dict[str, Any]]:
    """The project's rules judged on the newest evaluation of ``name/version``."""
    project = workspace.config.project
    if project is None:
        return []
    rows = workspace.catalog.read_dicts(
        "SELECT id, dataset, dataset_version, metrics, details_artifact FROM evaluations "
        "WHERE model = ? AND version = ? ORDER BY created_at DESC LIMIT 1",
        [name, version],
    )
    if not rows:
        return []
    row = rows[0]
    slices: list[dict[str, Any]] = []
    if row["details_artifact"]:
        try:
            details = json.loads(workspace.artifacts.get_bytes(row["details_artifact"]))
            slices = details.get("slice_metrics") or []
        except (ArtifactNotFoundError, ArtifactCorruptError):
            slices = []
    metrics = json.loads(row["metrics"]) if isinstance(row["metrics"], str) else row["metrics"]
    subject = f"{name}/{version} on {row['dataset']}@{row['dataset_version']}"
    checks = rule_checks(project.rules, metrics or {}, slices, subject=subject)
    for check in checks:
        check["evaluation"] = row["id"]
    return checks


def _train_step(workspace: Workspace, now: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    versions = workspace.catalog.read_dicts(
        "SELECT v.name, v.version, "
        f"{iso_utc('v.created_at', 'created_at')}, "
        "list(a.alias ORDER BY a.alias) FILTER (WHERE a.alias IS NOT NULL) AS aliases "
        "FROM model_versions v LEFT JOIN model_aliases a "
        "ON a.name = v.name AND a.version = v.version "
        "GROUP BY v.name, v.version, v.created_at ORDER BY v.created_at DESC"
    )
    items: list[dict[str, Any]] = []
    champion_checks: list[dict[str, Any]] = []
    shown: set[tuple[str, int]] = set()
    latest_by_name: dict[str, dict[str, Any]] = {}
    for row in versions:
        latest_by_name.setdefault(row["name"], row)
    picked = [r for r in versions if "champion" in (r["aliases"] or [])]
    picked += list(latest_by_name.values())
    for row in picked:
        key = (row["name"], row["version"])
        if key in shown or len(items) >= MAX_ITEMS:
            continue
        shown.add(key)
        checks = _evaluation_checks(workspace, row["name"], row["version"])
        if "champion" in (row["aliases"] or []):
            champion_checks.extend(checks)
        broken = [c for c in checks if c["met"] is False]
        aliases = ", ".join(row["aliases"] or []) or "no alias"
        judged = (
            f" · {len(checks) - len(broken)}/{len(checks)} rules met"
            if checks
            else (" · not evaluated" if workspace.config.project else "")
        )
        items.append(
            {
                "label": f"{row['name']}/{row['version']}",
                "detail": f"{aliases} · {_age(row['created_at'], now)}{judged}",
                "status": "bad" if broken else "ok",
                "at": row["created_at"],
                "checks": checks,
                "link": {"kind": "model", "id": row["name"], "version": row["version"]},
            }
        )
    gate = workspace.catalog.read_dicts(
        "SELECT id, model, baseline, candidate, decision, reason, "
        f"{iso_utc('created_at', 'created_at')} FROM comparisons "
        "ORDER BY created_at DESC LIMIT 1"
    )
    if gate:
        g = gate[0]
        items.append(
            {
                "label": f"gate: {g['model']}/{g['candidate']} vs /{g['baseline']}",
                "detail": f"{g['decision']} · {g['reason']}",
                "status": "ok" if g["decision"] == "promote" else "warn",
                "at": g["created_at"],
                "link": {"kind": "comparison", "id": g["id"], "model": g["model"]},
            }
        )
    champions = [i for i in items if "champion" in i["detail"].split(" · ")[0]]
    summary = (
        "; ".join(
            f"champion {i['label']}"
            + (" breaks the project's rules" if i["status"] == "bad" else "")
            for i in champions
        )
        if champions
        else ("no champion yet" if versions else "no model yet")
    )
    step = {
        "id": "train",
        "title": "Train and iterate",
        "status": _worst([i["status"] for i in items]),
        "summary": summary,
        "items": items,
    }
    return step, champion_checks


def _deploy_step(workspace: Workspace, now: datetime) -> dict[str, Any]:
    rows = workspace.catalog.read_dicts(
        "SELECT id, ref, challenger, split, url, status, "
        f"{iso_utc('started_at', 'started_at')}, {iso_utc('stopped_at', 'stopped_at')} "
        "FROM deployments ORDER BY (status = 'running') DESC, started_at DESC LIMIT ?",
        [MAX_ITEMS],
    )
    slo = workspace.catalog.read_dicts(
        "SELECT id, message, data FROM alerts WHERE kind = 'slo' "
        "AND status IN ('open', 'acknowledged')"
    )
    checked = {c.get("deployment_id"): c for c in reversed(latest_slo_checks(workspace))}
    items = []
    for row in rows:
        breaches = [
            a
            for a in slo
            if (json.loads(a["data"] or "{}") or {}).get("deployment_id") == row["id"]
        ]
        running = row["status"] == "running"
        split = f" · {row['challenger']} at {row['split']:.0%}" if row["challenger"] else ""
        when = _age(row["started_at"] if running else row["stopped_at"], now)
        slo_text = _slo_text(checked.get(row["id"]), bool(breaches), running, now)
        items.append(
            {
                "label": row["ref"],
                "detail": " · ".join(
                    p for p in (f"{row['status']} {when}{split}", row["url"], slo_text) if p
                ),
                "status": "bad" if breaches else ("ok" if running else "idle"),
                "at": row["started_at"],
                "link": {"kind": "deployment", "id": row["id"]},
            }
        )
    running = [i for i in items if i["status"] != "idle"]
    return {
        "id": "deploy",
        "title": "Deploy",
        "status": _worst([i["status"] for i in running]),
        "summary": (
            f"{len(running)} serving: " + ", ".join(i["label"] for i in running)
            if running
            else "nothing serving"
        ),
        "items": items,
    }


def _slo_text(check: dict[str, Any] | None, breached: bool, running: bool, now: datetime) -> str:
    """The deployment's SLO as the last ``mlops-lab slo`` check saw it."""
    if check is None:
        return "SLO breached (open alert)" if breached else ("SLO not checked" if running else "")
    overall = (check.get("stats") or {}).get("all") or {}
    numbers = []
    if overall.get("p99_ms") is not None:
        numbers.append(f"p99 {overall['p99_ms']:.1f} ms")
    if overall.get("error_rate") is not None:
        numbers.append(f"errors {overall['error_rate']:.2%}")
    status = check.get("status", "unknown")
    status = "breached" if status == "breach" else status
    if breached and status != "breached":
        status += ", an alert is open"
    return (
        f"SLO {status}"
        + (f" ({', '.join(numbers)})" if numbers else "")
        + f", checked {_age(check.get('checked_at'), now)}"
    )


def _monitor_step(workspace: Workspace, now: datetime) -> dict[str, Any]:
    items = []
    drift = workspace.catalog.read_dicts(
        "SELECT id, reference, current, drifted_share, verdict, settings, "
        f"{iso_utc('created_at', 'created_at')} FROM drift_reports "
        "ORDER BY created_at DESC LIMIT 1"
    )
    if drift:
        d = drift[0]
        limit = (json.loads(d["settings"] or "{}") or {}).get("max_drifted_share")
        over = limit is not None and d["drifted_share"] > limit
        items.append(
            {
                "label": f"drift: {d['current']} vs {d['reference']}",
                "detail": f"{d['drifted_share']:.0%} of columns drifted"
                + (f" (max {limit:.0%})" if limit is not None else "")
                + f" · {_age(d['created_at'], now)}",
                "status": "warn" if over or d["verdict"] != "ok" else "ok",
                "at": d["created_at"],
                "link": {"kind": "drift", "id": d["id"]},
            }
        )
    alerts = workspace.catalog.read_dicts(
        "SELECT id, kind, message, status, data, "
        f"{iso_utc('created_at', 'created_at')} FROM alerts "
        "WHERE status IN ('open', 'acknowledged') ORDER BY created_at DESC"
    )
    for alert in alerts[:MAX_ITEMS]:
        rule = (json.loads(alert["data"] or "{}") or {}).get("rule")
        items.append(
            {
                "label": f"{alert['kind']} alert ({alert['status']})",
                "detail": alert["message"] + (f" · rule {rule}" if rule else ""),
                "status": "bad",
                "at": alert["created_at"],
                "rule": rule,
                "link": {"kind": "alert", "id": alert["id"]},
            }
        )
    return {
        "id": "monitor",
        "title": "Monitor",
        "status": _worst([i["status"] for i in items]),
        "summary": f"{len(alerts)} open alert(s)" if alerts else "no open alert",
        "items": items,
    }


def lifecycle_state(workspace: Workspace) -> dict[str, Any]:
    """The project, the steps, the champion's checks, the loops and the timeline."""
    now = datetime.now(UTC)
    train, checks = _train_step(workspace, now)
    return {
        "generated_at": now.isoformat().replace("+00:00", "Z"),
        "project": read_project(workspace),
        "steps": [
            _data_step(workspace, now),
            train,
            _deploy_step(workspace, now),
            _monitor_step(workspace, now),
        ],
        "checks": checks,
        "loops": loops(workspace),
        "timeline": timeline(workspace),
    }

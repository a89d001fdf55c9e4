"""Online/offline consistency, measured from what the model servers actually served.

Each logged prediction carries the online feature values it used (``online``:
``view@version:feature`` -> value) and the time they were computed as of
(``features_at``). :func:`check_consistency` recomputes those features offline,
with a training frame of the same view version at the same times, and counts
the values that differ: a number is a mismatch when it differs by more than
1e-9 (relative) from the offline one, anything else when it is not equal; a
null is only equal to a null. Expected: 0. A mismatch means the two stores
disagree (a late event not materialized yet, a stale online store, a bug), so
each report is stored (table ``feature_consistency``) and any mismatch opens an
alert.
"""

from __future__ import annotations

import json
import math
import secrets
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from mlops_lab.errors import InvalidInputError
from mlops_lab.features.queries import get_entity, get_view
from mlops_lab.features.training import get_training_frame
from mlops_lab.serving.predlog import read_predictions
from mlops_lab.workspace import Workspace

__all__ = ["check_consistency", "consistency_reports", "values_match"]

_EXAMPLES = 5
_REL = 1e-9


def values_match(online: Any, offline: Any) -> bool:
    """The comparison rule of the module doc."""
    missing = [v is None or (isinstance(v, float) and math.isnan(v)) for v in (online, offline)]
    if any(missing):
        return all(missing)
    if isinstance(online, int | float) and not isinstance(online, bool):
        try:
            return math.isclose(float(online), float(offline), rel_tol=_REL, abs_tol=_REL)
        except (TypeError, ValueError):
            return False
    return bool(online == offline) or str(online) == str(offline)


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def check_consistency(
    workspace: Workspace,
    view: str,
    *,
    since: datetime | None = None,
    limit: int = 100_000,
    alert_pipeline: str | None = None,
    save: bool = True,
) -> dict[str, Any]:
    """Recompute the served values of ``view`` offline as of their logged times; report the
    mismatch rate per feature with examples (stored, and an alert when any is found)."""
    definition = get_view(workspace, view)  # an unknown view is a clear error
    if not 1 <= limit <= 10_000_000:
        raise InvalidInputError("limit must be between 1 and 10,000,000.")
    keys = list(get_entity(workspace, definition.entity).join_keys)
    logged = read_predictions(
        workspace.state_dir / "predictions", since=since.timestamp() if since else None
    )
    prefix = f"{view}@"
    rows: list[tuple[int, dict[str, Any], datetime, dict[str, Any]]] = []
    if len(logged) and "online" in logged.columns:
        for entity, served, at in zip(
            logged.entity, logged.online, logged.features_at, strict=True
        ):
            if served is None or at is None or pd.isna(at) or prefix not in served:
                continue
            values = {k: v for k, v in json.loads(served).items() if k.startswith(prefix)}
            version = int(next(iter(values)).split("@", 1)[1].split(":", 1)[0])
            rows.append((version, json.loads(entity), at, values))
            if len(rows) >= limit:
                break
    features: dict[str, dict[str, Any]] = {}
    for version in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == version and all(k in r[1] for k in keys)]
        if not mine:
            continue
        names = sorted({k.split(":", 1)[1] for r in mine for k in r[3]})
        frame = pd.DataFrame([{k: r[1][k] for k in keys} for r in mine])
        frame["event_timestamp"] = pd.to_datetime([r[2] for r in mine], utc=True)
        offline = get_training_frame(
            workspace, frame, [f"{view}@{version}:{n}" for n in names], timestamp="event_timestamp"
        )
        for name in names:
            entry = features.setdefault(
                name, {"feature": name, "checked": 0, "mismatches": 0, "examples": []}
            )
            column = offline[name] if name in offline.columns else offline[f"{view}__{name}"]
            for r, expected in zip(mine, column.tolist(), strict=True):
                key = f"{view}@{version}:{name}"
                if key not in r[3]:  # this request did not read this feature
                    continue
                served_value = r[3][key]
                entry["checked"] += 1
                if values_match(served_value, expected):
                    continue
                entry["mismatches"] += 1
                if len(entry["examples"]) < _EXAMPLES:
                    entry["examples"].append(
                        {
                            "entity": r[1],
                            "as_of": pd.Timestamp(r[2]).isoformat(),
                            "version": version,
                            "online": _plain(served_value),
                            "offline": _plain(expected),
                        }
                    )
    for entry in features.values():
        entry["rate"] = entry["mismatches"] / entry["checked"] if entry["checked"] else 0.0
    mismatches = sum(e["mismatches"] for e in features.values())
    report: dict[str, Any] = {
        "view": view,
        "since": since.isoformat() if since else None,
        "rows_checked": len(rows),
        "versions": sorted({r[0] for r in rows}),
        "mismatches": mismatches,
        "features": sorted(features.values(), key=lambda e: e["feature"]),
        "verdict": "no data" if not rows else ("consistent" if not mismatches else "mismatch"),
        "created_at": datetime.now(UTC).isoformat(),
    }
    if save:
        report["id"] = _save(workspace, report, definition.run_id, alert_pipeline)
    return report


def _save(
    workspace: Workspace, report: dict[str, Any], run_id: str | None, pipeline: str | None
) -> str:
    from mlops_lab.pipelines.triggers import open_alert

    report_id = f"fc{secrets.token_hex(6)}"
    if report["mismatches"]:
        if pipeline is None and run_id:
            value = workspace.catalog.read_value("SELECT pipeline FROM runs WHERE id = ?", [run_id])
            pipeline = str(value) if value else None
        worst = max(report["features"], key=lambda e: e["rate"])
        report["alert"] = open_alert(
            workspace.catalog,
            pipeline=pipeline or f"features:{report['view']}",
            kind="consistency",
            message=(
                f"Feature view {report['view']!r}: {report['mismatches']} served value(s) differ "
                f"from the offline store (worst: {worst['feature']}, "
                f"{worst['rate']:.1%} of {worst['checked']})."
            ),
            data={"report": report_id, "view": report["view"]},
            subject=(report["view"],),
        )
    workspace.catalog.write(
        "INSERT INTO feature_consistency (id, view, since, rows_checked, mismatches, report) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            report_id,
            report["view"],
            report["since"],
            report["rows_checked"],
            report["mismatches"],
            json.dumps(report, default=str),
        ],
    )
    return report_id


def consistency_reports(
    workspace: Workspace, view: str, *, limit: int = 20
) -> list[dict[str, Any]]:
    """The latest stored reports of ``view``, newest first."""
    rows = workspace.catalog.read(
        "SELECT id, report, created_at FROM feature_consistency WHERE view = ? "
        "ORDER BY created_at DESC LIMIT ?",
        [view, limit],
    )
    out = []
    for report_id, text, created in rows:
        report = json.loads(text)
        report["id"] = report_id
        report["created_at"] = created.isoformat()
        out.append(report)
    return out

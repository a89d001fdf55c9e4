"""Why a pipeline should run again: CI (code changed) and CT (new data, or an open alert).

Each decision names its reason, which the run records next to its trigger.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mlops_lab.alerts import NOT_RETRAINED, alert_key, raise_alert
from mlops_lab.catalog import Catalog
from mlops_lab.datasets import get_dataset_version
from mlops_lab.errors import NotFoundError
from mlops_lab.pipelines.spec import PipelineSpec
from mlops_lab.workspace import Workspace

__all__ = ["Decision", "ci_decision", "close_alerts", "ct_decision", "open_alert", "open_alerts"]


@dataclass(frozen=True, kw_only=True)
class Decision:
    pipeline: str
    trigger: str
    run: bool
    reason: str
    force_stages: frozenset[str] = frozenset()
    alerts: tuple[str, ...] = ()
    since_run: str | None = None  # the last successful run the decision compared with
    decided_at: Any = None  # the catalog's time before deciding (set by service.decide)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "trigger": self.trigger,
            "run": self.run,
            "reason": self.reason,
            "force_stages": sorted(self.force_stages),
            "alerts": list(self.alerts),
            "since_run": self.since_run,
        }


def _last_success(catalog: Catalog, pipeline: str) -> tuple[str, dict[str, dict[str, Any]]] | None:
    rows = catalog.read(
        "SELECT id FROM runs WHERE pipeline = ? AND kind = 'pipeline' AND status = 'succeeded' "
        "ORDER BY started_at DESC LIMIT 1",
        [pipeline],
    )
    if not rows:
        return None
    run_id = rows[0][0]
    stages = {
        stage: {"source_hash": source, "inputs": json.loads(inputs) if inputs else {}}
        for stage, source, inputs in catalog.read(
            "SELECT stage, source_hash, inputs FROM stage_runs WHERE run_id = ?", [run_id]
        )
    }
    return run_id, stages


def ci_decision(workspace: Workspace, pipeline: PipelineSpec) -> Decision:
    """Rerun stages whose code changed since the last successful run, and their downstream."""
    last = _last_success(workspace.catalog, pipeline.name)
    if last is None:
        return Decision(
            pipeline=pipeline.name,
            trigger="ci",
            run=True,
            reason="no successful run of this pipeline yet",
            force_stages=frozenset(s.name for s in pipeline.stages),
        )
    run_id, before = last
    changed = [
        s.name
        for s in pipeline.stages
        if s.name not in before or before[s.name]["source_hash"] != s.source_hash
    ]
    if not changed:
        return Decision(
            pipeline=pipeline.name,
            trigger="ci",
            run=False,
            reason=f"no stage's code changed since run {run_id}",
            since_run=run_id,
        )
    force: set[str] = set()
    for name in changed:
        force |= pipeline.downstream(name)
    return Decision(
        pipeline=pipeline.name,
        trigger="ci",
        run=True,
        reason=f"code changed since run {run_id}: {', '.join(changed)}",
        force_stages=frozenset(force),
        since_run=run_id,
    )


def open_alerts(catalog: Catalog, pipeline: str) -> list[dict[str, Any]]:
    """The active alerts a retrain of ``pipeline`` answers (not the serving SLO's:
    :data:`~mlops_lab.alerts.NOT_RETRAINED`)."""
    skipped = ", ".join("?" for _ in NOT_RETRAINED)
    return catalog.read_dicts(
        "SELECT id, kind, message, created_at FROM alerts WHERE pipeline = ? "
        f"AND status IN ('open', 'acknowledged') AND kind NOT IN ({skipped}) "
        "ORDER BY created_at",
        [pipeline, *NOT_RETRAINED],
    )


def ct_decision(workspace: Workspace, pipeline: PipelineSpec) -> Decision:
    """Rerun on a new version of a declared input dataset, or an alert naming the pipeline."""
    reasons: list[str] = []
    alerts = open_alerts(workspace.catalog, pipeline.name)
    if alerts:
        reasons.append(
            "open alert(s): " + "; ".join(f"{a['kind']}: {a['message']}" for a in alerts)
        )
    last = _last_success(workspace.catalog, pipeline.name)
    if last is None:
        reasons.append("no successful run of this pipeline yet")
    seen = last[1] if last else {}
    for stage in pipeline.stages:
        used = seen.get(stage.name, {}).get("inputs", {})
        declared = (*stage.inputs.get("datasets", ()), *stage.inputs.get("optional_datasets", ()))
        for name in declared:
            try:
                latest = get_dataset_version(workspace, name)
            except NotFoundError:
                continue
            if last is not None and used.get(f"dataset:{name}") != latest.artifact_hash:
                reasons.append(f"dataset {name} has a new version ({latest.version})")
    if not reasons:
        why = "no new input data and no open alert"
        return Decision(pipeline=pipeline.name, trigger="ct", run=False, reason=why)
    force = frozenset(s.name for s in pipeline.stages) if alerts else frozenset()
    return Decision(
        pipeline=pipeline.name,
        trigger="ct",
        run=True,
        reason="; ".join(dict.fromkeys(reasons)),
        force_stages=force,
        alerts=tuple(a["id"] for a in alerts),
    )


def open_alert(
    catalog: Catalog,
    *,
    pipeline: str,
    kind: str,
    message: str,
    data: dict[str, Any] | None = None,
    subject: tuple[Any, ...] = (),
) -> str:
    """Ask ``pipeline`` to retrain (the monitoring side calls this): a new alert, or the
    active one for the same rule updated (see :mod:`mlops_lab.alerts`)."""
    return catalog.transaction(
        lambda con: raise_alert(
            con,
            pipeline=pipeline,
            kind=kind,
            message=message,
            data=data or {},
            key=alert_key(kind, pipeline, *subject),
        )
    )


def close_alerts(
    catalog: Catalog, alert_ids: tuple[str, ...], run_id: str, *, seen_before: Any = None
) -> None:
    """Close the alerts a successful run answered (open or acknowledged ones).

    With ``seen_before`` (a catalog timestamp taken when the run was decided), an alert
    raised again since (its rule still broken while, or after, the run trained: e.g. the
    monitor still sees drift) stays open: the run did not answer it."""
    for alert_id in alert_ids:
        catalog.write(
            "UPDATE alerts SET status = 'closed', closed_at = current_timestamp, "
            "closed_by_run = ?, closed_by = coalesce(closed_by, 'run ' || ?), "
            "close_reason = coalesce(close_reason, 'retrained') "
            "WHERE id = ? AND status IN ('open', 'acknowledged') "
            "AND (CAST(? AS TIMESTAMPTZ) IS NULL OR last_seen_at IS NULL "
            "OR last_seen_at <= CAST(? AS TIMESTAMPTZ))",
            [run_id, run_id, alert_id, seen_before, seen_before],
        )

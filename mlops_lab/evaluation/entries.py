"""How a run's evaluation-store entries are committed (see :mod:`mlops_lab.manifest`).

Computing happens in the notebook; the rows (and any alert they open) are
written in the run's commit: in a stage, with everything else the stage
produced, so model versions and dataset versions saved in the same stage
are numbered by then. A gate that promotes its candidate records a ``promotion``
entry after its ``comparison`` (applied by :mod:`mlops_lab.models.entries`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

import duckdb

from mlops_lab.alerts import alert_key, raise_alert
from mlops_lab.artifacts import register_artifact
from mlops_lab.evaluation.store import evaluation_from_row, evaluation_id, find_evaluation
from mlops_lab.lineage import add_edge
from mlops_lab.manifest import CommitState, register

__all__ = ["open_alert_in"]


def _dataset_ref(state: CommitState, ref: dict[str, Any]) -> tuple[str, int]:
    return ref["name"], state.dataset_version(ref["name"], ref.get("version"))


def _pipeline(con: duckdb.DuckDBPyConnection, state: CommitState, named: str | None) -> str | None:
    if named:
        return named
    rows = con.execute("SELECT pipeline FROM runs WHERE id = ?", [state.run_id]).fetchall()
    return rows[0][0] if rows and rows[0][0] else None


def open_alert_in(
    con: duckdb.DuckDBPyConnection,
    *,
    pipeline: str,
    kind: str,
    message: str,
    data: dict[str, Any],
    subject: tuple[Any, ...] = (),
) -> str:
    """Ask ``pipeline`` to retrain (read by ``mlops-lab ct``): a new alert, or the active one
    for the same rule (``kind``, ``pipeline``, ``subject``) updated."""
    return raise_alert(
        con,
        pipeline=pipeline,
        kind=kind,
        message=message,
        data=data,
        key=alert_key(kind, pipeline, *subject),
    )


@register("evaluation")
def _evaluation_entry(
    con: duckdb.DuckDBPyConnection, state: CommitState, entry: dict[str, Any]
) -> None:
    model = entry["model"]
    version = state.model_version(model, entry.get("version"))
    dataset, dataset_version = _dataset_ref(state, entry["dataset"])
    eid = evaluation_id(
        model, version, dataset, dataset_version, entry["task"], entry["label"], entry["slices"]
    )
    existing = find_evaluation(con, eid)
    if existing is None:
        register_artifact(
            con,
            entry["details_hash"],
            size=entry["details_size"],
            media_type="application/json",
            run_id=state.run_id,
        )
        con.execute(
            "INSERT INTO evaluations (id, model, version, dataset, dataset_version, task, label, "
            "row_count, metrics, slices, details_artifact, run_id, stage) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                eid,
                model,
                version,
                dataset,
                dataset_version,
                entry["task"],
                entry["label"],
                entry["rows"],
                json.dumps(entry["metrics"]),
                json.dumps(entry["slices"]),
                entry["details_hash"],
                state.run_id,
                state.stage,
            ],
        )
        add_edge(con, "model_version", f"{model}/{version}", "evaluation", eid)
        add_edge(con, "dataset_version", f"{dataset}@{dataset_version}", "evaluation", eid)
        existing = find_evaluation(con, eid)
    assert existing is not None
    evaluation = evaluation_from_row(existing, entry.get("details"))
    crossed = _crossed(entry["metrics"], entry.get("thresholds") or {})
    pipeline = _pipeline(con, state, entry.get("pipeline")) if crossed else None
    if crossed and pipeline:
        open_alert_in(
            con,
            pipeline=pipeline,
            kind="metric",
            message=f"{model}/{version} on {dataset}@{dataset_version}: " + "; ".join(crossed),
            data={"evaluation": eid, "crossed": crossed, "rule": "thresholds"},
            subject=(
                model,
                dataset,
                *sorted(_crossed_names(entry["metrics"], entry["thresholds"])),
            ),
        )
    _project_alerts(con, state, entry, eid, f"{model}/{version}", f"{dataset}@{dataset_version}")
    state.created.append(evaluation)


def _model_pipeline(con: duckdb.DuckDBPyConnection, model: str) -> str | None:
    """The pipeline of the run that registered ``model`` ("name/version")."""
    name, version = model.rsplit("/", 1)
    rows = con.execute(
        "SELECT r.pipeline FROM model_versions v JOIN runs r ON r.id = v.run_id "
        "WHERE v.name = ? AND v.version = ?",
        [name, int(version)],
    ).fetchall()
    return rows[0][0] if rows and rows[0][0] else None


def _project_alerts(
    con: duckdb.DuckDBPyConnection,
    state: CommitState,
    entry: dict[str, Any],
    eid: str,
    model: str,
    dataset: str,
) -> None:
    """An alert per rule of the project definition the live model breaks on this data:
    kind ``objective`` (the objective) or ``guardrail``; ``data.rule`` names the rule."""
    broken = [c for c in entry.get("project_checks") or [] if c.get("met") is False]
    if not broken:
        return
    pipeline = (
        _pipeline(con, state, entry.get("pipeline")) or _model_pipeline(con, model) or "manual"
    )
    for check in broken:
        kind = "objective" if check["rule"] == "project.objective" else "guardrail"
        worst = f" ({check['slice']}={check['worst_slice']})" if check.get("slice") else ""
        open_alert_in(
            con,
            pipeline=pipeline,
            kind=kind,
            message=(
                f"{model} on {dataset} misses {check['rule']}: {check['text']}, "
                f"measured {check['value']:.4g}{worst}"
            ),
            data={"rule": check["rule"], "evaluation": eid, "check": check},
            subject=(model.split("/")[0], check["rule"]),
        )


def _crossed_names(metrics: dict[str, Any], thresholds: dict[str, dict[str, float]]) -> list[str]:
    return [name for name in thresholds if _crossed(metrics, {name: thresholds[name]})]


def _crossed(metrics: dict[str, Any], thresholds: dict[str, dict[str, float]]) -> list[str]:
    crossed = []
    for name, bounds in thresholds.items():
        value = metrics.get(name)
        if value is None:
            continue
        if "min" in bounds and value < bounds["min"]:
            crossed.append(f"{name} {value:.4g} < {bounds['min']}")
        if "max" in bounds and value > bounds["max"]:
            crossed.append(f"{name} {value:.4g} > {bounds['max']}")
    return crossed


@register("comparison")
def _comparison(con: duckdb.DuckDBPyConnection, state: CommitState, entry: dict[str, Any]) -> None:
    """A gate's decision; one that promotes is followed by its own ``promotion`` entry."""
    model = entry["model"]
    baseline = state.model_version(model, entry["baseline"])
    candidate = state.model_version(model, entry["candidate"])
    dataset, dataset_version = _dataset_ref(state, entry["dataset"])
    cid = entry.get("id") or f"c{secrets.token_hex(6)}"
    result = {
        **entry["result"],
        "min_improvement": entry["min_improvement"],
        "rule": entry.get("rule"),
        "checks": entry.get("checks") or [],
    }
    con.execute(
        "INSERT INTO comparisons (id, model, baseline, candidate, dataset, dataset_version, "
        "metric, result, decision, reason, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            cid,
            model,
            baseline,
            candidate,
            dataset,
            dataset_version,
            entry["metric"],
            json.dumps(result),
            entry["decision"],
            entry["reason"],
            state.run_id,
        ],
    )
    state.created.append(
        {
            "id": cid,
            "model": model,
            "baseline": baseline,
            "candidate": candidate,
            "dataset": dataset,
            "dataset_version": dataset_version,
            "metric": entry["metric"],
            "decision": entry["decision"],
            "reason": entry["reason"],
            "promoted": None,
            **result,
        }
    )


@register("drift_report")
def _drift(con: duckdb.DuckDBPyConnection, state: CommitState, entry: dict[str, Any]) -> None:
    reference = "{}@{}".format(*_dataset_ref(state, entry["reference"]))
    current = "{}@{}".format(*_dataset_ref(state, entry["current"]))
    model = entry.get("model")
    if isinstance(model, dict):
        model = f"{model['name']}/{state.model_version(model['name'], model.get('version'))}"
    register_artifact(
        con,
        entry["report_hash"],
        size=entry["report_size"],
        media_type="application/json",
        run_id=state.run_id,
    )
    if entry.get("profile"):
        profile = entry["profile"]
        register_artifact(
            con,
            profile["hash"],
            size=profile["size"],
            media_type="application/x-npz",
            run_id=state.run_id,
        )
        con.execute(
            "INSERT INTO drift_profiles (dataset_hash, columns_key, profile_artifact) "
            "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [profile["dataset_hash"], profile["columns_key"], profile["hash"]],
        )
    settings = dict(entry["settings"])
    alert_id = None
    if entry["alert"]:
        pipeline = _pipeline(con, state, entry.get("pipeline"))
        if pipeline:
            alert_id = open_alert_in(
                con,
                pipeline=pipeline,
                kind="drift",
                message=f"{current} drifted from {reference}: {entry['alert']}",
                data={
                    "drifted": entry["drifted"],
                    "share": entry["drifted_share"],
                    "rule": settings.get("max_drifted_share_from", "argument"),
                },
                subject=(
                    str(model).split("/")[0] if model else "",
                    reference.split("@")[0],
                    current.split("@")[0],
                ),
            )
        else:
            settings["alert_skipped"] = "no pipeline to retrain: pass pipeline='NAME'"
    rid = f"d{secrets.token_hex(6)}"
    con.execute(
        "INSERT INTO drift_reports (id, reference, current, model, columns_checked, drifted, "
        "drifted_share, verdict, report_artifact, settings, alert_id, run_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            rid,
            reference,
            current,
            model,
            entry["columns_checked"],
            json.dumps(entry["drifted"]),
            entry["drifted_share"],
            entry["verdict"],
            entry["report_hash"],
            json.dumps(settings),
            alert_id,
            state.run_id,
        ],
    )
    add_edge(con, "dataset_version", reference, "drift_report", rid)
    add_edge(con, "dataset_version", current, "drift_report", rid)
    state.created.append(
        {
            "id": rid,
            "reference": reference,
            "current": current,
            "model": model,
            "alert_id": alert_id,
            "settings": settings,
        }
    )


def ab_test_id(name: str, dataset: str, dataset_version: int, entry: dict[str, Any]) -> str:
    """A/B tests are idempotent per data version and question: a rerun finds the stored one."""
    result = entry["result"]
    key = [
        name,
        dataset,
        dataset_version,
        entry["variant_column"],
        entry["outcome"],
        result["kind"],
        result["control"],
        result.get("confidence"),
    ]
    return "t" + hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]


@register("ab_test")
def _ab_test(con: duckdb.DuckDBPyConnection, state: CommitState, entry: dict[str, Any]) -> None:
    dataset, dataset_version = _dataset_ref(state, entry["dataset"])
    tid = ab_test_id(entry["name"], dataset, dataset_version, entry)
    stored = con.execute("SELECT result, status FROM ab_tests WHERE id = ?", [tid]).fetchall()
    result = json.loads(stored[0][0]) if stored else entry["result"]
    if not stored:
        con.execute(
            "INSERT INTO ab_tests (id, name, dataset, dataset_version, variant_column, outcome, "
            "kind, control, result, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                tid,
                entry["name"],
                dataset,
                dataset_version,
                entry["variant_column"],
                entry["outcome"],
                result["kind"],
                result["control"],
                json.dumps(result),
                state.run_id,
            ],
        )
    state.created.append(
        {
            "id": tid,
            "name": entry["name"],
            "dataset": dataset,
            "dataset_version": dataset_version,
            "status": stored[0][1] if stored else "active",
            "existing": bool(stored),
            **result,
        }
    )

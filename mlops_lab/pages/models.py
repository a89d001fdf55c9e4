"""The model store as the panels browse it: pages of models and versions, with their metrics.

Each call is one read transaction, so a page costs one catalog session.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from mlops_lab.catalog import iso_utc
from mlops_lab.models.bundles import list_bundles
from mlops_lab.models.lookup import get_model_version, raise_unknown_model
from mlops_lab.models.version import VERSION_COLUMNS, version_from_row
from mlops_lab.workspace import Workspace

__all__ = ["HEADLINE_METRICS", "list_models_page", "model_detail", "version_detail"]

# The metric a model's row shows: the first its latest evaluation has.
HEADLINE_METRICS = ("roc_auc", "accuracy", "r2", "rmse", "mae")


def _headline(metrics: dict[str, Any]) -> tuple[str, Any] | None:
    for name in HEADLINE_METRICS:
        if metrics.get(name) is not None:
            return name, metrics[name]
    return None


def list_models_page(
    workspace: Workspace, *, query: str | None = None, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    """Models whose name, description or tags contain ``query``, newest activity first."""
    like = f"%{_escape(query)}%" if query else None

    def read(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        where = (
            "WHERE m.name ILIKE ? ESCAPE '\\' OR m.description ILIKE ? ESCAPE '\\' "
            "OR EXISTS (SELECT 1 FROM model_versions t WHERE t.name = m.name AND "
            "(t.tags::VARCHAR ILIKE ? ESCAPE '\\' OR t.description ILIKE ? ESCAPE '\\'))"
            if like
            else ""
        )
        params = [like] * 4 if like else []
        total = con.execute(f"SELECT count(*) FROM models m {where}", params).fetchall()[0][0]
        rows = con.execute(
            "WITH v AS (SELECT name, max(version) AS latest, count(*) AS versions, "
            "max(created_at) AS updated_at FROM model_versions GROUP BY name) "
            f"SELECT m.name, m.description, v.latest, v.versions, {iso_utc('v.updated_at')}, "
            "(SELECT list(a.alias || '=' || a.version ORDER BY a.alias) FROM model_aliases a "
            " WHERE a.name = m.name), "
            "(SELECT list([e.metrics::VARCHAR, e.version::VARCHAR, "
            "  e.dataset || '@' || e.dataset_version] ORDER BY e.created_at DESC)[1] "
            " FROM evaluations e WHERE e.model = m.name) "
            f"FROM models m JOIN v ON v.name = m.name {where} "
            "ORDER BY v.updated_at DESC, m.name LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        models = []
        for name, description, latest, versions, updated, aliases, evaluation in rows:
            headline = None
            if evaluation:
                found = _headline(json.loads(evaluation[0]))
                if found:
                    metric, value = found
                    headline = {
                        "metric": metric,
                        "value": value,
                        "version": int(evaluation[1]),
                        "dataset": evaluation[2],
                    }
            models.append(
                {
                    "name": name,
                    "description": description,
                    "latest": int(latest),
                    "versions": int(versions),
                    "updated_at": updated,
                    "aliases": _aliases(aliases),
                    "headline": headline,
                }
            )
        return {"models": models, "total": int(total), "limit": limit, "offset": offset}

    return workspace.catalog.transaction(read, write=False)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _aliases(listed: list[str] | None) -> dict[str, int]:
    pairs = (item.rsplit("=", 1) for item in listed or [])
    return {alias: int(version) for alias, version in pairs}


def model_detail(
    workspace: Workspace, name: str, *, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    """A model's versions (newest first, paged), aliases, alias history and latest metrics."""

    def read(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        found = con.execute("SELECT description FROM models WHERE name = ?", [name]).fetchall()
        if not found:
            raise_unknown_model(con, name)
        aliases = dict(
            con.execute(
                "SELECT alias, version FROM model_aliases WHERE name = ? ORDER BY alias", [name]
            ).fetchall()
        )
        total = con.execute(
            "SELECT count(*) FROM model_versions WHERE name = ?", [name]
        ).fetchall()[0][0]
        rows = con.execute(
            f"SELECT {VERSION_COLUMNS} FROM model_versions WHERE name = ? ORDER BY version DESC "
            "LIMIT ? OFFSET ?",
            [name, limit, offset],
        ).fetchall()
        metrics = {
            int(v): (json.loads(m), f"{d}@{dv}")
            for v, m, d, dv in con.execute(
                "SELECT version, arg_max(metrics, created_at), arg_max(dataset, created_at), "
                "arg_max(dataset_version, created_at) FROM evaluations WHERE model = ? "
                "GROUP BY version",
                [name],
            ).fetchall()
        }
        history = con.execute(
            "SELECT alias, from_version, to_version, changed_by, reason, "
            f"{iso_utc('changed_at')} FROM alias_history WHERE name = ? "
            "ORDER BY changed_at DESC",
            [name],
        ).fetchall()
        by_version: dict[int, list[str]] = {}
        for alias, version in aliases.items():
            by_version.setdefault(int(version), []).append(alias)
        versions = []
        for row in rows:
            version = version_from_row(row, tuple(by_version.get(int(row[1]), ())))
            evaluated = metrics.get(int(row[1]))
            versions.append(
                {
                    "version": version.version,
                    "flavor": version.flavor,
                    "trusted": version.trusted,
                    "created_at": version.created_at.isoformat(),
                    "aliases": list(version.aliases),
                    "description": version.description,
                    "tags": version.tags,
                    "run_id": version.run_id,
                    "stage": version.stage,
                    "metrics": evaluated[0] if evaluated else {},
                    "evaluated_on": evaluated[1] if evaluated else None,
                }
            )
        keys = ("alias", "from_version", "to_version", "changed_by", "reason", "changed_at")
        return {
            "name": name,
            "description": found[0][0],
            "aliases": aliases,
            "total": int(total),
            "limit": limit,
            "offset": offset,
            "versions": versions,
            "history": [dict(zip(keys, h, strict=True)) for h in history],
        }

    return workspace.catalog.transaction(read, write=False)


def version_detail(workspace: Workspace, name: str, version: int) -> dict[str, Any]:
    """One version with its signature, lineage (run, notebook, data, features) and evaluations."""
    from mlops_lab.evaluation.store import list_evaluations  # loads scikit-learn: on first use

    found = get_model_version(workspace, f"{name}/{version}")
    detail = found.to_dict()
    runs = workspace.catalog.read_dicts(
        "SELECT id, pipeline, status FROM runs WHERE id = ?", [found.run_id or ""]
    )
    detail["run"] = runs[0] if runs else None
    evaluations, _ = list_evaluations(workspace, model=name, limit=1000)
    detail["evaluations"] = [e for e in evaluations if e["version"] == version]
    detail["bundles"] = list_bundles(workspace, name, version)
    return detail

"""Registering model versions: store the blob, then number the versions and record their lineage.

Reading them back by reference is :mod:`mlops_lab.models.lookup`; the record
itself is :class:`mlops_lab.models.version.ModelVersion`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, cast

import duckdb
import pandas as pd

from mlops_lab.artifacts import register_artifact
from mlops_lab.catalog.journal import Memo, Recorder
from mlops_lab.datasets import validate_name
from mlops_lab.lineage import add_edges
from mlops_lab.models.formats import dump_model
from mlops_lab.models.signature import infer_signature
from mlops_lab.models.version import VERSION_COLUMNS, ModelVersion, version_from_row
from mlops_lab.workspace import Workspace

__all__ = [
    "VersionSpec",
    "insert_versions",
    "latest_version",
    "prepare_version",
    "register_model",
    "register_versions",
]


@dataclass(frozen=True, kw_only=True)
class VersionSpec:
    """What one new model version records (its blob is already stored)."""

    name: str
    flavor: str
    artifact_hash: str
    size: int
    trusted: bool = False
    signature: dict[str, Any] | None = None
    run_id: str | None = None
    stage: str | None = None
    training_dataset: str | None = None
    feature_views: dict[str, list[str]] | None = None  # None: from the training frame
    parameters: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    tags: list[str] = field(default_factory=list)
    notebook: str | None = None
    notebook_hash: str | None = None


def register_model(
    workspace: Workspace,
    name: str,
    model: Any,
    *,
    X_sample: pd.DataFrame | None = None,
    training_dataset: str | None = None,
    feature_views: dict[str, list[str]] | None = None,
    parameters: dict[str, Any] | None = None,
    description: str = "",
    tags: list[str] | None = None,
    trusted: bool = False,
    run_id: str | None = None,
    stage: str | None = None,
    notebook: str | None = None,
    notebook_hash: str | None = None,
) -> ModelVersion:
    """Store ``model`` (skops for scikit-learn; pickle only if ``trusted``) as version N+1.

    ``training_dataset`` is a dataset version reference (``"train@3"``); the
    feature views it was built from are found through its lineage unless
    ``feature_views`` (``{"view@1": [feature, ...]}``) says otherwise. In a
    notebook, prefer :func:`mlops_lab.register_model`, which fills in the
    run, stage, notebook and parameters.
    """
    spec = prepare_version(
        workspace,
        name,
        model,
        X_sample=X_sample,
        trusted=trusted,
        training_dataset=training_dataset,
        feature_views=feature_views,
        parameters=parameters or {},
        description=description,
        tags=tags or [],
        run_id=run_id,
        stage=stage,
        notebook=notebook,
        notebook_hash=notebook_hash,
    )
    return register_versions(workspace, [spec])[0]


def prepare_version(
    workspace: Workspace,
    name: str,
    model: Any,
    *,
    X_sample: pd.DataFrame | None,
    trusted: bool,
    **fields: Any,
) -> VersionSpec:
    """Validate, serialise and store the model's blob; the catalog rows come later."""
    validate_name(name, "model")
    flavor, data = dump_model(model, trusted=trusted)
    digest, size = workspace.artifacts.write_blob([data])
    signature = infer_signature(model, X_sample)
    return VersionSpec(
        name=name,
        flavor=flavor,
        artifact_hash=digest,
        size=size,
        trusted=trusted,
        signature=signature,
        **fields,
    )


def register_versions(workspace: Workspace, specs: list[VersionSpec]) -> list[ModelVersion]:
    """Register versions (blobs already stored): one through the journal, many in one transaction.

    One version per call (a notebook registering its model) costs an fsync,
    not a DuckDB transaction; see :meth:`mlops_lab.catalog.Catalog.journaled`.
    """
    if len(specs) == 1:
        return workspace.catalog.journaled(lambda memo, rec: _journal_versions(memo, rec, specs))
    return workspace.catalog.transaction(lambda con: insert_versions(con, specs))


def insert_versions(con: duckdb.DuckDBPyConnection, specs: list[VersionSpec]) -> list[ModelVersion]:
    """Insert versions in the caller's transaction, numbering them per model, with lineage.

    A constant number of statements whatever the count: registering 2,000
    versions is one bulk insert per table.
    """
    names = sorted({s.name for s in specs})
    latest = dict(
        con.execute(
            "SELECT name, max(version) FROM model_versions WHERE name IN "
            "(SELECT unnest(?::VARCHAR[])) GROUP BY name",
            [names],
        ).fetchall()
    )
    datasets = sorted(
        {s.training_dataset for s in specs if s.feature_views is None and s.training_dataset}
    )
    return _write_versions(con, specs, latest, _training_features(con, datasets))


def _journal_versions(memo: Memo, rec: Recorder, specs: list[VersionSpec]) -> list[ModelVersion]:
    """:func:`insert_versions` planned against the journal's memo instead of the catalog."""
    latest: dict[str, int] = {}
    derived: dict[str, dict[str, list[str]]] = {}
    for spec in specs:
        name, dataset = spec.name, spec.training_dataset
        latest[name] = memo.get(("model_latest", name), partial(latest_version, name=name))
        if spec.feature_views is None and dataset:
            derived[dataset] = memo.get(
                ("training_features", dataset), partial(_training_features_of, dataset=dataset)
            )
    versions = _write_versions(cast(duckdb.DuckDBPyConnection, rec), specs, latest, derived)
    for version in versions:
        memo.set(("model_latest", version.name), version.version)
    return versions


def _training_features_of(con: duckdb.DuckDBPyConnection, dataset: str) -> dict[str, list[str]]:
    return _training_features(con, [dataset]).get(dataset, {})


def latest_version(con: duckdb.DuckDBPyConnection, name: str) -> int:
    """The model's highest version number (0 when it has none)."""
    row = con.execute(
        "SELECT coalesce(max(version), 0) FROM model_versions WHERE name = ?", [name]
    ).fetchone()
    return int(row[0]) if row else 0


def _write_versions(
    con: duckdb.DuckDBPyConnection,
    specs: list[VersionSpec],
    latest: dict[str, int],
    derived: dict[str, dict[str, list[str]]],
) -> list[ModelVersion]:
    """The statements that add ``specs`` after the ``latest`` versions (``derived``: features
    of training datasets); writes only, so a journal :class:`Recorder` can stand in for ``con``.
    """
    for spec in specs:
        validate_name(spec.name, "model")
    names = sorted({s.name for s in specs})
    descriptions = {s.name: s.description for s in reversed(specs)}  # the first one's
    _bulk_insert(
        con,
        "models",
        ["name", "description"],
        [(n, descriptions[n]) for n in names],
        "ON CONFLICT (name) DO NOTHING",
    )
    for digest, size, flavor in sorted({(s.artifact_hash, s.size, s.flavor) for s in specs}):
        register_artifact(con, digest, size=size, media_type=f"application/x-{flavor}")
    rows, consumers, edges = [], [], []
    now = datetime.now(UTC)
    for spec in specs:
        version = int(latest.get(spec.name) or 0) + 1
        latest[spec.name] = version
        views = spec.feature_views
        if views is None:
            views = derived.get(spec.training_dataset or "", {})
        rows.append(
            (
                spec.name,
                version,
                spec.flavor,
                spec.artifact_hash,
                spec.trusted,
                json.dumps(spec.signature) if spec.signature else None,
                spec.run_id,
                spec.stage,
                spec.training_dataset,
                json.dumps(sorted(views)),
                json.dumps(spec.parameters, default=str),
                spec.description,
                json.dumps(spec.tags),
                now,
                spec.notebook,
                spec.notebook_hash,
            )
        )
        ref = f"{spec.name}/{version}"
        for view_ref, features in views.items():
            view, _, view_version = view_ref.partition("@")
            consumers += [(view, int(view_version), f, "model", ref) for f in features]
            edges.append(("feature_view_version", view_ref, "model_version", ref))
        if spec.training_dataset:
            edges.append(("dataset_version", spec.training_dataset, "model_version", ref))
        if spec.run_id and spec.stage:
            edges.append(("stage_run", f"{spec.run_id}/{spec.stage}", "model_version", ref))
    _bulk_insert(con, "model_versions", [c.strip() for c in VERSION_COLUMNS.split(",")], rows)
    if consumers:
        _bulk_insert(
            con,
            "feature_consumers",
            ["view", "version", "feature", "consumer_kind", "consumer_id"],
            consumers,
        )
    add_edges(con, edges)
    return [version_from_row(row) for row in rows]


def _bulk_insert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[str],
    rows: list[tuple[Any, ...]],
    tail: str = "",
) -> None:
    """Insert ``rows`` in one statement: bound parameters for a few, a registered frame for many."""
    names = ", ".join(columns)
    if len(rows) <= _SMALL_INSERT:
        # One registration: plain parameters cost ~20x less than registering a frame.
        values = ", ".join(["(" + ", ".join(["?"] * len(columns)) + ")"] * len(rows))
        con.execute(
            f"INSERT INTO {table} ({names}) VALUES {values} {tail}",
            [value for row in rows for value in row],
        )
        return
    con.register("bulk_rows", pd.DataFrame.from_records(rows, columns=columns))
    try:
        con.execute(f"INSERT INTO {table} ({names}) SELECT * FROM bulk_rows {tail}")
    finally:
        con.unregister("bulk_rows")


_SMALL_INSERT = 16


def _training_features(
    con: duckdb.DuckDBPyConnection, datasets: list[str]
) -> dict[str, dict[str, list[str]]]:
    """Per training dataset version: the feature view versions (and features) it was built from."""
    found: dict[str, dict[str, list[str]]] = {}
    if not datasets:
        return found
    for consumer, view, version, feature in con.execute(
        "SELECT consumer_id, view, version, feature FROM feature_consumers WHERE consumer_kind = "
        "'training_frame' AND consumer_id IN (SELECT unnest(?::VARCHAR[])) "
        "ORDER BY consumer_id, view, version, feature",
        [datasets],
    ).fetchall():
        found.setdefault(consumer, {}).setdefault(f"{view}@{version}", []).append(feature)
    return found

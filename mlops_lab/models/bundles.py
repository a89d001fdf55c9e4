"""The artifact repository of model bundles: which bundle was built from which version.

A bundle (see :mod:`mlops_lab.serving.bundle`) is stored as an artifact (its
``.tar.gz``, content-addressed) and recorded here against the model version it
packages, with its manifest's hash (the bundle's identity, which a bundle
server can be told to expect) and where it was written.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import duckdb

from mlops_lab.artifacts.records import register_artifact
from mlops_lab.models.lookup import get_model_version
from mlops_lab.workspace import Workspace

__all__ = ["BUNDLE_MEDIA_TYPE", "ModelBundle", "list_bundles", "record_bundle"]

BUNDLE_MEDIA_TYPE = "application/gzip"
_COLUMNS = (
    "id, model, version, ref, artifact_hash, manifest_hash, size, path, online_store, "
    "mlops_lab_version, created_by, created_at"
)


@dataclass(frozen=True, kw_only=True)
class ModelBundle:
    id: str
    model: str
    version: int
    ref: str  # the reference it was built from, e.g. churn@champion
    artifact_hash: str  # the archive's hash in the artifact store
    manifest_hash: str  # bundle.json's hash: the bundle's identity
    size: int
    path: str  # the folder it was written to
    online_store: str | None
    mlops_lab_version: str
    created_by: str | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        return data


def record_bundle(
    workspace: Workspace,
    *,
    model: str,
    version: int,
    ref: str,
    artifact_hash: str,
    size: int,
    manifest_hash: str,
    path: str,
    online_store: str | None,
    mlops_lab_version: str,
    created_by: str | None = None,
) -> ModelBundle:
    """Register the archive (already written as a blob) and its bundle row, in one
    transaction."""

    def write(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
        register_artifact(con, artifact_hash, size=size, media_type=BUNDLE_MEDIA_TYPE)
        bundle_id = secrets.token_hex(6)
        con.execute(
            f"INSERT INTO model_bundles ({_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)",
            [
                bundle_id,
                model,
                version,
                ref,
                artifact_hash,
                manifest_hash,
                size,
                path,
                online_store,
                mlops_lab_version,
                created_by,
            ],
        )
        row = con.execute(
            f"SELECT {_COLUMNS} FROM model_bundles WHERE id = ?", [bundle_id]
        ).fetchone()
        assert row is not None
        return tuple(row)

    return ModelBundle(**dict(zip(_names(), workspace.catalog.transaction(write), strict=True)))


def list_bundles(workspace: Workspace, name: str, version: int) -> list[dict[str, Any]]:
    """The bundles built from ``name`` v``version``, newest first (unknown models and
    versions are a NotFoundError naming what exists)."""
    found = get_model_version(workspace, f"{name}/{version}")
    rows = workspace.catalog.read(
        f"SELECT {_COLUMNS} FROM model_bundles WHERE model = ? AND version = ? "
        "ORDER BY created_at DESC, id",
        [found.name, found.version],
    )
    return [ModelBundle(**dict(zip(_names(), row, strict=True))).to_dict() for row in rows]


def _names() -> list[str]:
    return [c.strip() for c in _COLUMNS.split(",")]

"""An artifact's catalog row: the record, the checks on its id and media type, the insert.

The blobs themselves are put and read by :class:`~mlops_lab.artifacts.store.ArtifactStore`;
:func:`register_artifact` is also called by every writer that registers a blob in its
own transaction (datasets, models, a stage's outputs).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import duckdb

from mlops_lab.errors import InvalidArtifactIdError, InvalidInputError

__all__ = [
    "ARTIFACT_COLUMNS",
    "OCTET_STREAM",
    "PARQUET",
    "Artifact",
    "artifact_of",
    "check_media_type",
    "register_artifact",
    "validate_hash",
]

PARQUET = "application/vnd.apache.parquet"
OCTET_STREAM = "application/octet-stream"
_HASH = re.compile(r"[0-9a-f]{64}")
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*(;[\w .=+-]*)?")
ARTIFACT_COLUMNS = "hash, size, media_type, created_at, run_id"


@dataclass(frozen=True, kw_only=True)
class Artifact:
    """One stored blob's catalog record."""

    hash: str
    size: int
    media_type: str
    created_at: datetime
    run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        return data


def validate_hash(value: str) -> str:
    """Return ``value`` if it is a lowercase hex SHA-256 digest, else raise."""
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        raise InvalidArtifactIdError(str(value))
    return value


def check_media_type(media_type: str) -> str:
    """Return ``media_type`` if it reads ``type/subtype``, else raise."""
    if not _MEDIA_TYPE.fullmatch(media_type):
        raise InvalidInputError(
            f"Invalid media type {media_type!r}: expected 'type/subtype', e.g. 'text/csv'."
        )
    return media_type


def register_artifact(
    con: duckdb.DuckDBPyConnection,
    digest: str,
    *,
    size: int,
    media_type: str,
    run_id: str | None = None,
) -> None:
    """Insert an artifact's catalog row in the caller's transaction (no-op if present)."""
    con.execute(
        "INSERT INTO artifacts (hash, size, media_type, run_id) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (hash) DO NOTHING",
        [validate_hash(digest), size, check_media_type(media_type), run_id],
    )


def artifact_of(row: tuple[Any, ...]) -> Artifact:
    """The record of a row selected as :data:`ARTIFACT_COLUMNS`."""
    digest, size, media_type, created_at, run_id = row
    return Artifact(
        hash=digest, size=int(size), media_type=media_type, created_at=created_at, run_id=run_id
    )

"""Datasets: named, versioned, immutable snapshots stored as Parquet artifacts.

Registering content identical to an existing version of the same name
returns that version instead of creating a new one.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import duckdb

from mlops_lab.artifacts import PARQUET, dataframe_to_parquet, register_artifact
from mlops_lab.datachecks import (
    CheckedVersion,
    DataCheckWarning,
    evaluate_version,
    failure_error,
    insert_checks,
    record_checks,
    summaries,
    version_checks,
)
from mlops_lab.errors import DatasetNotFoundError, InvalidInputError
from mlops_lab.lineage import add_edge, record_feature_use
from mlops_lab.manifest import CommitState, register

if TYPE_CHECKING:
    import pandas as pd

    from mlops_lab.catalog.journal import Memo, Recorder
    from mlops_lab.workspace import Workspace

__all__ = [
    "DatasetVersion",
    "check_dataset",
    "dataset_version_checks",
    "dataset_version_detail",
    "describe_columns",
    "get_dataset_version",
    "list_dataset_versions",
    "load_dataset",
    "record_dataset_version",
    "register_dataset_version",
    "save_dataset",
    "validate_name",
    "warn_failed_checks",
]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}")
_COLUMNS = "name, version, artifact_hash, row_count, columns, run_id, stage, created_at"


@dataclass(frozen=True, kw_only=True)
class DatasetVersion:
    name: str
    version: int | None  # None while a pipeline stage's output is not yet committed
    artifact_hash: str
    row_count: int
    columns: list[dict[str, str]]
    run_id: str | None = None
    stage: str | None = None
    created_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "artifact_hash": self.artifact_hash,
            "row_count": self.row_count,
            "columns": self.columns,
            "run_id": self.run_id,
            "stage": self.stage,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


def validate_name(name: str, what: str = "dataset") -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInputError(
            f"Invalid {what} name {name!r}: use letters, digits, '_', '.' or '-', "
            "starting with a letter or '_' (at most 128 characters)."
        )
    return name


def describe_columns(frame: pd.DataFrame) -> list[dict[str, str]]:
    return [{"name": str(c), "dtype": str(t)} for c, t in frame.dtypes.items()]


def _version(row: tuple[Any, ...]) -> DatasetVersion:
    name, version, digest, rows, columns, run_id, stage, created_at = row
    return DatasetVersion(
        name=name,
        version=int(version),
        artifact_hash=digest,
        row_count=int(rows),
        columns=json.loads(columns) if isinstance(columns, str) else list(columns),
        run_id=run_id,
        stage=stage,
        created_at=created_at,
    )


def register_dataset_version(
    con: duckdb.DuckDBPyConnection,
    *,
    name: str,
    artifact_hash: str,
    row_count: int,
    columns: list[dict[str, str]],
    run_id: str | None = None,
    stage: str | None = None,
) -> DatasetVersion:
    """Add a version inside the caller's transaction (or return the identical existing one)."""
    validate_name(name)
    same = con.execute(
        f"SELECT {_COLUMNS} FROM dataset_versions WHERE name = ? AND artifact_hash = ? "
        "ORDER BY version LIMIT 1",
        [name, artifact_hash],
    ).fetchone()
    if same is not None:
        return _version(same)
    con.execute("INSERT INTO datasets (name) VALUES (?) ON CONFLICT DO NOTHING", [name])
    row = con.execute(
        "SELECT coalesce(max(version), 0) + 1 FROM dataset_versions WHERE name = ?", [name]
    ).fetchone()
    assert row is not None
    con.execute(
        f"INSERT INTO dataset_versions ({_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, current_timestamp)",
        [name, row[0], artifact_hash, row_count, json.dumps(columns), run_id, stage],
    )
    created = con.execute(
        f"SELECT {_COLUMNS} FROM dataset_versions WHERE name = ? AND version = ?", [name, row[0]]
    ).fetchone()
    assert created is not None
    return _version(created)


def save_dataset(
    workspace: Workspace,
    name: str,
    frame: pd.DataFrame,
    *,
    run_id: str | None = None,
    stage: str | None = None,
) -> DatasetVersion:
    """Store ``frame`` as Parquet and register it as the next version of ``name``.

    The catalog part (the artifact's row and the version's) goes through the
    catalog journal: an fsync, not a DuckDB transaction.
    """
    validate_name(name)
    digest, size = workspace.artifacts.write_blob([dataframe_to_parquet(frame)])
    return record_dataset_version(
        workspace,
        name,
        digest,
        size=size,
        row_count=len(frame),
        columns=describe_columns(frame),
        run_id=run_id,
        stage=stage,
    )


def record_dataset_version(
    workspace: Workspace,
    name: str,
    digest: str,
    *,
    size: int,
    row_count: int,
    columns: list[dict[str, str]],
    run_id: str | None = None,
    stage: str | None = None,
) -> DatasetVersion:
    """The catalog part of :func:`save_dataset` for a Parquet blob already stored.

    The dataset's declared checks are evaluated first and stored with a new version; a
    failing one is reported with a :class:`~mlops_lab.datachecks.DataCheckWarning`.
    """
    validate_name(name)
    checks = evaluate_version(workspace, name, digest)

    def plan(memo: Memo, rec: Recorder) -> DatasetVersion:
        known: dict[int, DatasetVersion] = memo.get(
            ("dataset_versions", name), lambda con: _versions_by_number(con, name)
        )
        same = [v for v in known.values() if v.artifact_hash == digest]
        if same:
            return min(same, key=lambda v: v.version or 0)
        writer = cast("duckdb.DuckDBPyConnection", rec)
        register_artifact(writer, digest, size=size, media_type=PARQUET, run_id=run_id)
        created = DatasetVersion(
            name=name,
            version=max(known, default=0) + 1,
            artifact_hash=digest,
            row_count=row_count,
            columns=columns,
            run_id=run_id,
            stage=stage,
            created_at=datetime.now(UTC),
        )
        rec.execute("INSERT INTO datasets (name) VALUES (?) ON CONFLICT DO NOTHING", [name])
        rec.execute(
            f"INSERT INTO dataset_versions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                name,
                created.version,
                digest,
                created.row_count,
                json.dumps(columns),
                run_id,
                stage,
                created.created_at,
            ],
        )
        known[created.version or 0] = created  # the memo's own dictionary
        if checks is not None:
            about = CheckedVersion(
                dataset=name,
                version=created.version,
                artifact_hash=digest,
                checked_at=created.created_at or datetime.now(UTC),
                run_id=run_id,
                stage=stage,
            )
            insert_checks(rec, about, checks)
        return created

    version = workspace.catalog.journaled(plan)
    warn_failed_checks(name, version.version, checks)
    return version


def warn_failed_checks(name: str, version: int | None, checks: list[dict[str, Any]] | None) -> None:
    """Outside a pipeline a version that fails its checks is kept: say so, with the rows."""
    error = failure_error(name, checks or [])
    if error is not None:
        warnings.warn(
            f"{error.message}\nThe version was saved as {name}@{version}; a pipeline stage "
            "saving it would fail.",
            DataCheckWarning,
            stacklevel=3,
        )


def _versions_by_number(con: duckdb.DuckDBPyConnection, name: str) -> dict[int, DatasetVersion]:
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM dataset_versions WHERE name = ? ORDER BY version", [name]
    ).fetchall()
    return {int(row[1]): _version(row) for row in rows}


def get_dataset_version(
    workspace: Workspace, name: str, version: int | None = None
) -> DatasetVersion:
    """A dataset version (the latest when ``version`` is None)."""
    validate_name(name)

    def read(con: duckdb.DuckDBPyConnection) -> DatasetVersion:
        if version is None:
            row = con.execute(
                f"SELECT {_COLUMNS} FROM dataset_versions WHERE name = ? "
                "ORDER BY version DESC LIMIT 1",
                [name],
            ).fetchone()
        else:
            row = con.execute(
                f"SELECT {_COLUMNS} FROM dataset_versions WHERE name = ? AND version = ?",
                [name, version],
            ).fetchone()
        if row is not None:
            return _version(row)
        if version is None:
            known = [
                r[0] for r in con.execute("SELECT name FROM datasets ORDER BY name").fetchall()
            ]
        else:
            known = [
                str(r[0])
                for r in con.execute(
                    "SELECT version FROM dataset_versions WHERE name = ? ORDER BY version", [name]
                ).fetchall()
            ]
        raise DatasetNotFoundError(name, version, known)

    return workspace.catalog.transaction(read)


def list_dataset_versions(workspace: Workspace, name: str) -> list[DatasetVersion]:
    rows = workspace.catalog.read(
        f"SELECT {_COLUMNS} FROM dataset_versions WHERE name = ? ORDER BY version", [name]
    )
    return [_version(r) for r in rows]


def load_dataset(workspace: Workspace, name: str, version: int | None = None) -> pd.DataFrame:
    """A dataset version's rows (hash verified on read)."""
    found = get_dataset_version(workspace, name, version)
    return workspace.artifacts.get_dataframe(found.artifact_hash)


def dataset_version_detail(workspace: Workspace, name: str, version: int) -> dict[str, Any]:
    """A version as the REST API shows it: its record plus its checks' pass/fail summary
    (``checks`` null when it was never checked)."""
    found = get_dataset_version(workspace, name, version)
    summary = summaries(workspace.catalog, [(name, version)]).get((name, version))
    return {**found.to_dict(), "checks": summary}


def dataset_version_checks(workspace: Workspace, name: str, version: int) -> dict[str, Any]:
    """The stored checks of a version (404 for an unknown one)."""
    get_dataset_version(workspace, name, version)
    return version_checks(workspace, name, version)


def check_dataset(workspace: Workspace, name: str, version: int | None = None) -> dict[str, Any]:
    """Evaluate the declared checks on a version (the latest by default) again, store the
    evaluation and return it (:func:`mlops_lab.datachecks.version_checks`)."""
    found = get_dataset_version(workspace, name, version)
    checks = evaluate_version(workspace, name, found.artifact_hash)
    if checks is None:
        raise InvalidInputError(
            f"Dataset {name!r} declares no checks. Declare them in mlops_lab.yaml under "
            f"datasets: {name}: checks: (columns, rows, freshness)."
        )
    about = CheckedVersion(
        dataset=name,
        version=found.version,
        artifact_hash=found.artifact_hash,
        checked_at=datetime.now(UTC),
    )
    record_checks(workspace, about, checks)
    return version_checks(workspace, name, int(found.version or 0))


@register("dataset")
def _dataset_entry(
    con: duckdb.DuckDBPyConnection, state: CommitState, entry: dict[str, Any]
) -> None:
    """A dataset saved by a run (``ctx.save_dataset``), numbered at the run's commit."""
    register_artifact(
        con, entry["hash"], size=entry["size"], media_type=PARQUET, run_id=state.run_id
    )
    version = register_dataset_version(
        con,
        name=entry["name"],
        artifact_hash=entry["hash"],
        row_count=entry["row_count"],
        columns=entry["columns"],
        run_id=state.run_id,
        stage=state.stage,
    )
    state.datasets[entry["name"]] = version
    if entry.get("checks") is not None:  # evaluated before the commit (datachecks)
        about = CheckedVersion(
            dataset=entry["name"],
            version=version.version,
            artifact_hash=entry["hash"],
            checked_at=datetime.now(UTC),
            run_id=state.run_id,
            stage=state.stage,
        )
        insert_checks(con, about, entry["checks"])
    ref = f"{entry['name']}@{version.version}"
    state.outputs["datasets"][entry["name"]] = {"version": version.version, "hash": entry["hash"]}
    add_edge(con, "stage_run", f"{state.run_id}/{state.stage}", "dataset_version", ref)
    record_feature_use(con, entry.get("features") or {}, ref)

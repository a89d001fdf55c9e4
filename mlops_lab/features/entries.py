"""Feature views and materializations a run records, committed like every other output.

In a pipeline stage, ``register_feature_view`` computes the view's table (written as a
blob at once) and records a ``feature_view`` entry in the stage's manifest; the runner
registers it in the stage's commit, so a failed stage registers nothing (see
:mod:`mlops_lab.manifest`). The version is numbered when it is recorded (the catalog's
next number), so the stage can use it at once: reads by name in the same stage
(``get_feature_view``, training frames, ``materialize``) find it, and the lineage it
leaves (``view@3`` on a training frame) holds after the commit. Materializing a view
registered in the same stage records a ``materialization`` entry too. Outside a stage
(an interactive notebook, the server) both are written at once.

The stage is found from the environment the runner gives its kernel, as
:mod:`mlops_lab.run_context` does, without importing it: the run context opens the
workspace, which opens this feature store (an import cycle).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from mlops_lab._stage_env import ENV_MANIFEST, ENV_RUN_ID
from mlops_lab.artifacts import PARQUET, register_artifact
from mlops_lab.errors import ConflictError
from mlops_lab.features.definitions import FeatureViewDefinition
from mlops_lab.features.versions import VIEW_COLUMNS, FeatureViewVersion, view_from_row
from mlops_lab.manifest import CommitState, append_entry, register

if TYPE_CHECKING:
    from mlops_lab.workspace import Workspace

__all__ = ["defer_view", "insert_version", "pending_view", "record_materialization", "stage_of"]

_MATERIALIZATION = (
    "INSERT INTO materializations (view, version, store, last_event_at, rows_written, "
    "horizon) VALUES (?, ?, ?, ?, ?, ?)"
)


# Views registered in the running stage, by its manifest: name -> version -> view.
_pending: dict[Path, dict[str, dict[int, FeatureViewVersion]]] = {}


def stage_of(workspace: Workspace) -> Path | None:
    """The manifest of the pipeline stage this process runs in, when the stage records into
    ``workspace`` (None in an interactive notebook or the server)."""
    manifest = os.environ.get(ENV_MANIFEST)
    if not (os.environ.get(ENV_RUN_ID) and manifest):
        return None
    path = Path(manifest).resolve()
    return path if path.is_relative_to(workspace.state_dir.resolve()) else None


def pending_view(
    workspace: Workspace, name: str, version: int | None = None
) -> FeatureViewVersion | None:
    """A version of ``name`` registered in the running stage, not committed yet (the latest
    such when ``version`` is None)."""
    manifest = stage_of(workspace)
    versions = _pending.get(manifest, {}).get(name) if manifest is not None else None
    if not versions:
        return None
    return versions.get(max(versions) if version is None else version)


def defer_view(manifest: Path, entry: dict[str, Any]) -> FeatureViewVersion:
    """Record a ``feature_view`` entry in the stage's manifest; the version it will be."""
    append_entry(manifest, entry)
    view = _version_of(entry, created_at=datetime.now(UTC))
    _pending.setdefault(manifest, {}).setdefault(view.name, {})[view.version] = view
    return view


def _version_of(entry: dict[str, Any], *, created_at: datetime) -> FeatureViewVersion:
    return FeatureViewVersion(
        name=entry["name"],
        version=entry["version"],
        digest=entry["digest"],
        definition=FeatureViewDefinition.from_dict(entry["definition"]),
        entity=entry["entity"],
        source_dataset=entry["source_dataset"],
        source_version=entry["source_version"],
        table_artifact=entry["table_artifact"],
        row_count=entry["row_count"],
        features=entry["features"],
        owner=entry["owner"],
        tags=entry["tags"],
        description=entry["description"],
        ttl_seconds=entry["ttl_seconds"],
        run_id=entry["run_id"],
        created_at=created_at,
        table_format=entry["table_format"],
    )


def insert_version(con: duckdb.DuckDBPyConnection, entry: dict[str, Any]) -> FeatureViewVersion:
    """Write the version ``entry`` describes (the next number when its version is None)."""
    name = entry["name"]
    con.execute(
        "INSERT INTO feature_views (name, description) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET description = excluded.description",
        [name, entry["description"]],
    )
    row = con.execute(
        "SELECT coalesce(max(version), 0) + 1 FROM feature_view_versions WHERE name = ?", [name]
    ).fetchone()
    assert row is not None
    version = entry["version"] if entry.get("version") is not None else int(row[0])
    if version != row[0]:
        raise ConflictError(
            f"Feature view {name!r} v{version} was not registered: another run registered "
            f"v{row[0] - 1} while this stage ran. Run the stage again."
        )
    con.execute(
        f"INSERT INTO feature_view_versions ({VIEW_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp, ?)",
        [
            name,
            version,
            entry["digest"],
            json.dumps(entry["definition"]),
            entry["entity"],
            entry["source_dataset"],
            entry["source_version"],
            entry["table_artifact"],
            entry["row_count"],
            json.dumps(entry["features"]),
            entry["owner"],
            json.dumps(entry["tags"]),
            entry["description"],
            entry["ttl_seconds"],
            entry["run_id"],
            entry["table_format"],
        ],
    )
    created = con.execute(
        f"SELECT {VIEW_COLUMNS} FROM feature_view_versions WHERE name = ? AND version = ?",
        [name, version],
    ).fetchone()
    assert created is not None
    return view_from_row(created)


def record_materialization(
    workspace: Workspace,
    view: FeatureViewVersion,
    *,
    store: str,
    last_event: datetime | None,
    written: int,
    horizon: datetime | None,
) -> None:
    """Record a materialization: at the stage's commit when the view was registered in
    the running stage (it may never be), else at once."""
    values = [view.name, view.version, store, last_event, written, horizon]
    manifest = stage_of(workspace)
    if manifest is not None and pending_view(workspace, view.name, view.version) is not None:
        stamps = [t.isoformat() if t is not None else None for t in (last_event, horizon)]
        append_entry(
            manifest,
            {
                "type": "materialization",
                "view": view.name,
                "version": view.version,
                "store": store,
                "last_event_at": stamps[0],
                "rows_written": written,
                "horizon": stamps[1],
            },
        )
        return
    workspace.catalog.write(_MATERIALIZATION, values)


@register("feature_view")
def _feature_view(
    con: duckdb.DuckDBPyConnection, state: CommitState, entry: dict[str, Any]
) -> None:
    register_artifact(
        con,
        entry["table_artifact"],
        size=entry["table_size"],
        media_type=PARQUET,
        run_id=entry["run_id"],
    )
    state.created.append(insert_version(con, entry))


@register("materialization")
def _materialization(
    con: duckdb.DuckDBPyConnection, state: CommitState, entry: dict[str, Any]
) -> None:
    con.execute(
        _MATERIALIZATION,
        [
            entry["view"],
            entry["version"],
            entry["store"],
            entry["last_event_at"],
            entry["rows_written"],
            entry["horizon"],
        ],
    )

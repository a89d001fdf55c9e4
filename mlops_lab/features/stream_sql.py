"""SQL over a streamed view's offline parts (kept apart from stream_apply: training frames
read it, and stream_apply needs the online store, which needs training frames' parsing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_lab.features.definitions import validate_identifier
from mlops_lab.features.queries import get_entity
from mlops_lab.features.stream_log import StreamLog
from mlops_lab.features.stream_parts import parts_of
from mlops_lab.features.versions import FeatureViewVersion

if TYPE_CHECKING:
    from datetime import datetime

    from mlops_lab.workspace import Workspace

__all__ = ["projection", "stream_events_sql", "stream_log"]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def stream_log(workspace: Workspace, view: str) -> StreamLog:
    """The parts and ledger of ``view`` (created when missing)."""
    validate_identifier(view, "feature view name")
    return StreamLog(workspace.state_dir / "streams" / view)


def projection(view: FeatureViewVersion, keys: list[str], relation: str) -> str:
    """SQL: the view's events (its table's columns, in its order) from raw events in
    ``relation``, through the view's SQL transform."""
    definition = view.definition
    ts, created = definition.timestamp, definition.created_timestamp
    aggregated = sorted({a.column for a in definition.aggregations})
    columns = list(dict.fromkeys([*keys, *aggregated]))
    inner = definition.transform or "SELECT * FROM source"
    created_expr = _q(created) if created else _q(ts)
    return (
        f"WITH source AS (SELECT * FROM {relation}) SELECT "
        f"{', '.join(_q(c) for c in columns)}, {_q(ts)}::TIMESTAMPTZ AS event_timestamp, "
        f"{created_expr}::TIMESTAMPTZ AS created_timestamp, __seq FROM ({inner}) "
        f"WHERE {_q(ts)} IS NOT NULL"
    )


def stream_events_sql(
    workspace: Workspace, view: FeatureViewVersion, *, at_or_before: datetime | None = None
) -> str | None:
    """SQL for the view's streamed events that its source dataset version does not hold
    yet (in the view table's format), or None when there are none. ``at_or_before``: the
    caller reads only events up to that time, so parts whose first event is later are left
    out (not for a view with a transform, which may change the times)."""
    if view.definition.transform is not None:
        at_or_before = None
    parts = parts_of(
        workspace.state_dir / "streams" / view.name,
        after_version=view.source_version,
        first_at_or_before=at_or_before,
    )
    if not parts:
        return None
    keys = list(get_entity(workspace, view.entity).join_keys)
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in parts)
    return projection(view, keys, f"read_parquet([{files}], union_by_name = true)")

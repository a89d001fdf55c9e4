"""Which feature views are streamed, from where, and how their consumers are doing.

A view's stream is declared in ``mlops_lab.yaml``::

    streams:
      spend:
        source: redis://127.0.0.1:6379/0?stream=transactions
        id: transaction_id      # optional: else an event's id is the hash of its JSON
        max_future: 5m          # optional: events further ahead are dead-lettered

or from Python (``store.declare_stream("spend", "redis://...", id_column=...)``, kept in
the catalog); the file's entry wins. Each ``mlops-lab ingest`` process records its
progress in ``stream_consumers`` (:func:`record_progress`), read by the panel and
``GET /features/streams``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mlops_lab.features.definitions import parse_duration, validate_identifier
from mlops_lab.features.queries import get_view

if TYPE_CHECKING:
    import duckdb

    from mlops_lab.workspace import Workspace

__all__ = [
    "StreamDeclaration",
    "declare_stream",
    "declared_streams",
    "record_progress",
    "stream_status",
]

# A consumer that has not reported for this long is shown as gone (killed, or its host).
STALE_SECONDS = 30


@dataclass(frozen=True, kw_only=True)
class StreamDeclaration:
    view: str
    source: str
    id_column: str | None = None
    max_future: str | int = "5m"
    declared_in: str = "catalog"  # or mlops_lab.yaml

    def to_dict(self) -> dict[str, Any]:
        return {
            "view": self.view,
            "source": self.source,
            "id_column": self.id_column,
            "max_future": self.max_future,
            "declared_in": self.declared_in,
        }


def declare_stream(
    workspace: Workspace,
    view: str,
    source: str,
    *,
    id_column: str | None = None,
    max_future: str | int = "5m",
) -> StreamDeclaration:
    """Record that ``view`` is fed by the stream at ``source`` (checked first)."""
    from mlops_lab.errors import InvalidInputError

    found = get_view(workspace, view)
    if not found.windowed:
        raise InvalidInputError(
            f"Feature view {view!r} has no window aggregations: only window views are streamed."
        )
    if id_column is not None:
        validate_identifier(id_column, "id column")
    seconds = parse_duration(max_future, "max_future")
    _check_url(source)
    workspace.catalog.write(
        "INSERT INTO feature_streams (view, source, id_column, max_future_seconds) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (view) DO UPDATE SET source = excluded.source, "
        "id_column = excluded.id_column, max_future_seconds = excluded.max_future_seconds, "
        "declared_at = now()",
        [view, source, id_column, seconds],
    )
    return StreamDeclaration(view=view, source=source, id_column=id_column, max_future=seconds)


def _check_url(url: str) -> None:
    # The URL grammar lives with the sources (a layer up); this is the same check, kept
    # dependency-free: a scheme the consumer knows and the stream's name.
    from urllib.parse import parse_qs, urlsplit

    from mlops_lab.errors import InvalidInputError

    parts = urlsplit(url)
    key = {"redis": "stream", "rediss": "stream", "nats": "subject"}.get(parts.scheme)
    if key is None or not parse_qs(parts.query).get(key):
        raise InvalidInputError(
            f"Invalid stream source {url!r}: use redis://HOST:PORT/DB?stream=NAME or "
            "nats://HOST:PORT?subject=NAME."
        )


def declared_streams(workspace: Workspace) -> dict[str, StreamDeclaration]:
    """Every streamed view's declaration (mlops_lab.yaml over the catalog)."""
    out = {
        view: StreamDeclaration(
            view=view,
            source=source,
            id_column=id_column,
            max_future=seconds if seconds is not None else "5m",
        )
        for view, source, id_column, seconds in workspace.catalog.read(
            "SELECT view, source, id_column, max_future_seconds FROM feature_streams"
        )
    }
    for view, spec in workspace.config.streams.items():
        out[view] = StreamDeclaration(
            view=view,
            source=spec["source"],
            id_column=spec.get("id"),
            max_future=spec.get("max_future", "5m"),
            declared_in="mlops_lab.yaml",
        )
    return out


_PROGRESS_COLUMNS = (
    "source",
    "status",
    "pid",
    "received",
    "applied",
    "duplicates",
    "dead_letters",
    "rate",
    "lag",
    "freshness_ms",
    "last_event_at",
    "last_error",
    "last_error_at",
    "parts",
    "dataset_version",
)


def record_progress(
    workspace: Workspace, view: str, consumer: str, started_at: datetime, **values: Any
) -> None:
    """Upsert one consumer's progress row (``values``: columns of stream_consumers): an
    UPDATE, and an INSERT only when there was no row (DuckDB plans ``INSERT .. ON
    CONFLICT`` at 7 ms here, the UPDATE at 1.6: a consumer reports every second)."""
    unknown = set(values) - set(_PROGRESS_COLUMNS)
    if unknown:  # pragma: no cover - a programming error
        raise ValueError(f"unknown progress fields {sorted(unknown)}")
    names = ["updated_at", *values]
    settings = [datetime.now(UTC), *values.values()]

    def upsert(con: duckdb.DuckDBPyConnection) -> None:
        updated = con.execute(
            f"UPDATE stream_consumers SET {', '.join(f'{n} = ?' for n in names)} "
            "WHERE view = ? AND consumer = ?",
            [*settings, view, consumer],
        ).fetchone()
        if not updated or not updated[0]:
            con.execute(
                f"INSERT INTO stream_consumers (view, consumer, started_at, {', '.join(names)}) "
                f"VALUES ({', '.join('?' for _ in range(len(names) + 3))})",
                [view, consumer, started_at, *settings],
            )

    workspace.catalog.transaction(upsert)


def stream_status(workspace: Workspace) -> list[dict[str, Any]]:
    """Per streamed view: its declaration and its consumers' progress (totals and each)."""
    declared = declared_streams(workspace)
    rows = workspace.catalog.read_dicts(
        "SELECT * FROM stream_consumers ORDER BY view, started_at DESC"
    )
    now = datetime.now(UTC)
    by_view: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        updated = row["updated_at"]
        age = (now - updated).total_seconds() if updated is not None else None
        if row["status"] in ("running", "waiting") and age is not None and age > STALE_SECONDS:
            row["status"] = "gone"
        row["seconds_since_update"] = age
        by_view.setdefault(row["view"], []).append(_jsonable(row))
    out = []
    for view in sorted(set(declared) | set(by_view)):
        consumers = by_view.get(view, [])
        live = [c for c in consumers if c["status"] in ("running", "waiting")]
        errors = [c for c in consumers if c["last_error"]]
        last_error = max(errors, key=lambda c: c["last_error_at"] or "") if errors else None
        events = [c["last_event_at"] for c in consumers if c["last_event_at"]]
        lags = [c["lag"] for c in live if c["lag"] is not None]
        out.append(
            {
                "view": view,
                "declaration": declared[view].to_dict() if view in declared else None,
                "source": declared[view].source if view in declared else consumers[0]["source"],
                "consumers_running": len(live),
                "applied": sum(c["applied"] for c in consumers),
                "duplicates": sum(c["duplicates"] for c in consumers),
                "dead_letters": sum(c["dead_letters"] for c in consumers),
                "rate": sum(c["rate"] or 0.0 for c in live),
                "lag": min(lags) if lags else None,
                "freshness_ms": max(
                    (c["freshness_ms"] for c in live if c["freshness_ms"] is not None),
                    default=None,
                ),
                "last_event_at": max(events) if events else None,
                "last_error": last_error["last_error"] if last_error else None,
                "last_error_at": last_error["last_error_at"] if last_error else None,
                "consumers": consumers,
            }
        )
    return out


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}

"""Applying streamed events to a window view: online at once, offline as Parquet parts.

Used by the stream consumer (``mlops-lab ingest``), by ``FeatureStore.push`` and by the
REST push route, so all of them write the same way. For each batch of checked events
(:mod:`stream_events`):

1. the online store gets the view's events (keys, event time, aggregated columns,
   ``__seq``): a window read as of now includes them at once; an event already held (same
   ``__seq``) is not added again;
2. the offline store gets the events whose ids are new, as one Parquet part
   (:mod:`stream_log`); training frames of the view read them next to its table until a
   dataset version holds them (:func:`flush`).

Only then may the caller acknowledge the batch to its broker: a batch applied again after
a crash adds nothing, offline or online.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pyarrow as pa
import pyarrow.parquet as pq

from mlops_lab.datachecks import DataCheckWarning, summaries
from mlops_lab.datasets import get_dataset_version, save_dataset
from mlops_lab.errors import FeatureTransformError, InvalidInputError
from mlops_lab.features.compute import memory_connection
from mlops_lab.features.definitions import parse_duration
from mlops_lab.features.online import EmbeddedOnlineStore
from mlops_lab.features.online_base import micros_of
from mlops_lab.features.queries import get_entity, get_view
from mlops_lab.features.registry import current_view
from mlops_lab.features.serving import materialize, online_store_of
from mlops_lab.features.stream_events import EventSchema, ParsedBatch
from mlops_lab.features.stream_log import AppendResult, StreamLog
from mlops_lab.features.stream_online_rows import OnlineRows, arrow_events
from mlops_lab.features.stream_sql import projection, stream_log

if TYPE_CHECKING:
    import pandas as pd

    from mlops_lab.features.online import RedisOnlineStore
    from mlops_lab.features.versions import FeatureViewVersion
    from mlops_lab.workspace import Workspace

__all__ = [
    "DEFAULT_MAX_FUTURE",
    "StreamWriter",
    "flush",
]

DEFAULT_MAX_FUTURE = "5m"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True, kw_only=True)
class PushResult:
    received: int
    applied: int  # new events (offline and online)
    duplicates: int  # repeats of an id already applied or earlier in the batch
    refused: list[tuple[int, str]]
    part: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "refused": [{"index": i, "reason": r} for i, r in self.refused],
            "part": self.part,
        }


class StreamWriter:
    """Applies checked events to one window view's latest version (module doc)."""

    def __init__(
        self,
        workspace: Workspace,
        view_name: str,
        *,
        id_column: str | None = None,
        max_future: str | int = DEFAULT_MAX_FUTURE,
        store: EmbeddedOnlineStore | RedisOnlineStore | None = None,
    ) -> None:
        view = current_view(workspace, get_view(workspace, view_name))
        if not view.windowed:
            raise InvalidInputError(
                f"Feature view {view.name!r} has no window aggregations: events can be "
                "streamed into window views only (a plain view takes dataset versions)."
            )
        if view.definition.python_transform is not None:
            raise InvalidInputError(
                f"Feature view {view.name!r} has a pandas transform, which streamed events "
                "cannot go through; use a SQL transform or none."
            )
        self.workspace = workspace
        self.view = view
        self.keys = list(get_entity(workspace, view.entity).join_keys)
        source = get_dataset_version(workspace, view.source_dataset, view.source_version)
        self.source_schema = pq.read_schema(workspace.artifacts.verified_path(source.artifact_hash))
        definition = view.definition
        required = [
            *self.keys,
            definition.timestamp,
            *sorted({a.column for a in definition.aggregations}),
        ]
        self.schema = EventSchema(
            view=view.name,
            source=self.source_schema,
            required=list(dict.fromkeys(required)),
            timestamp=definition.timestamp,
            id_column=id_column,
            max_future_seconds=parse_duration(max_future, "max_future"),
        )
        self._con = memory_connection()
        self._sql = projection(view, self.keys, "incoming")
        self._check_transform()
        self.online = store or online_store_of(workspace)
        # The store must hold the view's events of the widest window before now.
        done = materialize(workspace, view.name, store=self.online)
        self.horizon = datetime.fromisoformat(done["horizon"])
        self.log = stream_log(workspace, view.name)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"stream-{view.name}")

    def _check_transform(self) -> None:
        self._con.register("incoming", self.schema.arrow.empty_table())
        try:
            names = [d[0] for d in self._con.execute(self._sql).description or []]
        except Exception as exc:
            raise FeatureTransformError(
                self.view.name,
                f"streamed events cannot go through its transform ({str(exc).splitlines()[0]}); "
                "the transform must keep every column it does not compute (SELECT *, ...)",
            ) from exc
        finally:
            self._con.unregister("incoming")
        if "__seq" not in names:  # pragma: no cover - the projection selects it
            raise FeatureTransformError(self.view.name, "the transform drops __seq")

    def parse(self, events: Sequence[bytes | str | Mapping[str, Any]]) -> ParsedBatch:
        if set(map(type, events)) <= {bytes, str, dict}:  # the usual case, checked fast
            plain = cast("Sequence[bytes | str | dict[str, Any]]", events)
        else:
            plain = [e if isinstance(e, bytes | str | dict) else dict(e) for e in events]
        return self.schema.parse(plain, now=datetime.now(UTC))

    def _online_events(self, table: pa.Table, *, ordered: bool = True) -> pa.Table:
        """The view's events of a batch, after the store's horizon (older ones are not
        needed online, nor kept there); ``ordered``: by key, time and ``__seq`` (the
        embedded store's readers order what they read themselves)."""
        definition = self.view.definition
        if not ordered and definition.transform is None:
            done = arrow_events(
                table,
                keys=self.keys,
                aggregated=sorted({a.column for a in definition.aggregations}),
                timestamp=definition.timestamp,
                created=definition.created_timestamp,
                after=self.horizon,
            )
            if done is not None:
                return done
        self._con.register("incoming", table)
        try:
            key = f"json_array({', '.join(_q(k) for k in self.keys)})::VARCHAR"
            order = (
                f" ORDER BY {', '.join(_q(k) for k in self.keys)}, event_timestamp, __seq"
                if ordered
                else ""
            )
            return self._con.sql(
                f"SELECT *, {key} AS __key FROM ({self._sql}) WHERE event_timestamp > ?{order}",
                params=[self.horizon],
            ).to_arrow_table()
        finally:
            self._con.unregister("incoming")

    def apply(self, table: pa.Table) -> AppendResult:
        """Both stores; the caller acknowledges only after. The embedded online store gets
        the new events in the offline part's own transaction (see online_tail.py); Redis
        gets them beside it (idempotent by ``__seq``)."""
        if table.num_rows == 0:
            return AppendResult(new=0, repeated=0, part=None)
        if isinstance(self.online, EmbeddedOnlineStore):
            events = self._online_events(table, ordered=False)
            skip = (*self.keys, "event_timestamp", "created_timestamp", "__seq", "__key")
            held = [c for c in events.column_names if c not in skip]
            rows = OnlineRows(version=self.view.version, keys=self.keys, held=held, events=events)
            return self.log.append(table, online=rows, timestamp=self.view.definition.timestamp)
        offline = self._pool.submit(
            self.log.append, table, timestamp=self.view.definition.timestamp
        )
        try:
            events = self._online_events(table).drop_columns(["__key"])
            self.online.write_events(
                self.view.name,
                self.view.version,
                self.keys,
                iter(events.to_batches()),
                events.schema,
                self.horizon,
            )
        finally:
            done = offline.result()  # waited for (and raised) whatever happened online
        return done

    def prune_online(self, *, margin_seconds: int = 3600) -> int:
        """Drop online the events no window as of now (or up to ``margin_seconds`` ago)
        reads, so a long-running stream does not grow the online store without bound; the
        horizon moves up to match (in the store and in the catalog's materializations)."""
        widest = self.view.definition.widest_window_seconds
        cutoff = datetime.now(UTC) - timedelta(seconds=widest + margin_seconds)
        if cutoff <= self.horizon:
            return 0
        dropped = self.online.prune_events(self.view.name, self.view.version, self.keys, cutoff)
        if isinstance(self.online, EmbeddedOnlineStore):  # and its stream tail
            dropped += self.log.prune_online(self.view.version, micros_of(cutoff))
        self.workspace.catalog.write(
            "UPDATE materializations SET horizon = greatest(horizon, ?) WHERE view = ? "
            "AND version = ? AND store = ? AND horizon IS NOT NULL",
            [cutoff, self.view.name, self.view.version, self.online.url],
        )
        self.horizon = cutoff
        return dropped

    def push(self, events: Sequence[bytes | str | Mapping[str, Any]]) -> PushResult:
        """Check and apply ``events`` (JSON objects or their text); refused ones are
        reported with their reason, not applied."""
        parsed = self.parse(events)
        done = self.apply(parsed.table)
        return PushResult(
            received=len(events),
            applied=done.new,
            duplicates=done.repeated + parsed.repeated,
            refused=parsed.refused,
            part=done.part,
        )

    def push_frame(self, frame: pd.DataFrame) -> PushResult:
        """Push the rows of a DataFrame (times with a zone; a naive time is refused, as
        from a stream)."""
        import pandas as pd

        if not isinstance(frame, pd.DataFrame):
            raise InvalidInputError(f"push takes a pandas DataFrame, got {type(frame).__name__}.")
        columns = [str(c) for c in frame.columns]
        records = []
        for row in frame.itertuples(index=False, name=None):
            record: dict[str, Any] = {}
            for name, value in zip(columns, row, strict=True):
                if isinstance(value, datetime):
                    record[name] = None if pd.isna(value) else value.isoformat()
                elif value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
                    record[name] = None
                else:
                    record[name] = value.item() if hasattr(value, "item") else value
            records.append(record)
        return self.push(records)

    def close(self) -> None:
        self._pool.shutdown()
        self._con.close()
        self.log.close()


def flush(workspace: Workspace, view_name: str) -> dict[str, Any] | None:
    """Cut a new version of the view's source dataset: its latest version plus the
    streamed events not yet in a version. None when there is nothing to add."""
    view = get_view(workspace, view_name)
    log = stream_log(workspace, view.name)
    try:
        return _flush(workspace, view, log)
    finally:
        log.close()


def _flush(workspace: Workspace, view: FeatureViewVersion, log: StreamLog) -> dict[str, Any] | None:
    pending = [(n, p) for n, p in log.unflushed() if p.exists()]
    if not pending:
        return None
    latest = get_dataset_version(workspace, view.source_dataset, None)
    base = workspace.artifacts.verified_path(latest.artifact_hash)
    names = pq.read_schema(base).names
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for _, p in pending)
    con = memory_connection()
    try:
        select = ", ".join(_q(n) for n in names)
        frame = con.sql(
            f"SELECT {select} FROM read_parquet('{_escape(base)}') UNION ALL BY NAME "
            f"SELECT {select} FROM read_parquet([{files}], union_by_name = true)"
        ).df()
        added = con.execute(
            f"SELECT count(*) FROM read_parquet([{files}], union_by_name = true)"
        ).fetchone()
    finally:
        con.close()
    with warnings.catch_warnings():  # a long-running ingestor says it on every cut instead
        warnings.simplefilter("ignore", DataCheckWarning)
        version = save_dataset(workspace, view.source_dataset, frame)
    assert version.version is not None
    log.mark_flushed([n for n, _ in pending], version.version)
    checked = summaries(workspace.catalog, [(view.source_dataset, version.version)])
    return {
        "dataset": view.source_dataset,
        "version": version.version,
        "rows": version.row_count,
        "added": int(added[0]) if added else 0,
        "parts": len(pending),
        "checks": checked.get((view.source_dataset, version.version)),  # None: none declared
    }


def _escape(path: Path) -> str:
    return str(path).replace("'", "''")

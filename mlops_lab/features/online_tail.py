"""The embedded online store's streamed events: read from the view's ledger as committed.

A stream consumer does not write its events into ``online.duckdb``: DuckDB lets one
process at a time open the file, and a model server reading it while a consumer writes
many times a second would hand it back and forth, each handover a checkpoint and a
reopen. It writes them into its ledger (``.mlops_lab/streams/<view>/ledger.sqlite``,
table ``online_batches_v<version>``: one row per applied batch, its events as an Arrow
IPC stream), in the transaction that records their offline part (see :mod:`stream_log`),
and readers tail that table: SQLite in WAL mode has one writer and any number of readers
in other processes, none waiting. A reader reads and decodes each batch once, into its
columnar index (online_index.py), so following a fast stream costs it little.

A reader's index of a window view version is therefore the events materialized into
``online.duckdb`` plus the tail's events, added as they come (see
:meth:`EmbeddedOnlineStore._event_index`). The two never hold the same event: a stream
writes online only events after the store's horizon, and a materialization reads the
streamed parts only at or before it (events a prune dropped, see stream_apply.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from mlops_lab.features.stream_online_rows import CUTOFFS, decode_events, online_table

__all__ = ["StreamTail"]


class StreamTail:
    """One streamed view's ledger, read-only: its online batches as Arrow tables, and
    whether anything changed since last asked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con: sqlite3.Connection | None = None
        self._seen: int | None = None  # PRAGMA data_version when last read

    def _connection(self) -> sqlite3.Connection | None:
        if self._con is None:
            if not self.path.exists():
                return None
            self._con = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, timeout=30, check_same_thread=False
            )
        return self._con

    def changed(self) -> bool:
        """Whether another connection committed since the last call (cheap)."""
        con = self._connection()
        if con is None:
            return False
        version = con.execute("PRAGMA data_version").fetchone()[0]
        changed = version != self._seen
        self._seen = version
        return bool(changed)

    def _cutoff(self, con: sqlite3.Connection, version: int) -> int | None:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (CUTOFFS,)).fetchone():
            return None
        row = con.execute(
            f"SELECT cutoff_us FROM {CUTOFFS} WHERE version = ?", (version,)
        ).fetchone()
        return None if row is None else int(row[0])

    def events(
        self, version: int, held: Sequence[str], *, after: int = 0
    ) -> tuple[int, pa.Table | None]:
        """The version's events in batches after id ``after`` (columns ``k``, ``us``,
        ``seq`` and ``held``; none at or before the cutoff), and the last batch's id."""
        con = self._connection()
        if con is None:
            return after, None
        table = online_table(version)
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
            return after, None
        added = con.execute(
            f'SELECT id, events FROM "{table}" WHERE id > ? ORDER BY id', (after,)
        ).fetchall()
        cutoff = self._cutoff(con, version)  # after the batches: a prune since only raises it
        last = added[-1][0] if added else after
        return last, _combine([decode_events(blob) for _, blob in added], held, cutoff)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def _combine(
    tables: Sequence[pa.Table], held: Sequence[str], cutoff: int | None
) -> pa.Table | None:
    """Batches as one table of ``k``, ``us``, ``seq`` and ``held`` (a column a batch lacks
    is null), without the events at or before ``cutoff``."""
    if not tables:
        return None
    shaped = []
    for table in tables:
        columns = {name: table.column(name) for name in ("k", "us", "seq")}
        for name in held:
            columns[name] = (
                table.column(name)
                if name in table.column_names
                else pa.nulls(table.num_rows, pa.null())
            )
        shaped.append(pa.table(columns))
    combined = pa.concat_tables(shaped, promote_options="permissive")
    if cutoff is not None:
        combined = combined.filter(pc.greater(combined.column("us"), cutoff))
    return combined if combined.num_rows else None

"""The embedded online store's streamed events: read from the view's ledger as committed.

A stream consumer does not write its events into ``online.duckdb``: DuckDB lets one
process at a time open the file, and a model server reading it while a consumer writes
many times a second would hand it back and forth, each handover a checkpoint and a
reopen. It writes them into its ledger (``.mlops_lab/streams/<view>/ledger.sqlite``,
table ``online_v<version>``), in the transaction that records their offline part (see
:mod:`stream_log`), and readers tail that table: SQLite in WAL mode has one writer and
any number of readers in other processes, none waiting.

A reader's index of a window view version is therefore the events materialized into
``online.duckdb`` plus the tail's rows, merged as they come (see
:meth:`EmbeddedOnlineStore._event_index`). The two never hold the same event: a stream
writes online only events after the store's horizon, and a materialization reads the
streamed parts only at or before it (events a prune dropped, see stream_apply.py).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlops_lab.features.online_base import EntityEvents
from mlops_lab.features.stream_log import online_table

__all__ = ["StreamTail", "group_rows"]

Row = tuple[Any, ...]  # (id, k, us, seq, *held values)


class StreamTail:
    """One streamed view's ledger, read-only, and what changed in it since last asked."""

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

    def rows(
        self, version: int, held: Sequence[str], *, after: int = 0, key: str | None = None
    ) -> list[Row]:
        """The version's rows after id ``after`` (of one entity key's JSON, if given)."""
        con = self._connection()
        if con is None:
            return []
        table = online_table(version)
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
            return []
        columns = "".join(f', "{c}"' for c in held)
        where = "id > ?"
        params: list[Any] = [after]
        if key is not None:
            where += " AND k = ?"
            params.append(key)
        return con.execute(
            f'SELECT id, k, us, seq{columns} FROM "{table}" WHERE {where} ORDER BY id', params
        ).fetchall()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def group_rows(rows: Sequence[Row], held: Sequence[str]) -> dict[tuple[Any, ...], EntityEvents]:
    """Rows -> per entity key, per held column, its events in (time, ``__seq``) order."""
    by_key: dict[str, list[Row]] = {}
    for row in rows:
        by_key.setdefault(row[1], []).append(row)
    out: dict[tuple[Any, ...], EntityEvents] = {}
    for name, found in by_key.items():
        found.sort(key=lambda r: (r[2], r[3]))
        events: EntityEvents = {}
        for j, column in enumerate(held, start=4):
            kept = [(r[2], r[j]) for r in found if r[j] is not None]
            events[column] = ([t for t, _ in kept], [v for _, v in kept])
        out[tuple(json.loads(name))] = events
    return out

"""The embedded online store's rows in a streamed view's ledger (``ledger.sqlite``).

Each applied batch's new events, for the view version the writer serves, are one row of
``online_batches_v<version>``: their entity keys (compact JSON), event times (microseconds),
``__seq`` and the columns the view aggregates, as an Arrow IPC stream. They are written in
the same SQLite transaction as the batch's offline part (:mod:`stream_log`), so both stores
hold a batch or neither does; :mod:`online_tail` reads them back for window reads.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "CUTOFFS",
    "OnlineRows",
    "convert_row_tables",
    "decode_events",
    "encode_events",
    "insert_online",
    "key_text",
    "online_table",
]


@dataclass(frozen=True, kw_only=True)
class OnlineRows:
    """The embedded online store's copy of a batch (see online_tail.py): the view
    version's events (join keys, the held columns, ``event_timestamp``, ``__seq``), of
    which those with new ids are written in the part's own transaction."""

    version: int
    keys: list[str]
    held: list[str]
    events: pa.Table  # with ``__key``: the key values as compact JSON (see key_text)


def key_text(key: tuple[object, ...]) -> str:
    """An entity key as the tail stores it: compact JSON, as DuckDB's ``json_array`` writes."""
    return json.dumps(list(key), separators=(",", ":"), ensure_ascii=False, default=str)


def online_table(version: int) -> str:
    """The ledger's table of a view version's online rows: one row per applied batch."""
    return f"online_batches_v{int(version)}"


CUTOFFS = "online_cutoffs"  # per view version: events at or before it were pruned


def insert_online(con: sqlite3.Connection, online: OnlineRows, fresh: np.ndarray | None) -> None:
    """The events of ``online.events`` whose ``__seq`` is in ``fresh`` (None: all of them),
    as one row: their
    key (JSON), time (microseconds), ``__seq`` and held columns as an Arrow IPC stream
    (see :func:`encode_events`), with the batch's first and last event time."""
    events = online.events
    if events.num_rows == 0:
        return
    if fresh is not None:
        keep = np.isin(events.column("__seq").to_numpy(), fresh)
        if not keep.all():
            events = events.filter(pa.array(keep))
    if events.num_rows == 0:
        return
    stamps = pc.cast(events.column("event_timestamp"), pa.timestamp("us", tz="UTC"))
    micros = pc.cast(stamps, pa.int64())
    batch = pa.table(
        {
            "k": events.column("__key"),
            "us": micros,
            "seq": events.column("__seq"),
            **{c: events.column(c) for c in online.held},
        }
    )
    insert_blob(con, online.version, batch)


def insert_blob(con: sqlite3.Connection, version: int, batch: pa.Table) -> None:
    span = pc.min_max(batch.column("us")).as_py()
    con.execute(
        f'CREATE TABLE IF NOT EXISTS "{online_table(version)}" (id INTEGER PRIMARY KEY '
        "AUTOINCREMENT, rows INTEGER NOT NULL, min_us INTEGER NOT NULL, max_us INTEGER NOT "
        "NULL, events BLOB NOT NULL)"
    )
    con.execute(
        f'INSERT INTO "{online_table(version)}" (rows, min_us, max_us, events) VALUES (?, ?, ?, ?)',
        (batch.num_rows, span["min"], span["max"], encode_events(batch)),
    )


_IPC = pa.ipc.IpcWriteOptions(compression="lz4" if pa.Codec.is_available("lz4") else None)


def encode_events(table: pa.Table) -> bytes:
    """A batch of online rows as an Arrow IPC stream (LZ4-compressed where pyarrow can)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=_IPC) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def decode_events(blob: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(blob)).read_all()


def convert_row_tables(con: sqlite3.Connection) -> None:
    """Ledgers written before the online rows went in batches (one SQLite row per event,
    table ``online_v<n>``): their rows become one batch row each, the old table goes."""
    names = [
        r[0]
        for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'online_v[0-9]*'"
        )
    ]
    for name in names:
        version = int(name.removeprefix("online_v"))
        cursor = con.execute(f'SELECT k, us, seq, * FROM "{name}" ORDER BY id')
        columns = [d[0] for d in cursor.description or []]
        held = [c for c in columns[3:] if c not in ("id", "k", "us", "seq")]
        rows = cursor.fetchall()
        if rows:
            at = {c: i for i, c in enumerate(columns) if i >= 3}
            batch = pa.table(
                {
                    "k": pa.array([r[0] for r in rows], pa.string()),
                    "us": pa.array([r[1] for r in rows], pa.int64()),
                    "seq": pa.array([r[2] for r in rows], pa.int64()),
                    **{c: pa.array([r[at[c]] for r in rows]) for c in held},
                }
            )
            insert_blob(con, version, batch)
        con.execute(f'DROP TABLE "{name}"')

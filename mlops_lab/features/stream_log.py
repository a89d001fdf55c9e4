"""The offline side of a streamed feature view: Parquet parts, and which ids they hold.

Under ``.mlops_lab/streams/<view>/``:

- ``parts/part-<n>.parquet``: the events of one applied batch that were new, with the
  source dataset's columns, ``__event_id``, ``__seq`` and ``__ingested_at``;
- ``ledger.sqlite``: every part written, with the dataset version it was later flushed
  into. SQLite (WAL) because several ingest processes share it: one writes at a time,
  readers never wait.

Which ids were applied is the union of the parts' ``__seq`` columns. Each writer keeps
them in memory as sorted arrays (:class:`SeqIndex`, 8 bytes an event), loaded from the
parts when it starts and brought up to date with the parts other writers added since,
each time it takes the write lock.

Appending a batch (:meth:`StreamLog.append`), in one SQLite write transaction: catch up
with the parts written since, drop the batch's ids already applied, write the new events
to a temporary file, record the part, commit, then rename the file into place. A process
killed before the commit leaves nothing (its temporary file is removed by the next
writer); one killed between the commit and the rename leaves a recorded part whose
temporary file the next writer renames (:meth:`StreamLog.recover`). So each id is in
exactly one part.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = [
    "CUTOFFS",
    "AppendResult",
    "OnlineRows",
    "SeqIndex",
    "StreamLog",
    "decode_events",
    "encode_events",
    "key_text",
    "online_table",
    "parts_of",
]

_BUSY_TIMEOUT_S = 30.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS parts (
    n            INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    tmp          TEXT NOT NULL,
    rows         INTEGER NOT NULL,
    first_event  TEXT,
    last_event   TEXT,
    written_at   REAL NOT NULL,
    flushed_into INTEGER
);
"""


class SeqIndex:
    """A set of 64-bit ids as a few sorted arrays (merged like an LSM tree's levels): 8
    bytes an id, membership of a batch by binary search."""

    def __init__(self) -> None:
        self.levels: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(level) for level in self.levels)

    def add(self, seqs: np.ndarray) -> None:
        if len(seqs) == 0:
            return
        self.levels.append(np.sort(seqs))
        while len(self.levels) > 1 and len(self.levels[-1]) * 2 >= len(self.levels[-2]):
            top = self.levels.pop()
            self.levels[-1] = np.sort(np.concatenate([self.levels[-1], top]), kind="stable")

    def contains(self, seqs: np.ndarray) -> np.ndarray:
        found = np.zeros(len(seqs), dtype=bool)
        for level in self.levels:
            at = np.searchsorted(level, seqs)
            inside = at < len(level)
            found[inside] |= level[at[inside]] == seqs[inside]
        return found


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


@dataclass(frozen=True, kw_only=True)
class AppendResult:
    new: int  # events written (their ids were not in the ledger)
    repeated: int  # events whose id was already applied
    part: str | None  # the part written (None: nothing new)


class StreamLog:
    """One streamed view's parts and ledger (see the module doc)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.parts_dir = folder / "parts"
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        self.path = folder / "ledger.sqlite"
        with self._connect() as con:
            con.executescript(_SCHEMA)
            con.execute("BEGIN IMMEDIATE")
            try:
                _convert_row_tables(con)
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                raise
        self._recovered = False
        self._index = SeqIndex()
        self._seen_part = 0  # the last part whose ids are in the index

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            yield con
        finally:
            con.close()

    def recover(self, con: sqlite3.Connection) -> None:
        """Within a write transaction: finish the renames of committed parts, remove the
        temporary files of batches that never committed."""
        recorded = {}
        for name, tmp in con.execute("SELECT name, tmp FROM parts"):
            recorded[tmp] = name
            final = self.parts_dir / name
            if not final.exists() and (self.parts_dir / tmp).exists():
                os.replace(self.parts_dir / tmp, final)
        for leftover in self.parts_dir.glob("*.tmp"):
            if leftover.name not in recorded:
                leftover.unlink(missing_ok=True)

    def _catch_up(self, con: sqlite3.Connection) -> None:
        """Add the ids of the parts recorded since the last look (by any writer)."""
        rows = con.execute(
            "SELECT n, name, tmp FROM parts WHERE n > ? ORDER BY n", (self._seen_part,)
        ).fetchall()
        for n, name, tmp in rows:
            path = self.parts_dir / name
            if not path.exists():  # committed, not yet renamed by its writer
                path = self.parts_dir / tmp
            seqs = pq.read_table(path, columns=["__seq"]).column(0).to_numpy()
            self._index.add(seqs.astype(np.int64, copy=False))
            self._seen_part = n

    def append(self, table: pa.Table, online: OnlineRows | None = None) -> AppendResult:
        """Write the events of ``table`` (with ``__seq``) whose ids are new (module doc),
        and of ``online`` the same ones, in the same transaction."""
        if table.num_rows == 0:
            return AppendResult(new=0, repeated=0, part=None)
        seqs = table.column("__seq").to_numpy().astype(np.int64, copy=False)
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                if not self._recovered:
                    self.recover(con)
                    self._recovered = True
                self._catch_up(con)
                old = self._index.contains(seqs)
                fresh = int(len(seqs) - old.sum())
                if not fresh:
                    con.execute("COMMIT")
                    return AppendResult(new=0, repeated=len(seqs), part=None)
                if fresh < len(seqs):
                    table = table.filter(pa.array(~old))
                stamp = time.time()
                tmp = f"{uuid.uuid4().hex}.tmp"
                written = table.append_column(
                    "__ingested_at",
                    pa.array([int(stamp * 1e6)] * table.num_rows, pa.timestamp("us", tz="UTC")),
                )
                pq.write_table(written, self.parts_dir / tmp)
                cursor = con.execute(
                    "INSERT INTO parts (name, tmp, rows, written_at) VALUES (?, ?, ?, ?) "
                    "RETURNING n",
                    (tmp + ".pending", tmp, written.num_rows, stamp),
                )
                number = cursor.fetchone()[0]
                name = f"part-{number:09d}.parquet"
                con.execute("UPDATE parts SET name = ? WHERE n = ?", (name, number))
                if online is not None:
                    _insert_online(con, online, seqs[~old])
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                raise
        self._index.add(seqs[~old])
        self._seen_part = number
        with contextlib.suppress(FileNotFoundError):  # a recovering writer may have done it
            os.replace(self.parts_dir / tmp, self.parts_dir / name)
        return AppendResult(new=fresh, repeated=len(seqs) - fresh, part=name)

    def prune_online(self, version: int, cutoff_us: int) -> int:
        """Drop the embedded online store's events at or before ``cutoff_us`` (how many):
        the batch rows whose events all are, those events of the others; the cutoff is
        recorded, so readers skip such events in the batches they decoded before."""
        table = online_table(version)
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                con.execute(
                    f"CREATE TABLE IF NOT EXISTS {CUTOFFS} (version INTEGER PRIMARY KEY, "
                    "cutoff_us INTEGER NOT NULL)"
                )
                con.execute(
                    f"INSERT INTO {CUTOFFS} VALUES (?, ?) ON CONFLICT (version) DO UPDATE "
                    "SET cutoff_us = max(cutoff_us, excluded.cutoff_us)",
                    (version, cutoff_us),
                )
                dropped = 0
                if con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
                    row = con.execute(
                        f'SELECT coalesce(sum(rows), 0) FROM "{table}" WHERE max_us <= ?',
                        (cutoff_us,),
                    ).fetchone()
                    con.execute(f'DELETE FROM "{table}" WHERE max_us <= ?', (cutoff_us,))
                    dropped = int(row[0])
                    straddling = con.execute(  # some events before the cutoff, some after
                        f'SELECT id, events FROM "{table}" WHERE min_us <= ?', (cutoff_us,)
                    ).fetchall()
                    for number, blob in straddling:
                        events = decode_events(blob)
                        kept = events.filter(pc.greater(events.column("us"), cutoff_us))
                        dropped += events.num_rows - kept.num_rows
                        con.execute(
                            f'UPDATE "{table}" SET rows = ?, min_us = ?, events = ? WHERE id = ?',
                            (
                                kept.num_rows,
                                pc.min(kept.column("us")).as_py(),
                                encode_events(kept),
                                number,
                            ),
                        )
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                raise
        return dropped

    def unflushed(self) -> list[tuple[int, Path]]:
        with self._connect() as con:
            rows = con.execute(
                "SELECT n, name FROM parts WHERE flushed_into IS NULL ORDER BY n"
            ).fetchall()
        return [(n, self.parts_dir / name) for n, name in rows]

    def mark_flushed(self, numbers: list[int], version: int) -> None:
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            con.executemany(
                "UPDATE parts SET flushed_into = ? WHERE n = ? AND flushed_into IS NULL",
                [(version, n) for n in numbers],
            )
            con.execute("COMMIT")

    def counts(self) -> dict[str, int]:
        with self._connect() as con:
            ids, parts, unflushed = con.execute(
                "SELECT coalesce(sum(rows), 0), count(*), "
                "count(*) FILTER (WHERE flushed_into IS NULL) FROM parts"
            ).fetchone()
        return {"events": int(ids), "parts": int(parts), "unflushed_parts": int(unflushed)}


def _insert_online(con: sqlite3.Connection, online: OnlineRows, fresh: np.ndarray) -> None:
    """The events of ``online.events`` whose ``__seq`` is in ``fresh``, as one row: their
    key (JSON), time (microseconds), ``__seq`` and held columns as an Arrow IPC stream
    (see :func:`encode_events`), with the batch's first and last event time."""
    events = online.events
    if events.num_rows == 0:
        return
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
    _insert_blob(con, online.version, batch)


def _insert_blob(con: sqlite3.Connection, version: int, batch: pa.Table) -> None:
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


def _convert_row_tables(con: sqlite3.Connection) -> None:
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
            _insert_blob(con, version, batch)
        con.execute(f'DROP TABLE "{name}"')


def parts_of(folder: Path, *, after_version: int | None = None) -> list[Path]:
    """The parts of the streamed view at ``folder`` not yet in its source dataset's version
    ``after_version`` (all parts not flushed into a version up to it), oldest first; only
    those in place. Read-only: readers (training frames) never wait for a writer."""
    path = folder / "ledger.sqlite"
    if not path.exists():
        return []
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_S)
    try:
        query, params = "SELECT name FROM parts", []
        if after_version is not None:
            query += " WHERE flushed_into IS NULL OR flushed_into > ?"
            params.append(after_version)
        rows = con.execute(query + " ORDER BY n", params).fetchall()
    except sqlite3.OperationalError:  # a ledger whose tables are being made: no parts yet
        return []
    finally:
        con.close()
    paths = [folder / "parts" / r[0] for r in rows]
    return [p for p in paths if p.exists()]

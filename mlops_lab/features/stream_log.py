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
import os
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mlops_lab.features.stream_online_rows import (
    CUTOFFS,
    OnlineRows,
    convert_row_tables,
    decode_events,
    encode_events,
    insert_online,
    online_table,
)
from mlops_lab.features.stream_parts import BUSY_TIMEOUT_S, read_seqs, span_of

__all__ = ["AppendResult", "SeqIndex", "StreamLog"]

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


_INHERITED: list[sqlite3.Connection] = []  # a forked child's copies of its parent's connections
_LOGS: weakref.WeakSet[StreamLog] = weakref.WeakSet()  # with connections kept open


def _after_fork_in_child() -> None:
    """The parent's ledger connections are never closed here (SQLite: a connection must not
    cross a fork; closing it could checkpoint the parent's WAL): kept, and forgotten."""
    for log in list(_LOGS):
        _INHERITED.extend(con for con, _ in log._open)
        log._open = []
        log._local = threading.local()
        log._guard = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


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
        self._local = threading.local()
        self._open: list[tuple[sqlite3.Connection, int]] = []  # and the pid that opened it
        self._guard = threading.Lock()
        with self._connect() as con:
            con.executescript(_SCHEMA)
            con.execute("BEGIN IMMEDIATE")
            try:
                convert_row_tables(con)
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
        """This thread's connection to the ledger, kept open between calls (closing the last
        one checkpoints the WAL, an fsync each batch); one that failed is dropped and the
        next call opens another. A forked child opens its own, never touching the parent's."""
        mine = getattr(self._local, "con", None)
        if mine is None or mine[1] != os.getpid():
            if mine is not None:
                _INHERITED.append(mine[0])  # the parent's: closing it would checkpoint
            con = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            try:
                con.execute("PRAGMA journal_mode=WAL")
                con.execute("PRAGMA synchronous=NORMAL")
            except BaseException:
                con.close()
                raise
            mine = self._local.con = (con, os.getpid())
            with self._guard:
                self._open.append(mine)
            _LOGS.add(self)
        try:
            yield mine[0]
        except sqlite3.Error:
            self._local.con = None
            self._close(mine)
            raise

    def _close(self, mine: tuple[sqlite3.Connection, int]) -> None:
        with self._guard:
            if mine in self._open:
                self._open.remove(mine)
        with contextlib.suppress(sqlite3.Error):
            mine[0].close()

    def close(self) -> None:
        """Close this process's ledger connections, of every thread (the next call opens
        one again); a forked child leaves its parent's alone."""
        with self._guard:
            held, self._open = self._open, []
        for con, pid in held:
            if pid != os.getpid():
                _INHERITED.append(con)
                continue
            with contextlib.suppress(sqlite3.Error):
                con.close()
        self._local = threading.local()

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
        if not rows:
            return
        paths = []
        for _, name, tmp in rows:
            path = self.parts_dir / name
            if not path.exists():  # committed, not yet renamed by its writer
                path = self.parts_dir / tmp
            paths.append(path)
        self._index.add(read_seqs(paths))  # one sort, not one merge a part
        self._seen_part = rows[-1][0]

    def append(
        self, table: pa.Table, online: OnlineRows | None = None, *, timestamp: str | None = None
    ) -> AppendResult:
        """Write the events of ``table`` (with ``__seq``) whose ids are new (module doc),
        and of ``online`` the same ones, in the same transaction; ``timestamp``: the event
        time column, whose first and last time the ledger keeps (see
        :func:`stream_parts.parts_of`)."""
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
                # No dictionaries: a part is short-lived (a flush rewrites its events into a
                # dataset version) and ids are unique; half the time, a smaller file.
                pq.write_table(written, self.parts_dir / tmp, use_dictionary=False)
                first, last = span_of(table, timestamp)
                cursor = con.execute(
                    "INSERT INTO parts (name, tmp, rows, written_at, first_event, last_event) "
                    "VALUES (?, ?, ?, ?, ?, ?) RETURNING n",
                    (tmp + ".pending", tmp, written.num_rows, stamp, first, last),
                )
                number = cursor.fetchone()[0]
                name = f"part-{number:09d}.parquet"
                con.execute("UPDATE parts SET name = ? WHERE n = ?", (name, number))
                if online is not None:
                    insert_online(con, online, None if fresh == len(seqs) else seqs[~old])
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

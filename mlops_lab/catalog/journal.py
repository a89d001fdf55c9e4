"""The catalog journal: small writes made durable without a DuckDB statement on the way.

DuckDB answers a small statement in ~0.3 ms of CPU here and a commit in
more, so a registration (five statements and a commit) cost several
milliseconds. A journaled write instead appends its statements, as one JSON
line, to ``<catalog>.journal`` and ``fdatasync``s it (~0.3 ms); the
statements run later, in one transaction for many writes, before anyone
reads the catalog: before every other session's work, before this process
hands the file to another one, and by the next process to take the file if
this one died first. So every reader sees every acknowledged write.

Rules that keep that safe:

* The journal is only touched by the process holding the catalog's lease
  (its ``flock``), so its records apply in the order they were written.
* A journaled write's statements must not fail when applied: they insert
  rows whose keys the writer checked (:class:`Memo` keeps what it read and
  wrote while the lease is held, so no other process could have changed it)
  or use ``ON CONFLICT``/``NOT EXISTS``. Times are bound as values, never
  ``now()`` at apply time.
* Each record has an id; the transaction that applies records also stores
  their ids, so a crash between that commit and emptying the journal does
  not apply them twice.
* A record that still fails is moved to ``<catalog>.journal.rejected`` with
  its error (and logged), so one bad record cannot block the catalog.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb

__all__ = ["Journal", "Memo", "Recorder"]

log = logging.getLogger("mlops_lab.catalog")

T = TypeVar("T")

Statement = tuple[str, list[Any]]

_APPLIED_TABLE = "CREATE TABLE IF NOT EXISTS journal_applied (id VARCHAR PRIMARY KEY)"


class Recorder:
    """Stands in for a connection while a journaled write is planned: records its statements.

    Writers written against ``con.execute(sql, params)`` run unchanged; a
    read through it is a programming error (reads go through :class:`Memo`).
    """

    def __init__(self) -> None:
        self.statements: list[Statement] = []

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Recorder:
        self.statements.append((sql, [_plain(value) for value in params or []]))
        return self

    def fetchall(self) -> list[Any]:
        raise TypeError("a journaled write cannot read through its recorder; use the memo")

    fetchone = fetchall


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()  # numpy scalars
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class Memo:
    """What a lease holder read from the catalog and wrote through the journal since.

    Valid exactly while this process holds the lease without a gap: no other
    process can write meanwhile. Cleared when the lease is given back and
    after any ordinary write transaction of this process.
    """

    def __init__(self, load: Callable[[Callable[[duckdb.DuckDBPyConnection], Any]], Any]) -> None:
        self._values: dict[Any, Any] = {}
        self._load = load

    def get(self, key: Any, read: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """The value for ``key``, read from the catalog (journal applied first) the first time."""
        if key not in self._values:
            self._values[key] = self._load(read)
        return self._values[key]  # type: ignore[no-any-return]

    def read(self, read: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``read`` on the catalog (journal applied first) without keeping its result."""
        return self._load(read)  # type: ignore[no-any-return]

    def set(self, key: Any, value: Any) -> None:
        self._values[key] = value

    def clear(self) -> None:
        self._values.clear()


class Journal:
    """``<catalog>.journal``: JSON lines of statements, appended and applied under the lease."""

    def __init__(self, catalog_path: Path) -> None:
        self.path = Path(f"{catalog_path}.journal")
        self.rejected = Path(f"{catalog_path}.journal.rejected")
        self._fd: int | None = None

    def _file(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o666)
        return self._fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def forget(self) -> None:
        """In a forked child: drop the descriptor without touching the file."""
        self.close()

    def pending(self) -> bool:
        if self._fd is not None:
            return os.fstat(self._fd).st_size > 0
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def append(self, statements: list[Statement]) -> None:
        """Make ``statements`` durable: one line, written whole and synced, or nothing."""
        line = (
            json.dumps({"id": uuid.uuid4().hex, "s": statements}, separators=(",", ":")) + "\n"
        ).encode()
        fd = self._file()
        size = os.fstat(fd).st_size
        try:
            written = os.write(fd, line)
            if written != len(line):
                raise OSError(28, "No space left on device (short write to the catalog journal)")
            os.fdatasync(fd)
        except BaseException:
            os.ftruncate(fd, size)  # never leave half a record behind
            raise

    def _records(self) -> list[dict[str, Any]]:
        fd = self._file()
        size = os.fstat(fd).st_size
        data = os.pread(fd, size, 0) if size else b""
        records = []
        for line in data.split(b"\n"):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError:
                # Only the last line can be torn (a writer killed mid-append): it was never
                # acknowledged, so dropping it loses nothing.
                log.warning("catalog journal %s: dropped an incomplete record", self.path)
        return records

    def apply(self, con: duckdb.DuckDBPyConnection) -> int:
        """Run every pending record in one transaction (one per record if that fails); empty it."""
        records = self._records()
        if records:
            every = [r["id"] for r in records]
            try:
                _run(con, records, every)
            except duckdb.TransactionException:
                raise
            except duckdb.Error as exc:
                if not _record_error(exc):
                    raise  # IO, disk full, damage: keep the journal for the next try
                for record in records:
                    try:
                        _run(con, [record], every)
                    except duckdb.Error as error:
                        if not _record_error(error):
                            raise
                        self._reject(record, error)
        os.ftruncate(self._file(), 0)
        return len(records)

    def _reject(self, record: dict[str, Any], error: Exception) -> None:
        log.error(
            "catalog journal %s: record %s could not be applied (%s); kept in %s",
            self.path,
            record.get("id"),
            error,
            self.rejected,
        )
        with self.rejected.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"error": str(error), "record": record}) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def _record_error(exc: BaseException) -> bool:
    """A failure caused by the record itself (not by the file or the machine)."""
    return not isinstance(
        exc, duckdb.OperationalError | duckdb.FatalException | duckdb.InternalError
    )


def _run(con: duckdb.DuckDBPyConnection, records: list[dict[str, Any]], every: list[str]) -> None:
    """Apply ``records`` (skipping those already applied) and remember their ids.

    Ids of records no longer in the journal (``every``) are forgotten.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(_APPLIED_TABLE)
        ids = [r["id"] for r in records]
        done = {
            row[0]
            for row in con.execute(
                "SELECT id FROM journal_applied WHERE id IN (SELECT unnest(?::VARCHAR[]))", [ids]
            ).fetchall()
        }
        for record in records:
            if record["id"] in done:
                continue
            for sql, params in record["s"]:
                con.execute(sql, params)
        con.execute(
            "DELETE FROM journal_applied WHERE id NOT IN (SELECT unnest(?::VARCHAR[]))", [every]
        )
        con.execute(
            "INSERT INTO journal_applied SELECT unnest(?::VARCHAR[]) ON CONFLICT DO NOTHING", [ids]
        )
        con.execute("COMMIT")
    except BaseException:
        with suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
